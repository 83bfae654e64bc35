import NestedSVM
import Testing

@Suite struct HostFactsTests {
    @Test("--host parses flags and numbers and cites its source")
    func parse() throws {
        let host = try HostFacts(parsing: "svme_addr_chk=0,vgif=1,npt=y,nrips=false,decode_assists=0,maxphyaddr=48")
        #expect(host.svmeAddrChk == Known(false, source: "--host"))
        #expect(host.vgif?.value == true && host.npt?.value == true && host.nrips?.value == false)
        #expect(host.decodeAssists?.value == false && host.maxPhysAddr?.value == 48)
        #expect(host.vls == nil)
    }

    @Test("bad --host items are rejected with a one-line reason",
          arguments: ["svme_addr_chk", "vgif=2", "maxphyaddr=0", "maxphyaddr=x", "bogus=1", "=1"])
    func rejects(text: String) {
        #expect(throws: HostFacts.ParseError.self) { try HostFacts(parsing: text) }
    }

    @Test("explicit facts override the scenario's, key by key")
    func override() throws {
        let scenario = try HostFacts(parsing: "svme_addr_chk=1,vgif=1", source: "scenario")
        let merged = scenario.overridden(by: try HostFacts(parsing: "svme_addr_chk=0"))
        #expect(merged.svmeAddrChk == Known(false, source: "--host"))
        #expect(merged.vgif == Known(true, source: "scenario"))
    }
}
