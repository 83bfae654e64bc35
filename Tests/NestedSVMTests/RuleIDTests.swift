import NestedSVM
import Testing

@Suite struct RuleIDTests {
    @Test("rule ids compare and print as their dotted text")
    func dotted() {
        let id: RuleID = "svm.msr.msrpm-bit"
        #expect(id.description == "svm.msr.msrpm-bit")
        #expect(RuleID("svm.a") < RuleID("svm.b"))
    }
}
