import Foundation
@testable import NestedSVM
import Testing

/// `Fact` is data with one text form, the documented id: every typed fact parses back to
/// itself, a text that is not exactly a typed fact's id stays a distinct `named` fact, and
/// JSON writes facts as their ids.
@Suite struct FactTests {
    static let typed: [Fact] = Fact.plainCases + GuestLevel.allCases.flatMap { level in
        [Fact.eferSVME(level), .paging(level), .svmEnabled(level), .cpl0(level), .rflagsIF(level)]
    } + [
        .vmrunCheck("efer-svme"), .vmrunCheck("apm-cr0-cd-nw"), .intercept(bit: 0), .intercept(bit: 191),
        .msrpm(msr: 0xc000_0080, write: true), .msrpm(msr: 0x10, write: false), .msrpm(msr: nil, write: true),
        .l0RejectsMSR(0x3a), .l0RejectsMSR(nil), .iopm(port: 0x3f8), .iopmAny(first: 0x60, last: 0x64),
        .instruction("vmrun"), .instruction("vmmcall"), .l0InterceptsException(13),
    ] + GuestFeature.allCases.map { .guestCPUID($0) }

    @Test("every typed fact's id parses back to the same fact")
    func roundTrip() {
        for fact in Self.typed {
            #expect(Fact(parsing: fact.description) == fact, "\(fact)")
            if case .named = fact { Issue.record("\(fact) should be typed") }
        }
        #expect(Set(Self.typed.map(\.description)).count == Self.typed.count, "two facts share an id")
    }

    @Test("the ids are the documented ones")
    func ids() {
        #expect(FactID.msrpm(0xc000_0080, write: true).description == "msrpm[0xc0000080].write")
        #expect(FactID.msrpm(nil, write: false).description == "msrpm[ecx].read")
        #expect(FactID.intercept(16).description == "vmcb12.intercept[16]")
        #expect(FactID.iopm(0x3f8).description == "iopm[0x3f8]")
        #expect(FactID.iopmAny(0x60, 0x64).description == "iopm[0x60-0x64].any")
        #expect(FactID.svmEnabled(.l2).description == "l2.svm-enabled")
        #expect(FactID.instruction("VMLOAD") == .instruction("vmload"))
        #expect(FactID.l0InterceptsException(13).description == "l0.intercepts-exception[13]")
        #expect(FactID.guestCPUID(.invpcid).description == "guest.cpuid.invpcid")
    }

    @Test("a text that is not exactly a typed id stays its own fact")
    func nonCanonical() {
        // Accepted by a scenario (the id's shape is known) but not the spelling the model uses.
        #expect(Fact(parsing: "vmcb12.intercept[0x10]") == .named("vmcb12.intercept[0x10]"))
        #expect(Fact(parsing: "vmcb12.intercept[0x10]") != FactID.intercept(16))
        #expect(Fact(parsing: "msrpm[0xC0000080].write") == .named("msrpm[0xC0000080].write"))
        #expect(Fact(parsing: "insn.own-exception") == .ownException)
        #expect(Fact(parsing: "vmcb12.np.enable") == .named("vmcb12.np.enable"))
        #expect(FactID.of(field: "vmcb12 NP_ENABLE") == .named("vmcb12.np_enable"))
        #expect(FactID.of(field: "msrpm[0x10].read") == .msrpm(msr: 0x10, write: false))
    }

    @Test("init(id:) accepts the ids a scenario may give and nothing else")
    func known() {
        #expect(Fact(id: "rax.legal-page") == .raxLegalPage)
        #expect(Fact(id: "msrpm[ecx].write") == .msrpm(msr: nil, write: true))
        #expect(Fact(id: "rax.legal_page") == nil)
        #expect(Fact(id: "vmcb12.intercept[192]") == nil)
        #expect(Fact(id: "cpu.skinit") == nil, "an architectural-only fork is not a scenario fact")
    }

    @Test("JSON writes facts and fact-keyed objects as ids, keys sorted by id")
    func json() throws {
        let facts: [Fact: Bool] = [.intercept(bit: 16): true, .raxLegalPage: false, .msrpm(msr: 0x10, write: true): true]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let text = String(decoding: try encoder.encode(facts), as: UTF8.self)
        #expect(text == #"{"msrpm[0x10].write":true,"rax.legal-page":false,"vmcb12.intercept[16]":true}"#)
        #expect(try JSONDecoder().decode([Fact: Bool].self, from: Data(text.utf8)) == facts)
        #expect(String(decoding: try encoder.encode([Fact.hsaveSet]), as: UTF8.self) == #"["l1.hsave-set"]"#)
        #expect(facts.keys.sorted().map(\.description) == facts.keys.map(\.description).sorted())
    }
}

/// Typed provenance renders the very words the code used to write by hand.
@Suite struct ProvenanceTextTests {
    @Test("host inference and manifest keys render as before")
    func texts() {
        #expect(Provenance.hostInference(.gpDecoded(exitLine: 3, line: 5)).text == "L0 decoded the #GP of the exit at line 3 (line 5): it intercepts #GP")
        #expect(Provenance.hostInference(.skipDecoded(line: 7)).text == "KVM decoded the instruction to skip it (line 7)")
        #expect(Provenance.hostInference(.crEmulated(line: 8)).text == "CR access emulated without decode assists (line 8)")
        #expect(Provenance.hostInference(.gpExitInL1(line: 9)).text == "GP excp exit while L1 ran (line 9): L0 intercepts #GP")
        #expect(Provenance.hostInference(.gifExit(stgi: true, line: 10)).text == "stgi exit at line 10: L0 intercepts STGI/CLGI")
        #expect(Provenance.hostInference(.gifExit(stgi: false, line: 10)).text == "clgi exit at line 10: L0 intercepts STGI/CLGI")
        #expect(Provenance.hostInference(.npfInL1(line: 11)).text == "npf exit while L1 ran (line 11)")
        #expect(Provenance.hostInference(.pfInL1(line: 12)).text == "PF excp exit while L1 ran (line 12): shadow paging")
        #expect(Provenance.manifest(key: "l0.svme_addr_chk").text == "manifest l0.svme_addr_chk")
        #expect(Known(true, from: .manifest(key: "x")).source == "manifest x")
    }
}
