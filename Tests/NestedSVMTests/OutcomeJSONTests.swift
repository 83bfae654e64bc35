import Foundation
import NestedSVM
import Testing

@Suite struct OutcomeJSONTests {
    @Test("outcome kinds serialise with the contract's names")
    func kindNames() {
        #expect(Outcome.Kind.allCases.map(\.rawValue) == [
            "reflect_to_l1", "l0_handles", "inject_exception", "emulate", "vmrun_fails", "vmrun_succeeds", "userspace_exit",
            "inject_interrupt", "inject_nmi", "no_exit", "undetermined",
        ])
    }

    @Test("fields use the contract's keys and only applicable ones appear")
    func fields() throws {
        let reflect = try JSONSerialization.jsonObject(with: JSONEncoder().encode(Outcome.reflect(.msr, info1: 1, info2: 0))) as? [String: Any]
        #expect(reflect?["kind"] as? String == "reflect_to_l1")
        #expect(reflect?["exit_code"] as? Int == 0x7c)
        #expect(reflect?["exit_info_1"] as? Int == 1)
        #expect(reflect?["exit_info_2"] as? Int == 0)
        #expect(reflect?["vector"] == nil)
        let inject = try JSONSerialization.jsonObject(with: JSONEncoder().encode(Outcome.inject(13, errorCode: 0, into: .l2, handler: "h"))) as? [String: Any]
        #expect(inject?["vector"] as? Int == 13 && inject?["error_code"] as? Int == 0 && inject?["level"] as? String == "L2")
        let fails = try JSONSerialization.jsonObject(with: JSONEncoder().encode(Outcome.vmrunFails(check: "asid"))) as? [String: Any]
        #expect(fails?["exit_code"] as? Int == 0xffff_ffff && fails?["check"] as? String == "asid")
    }

    @Test("a decision round-trips through its JSON form")
    func roundTrip() throws {
        let decision = Fixture.decide(Fixture.exit(.msr, info1: 1, rcx: 0xc000_0080), Fixture.l2(VMCB12(intercepts: Fixture.intercepts(word3: 0x1100_0000))))
        #expect(decision.outcome.kind == .undetermined)
        let data = try DecisionJSON.data(for: decision)
        #expect(try DecisionJSON.decision(from: data) == decision)
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let outcome = object?["outcome"] as? [String: Any]
        // MSRPM bit unknown, and if clear, whether L0 rejects the MSR: three cases.
        #expect((outcome?["alternatives"] as? [[String: Any]])?.count == 3)
        #expect(outcome?["missing"] as? [String] == ["msrpm[0xc0000080].write", "L0 rejects MSR 0xc0000080"])
    }
}
