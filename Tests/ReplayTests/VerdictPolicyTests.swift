import NestedSVM
@testable import Replay
import Testing

/// The verdict policy on its own: outcome, recorded outcome and origin in, verdict out.
@Suite struct VerdictPolicyTests {
    static let msr = VMExitCode(0x07c)
    static let reflected = RecordedOutcome(kind: .reflectToL1, exitCode: 0x07c, exitInfo1: 1, exitInfo2: 0, nextLevel: .l1)
    static let handled = RecordedOutcome(kind: .l0Handles, nextLevel: .l2)

    @Test("a decided outcome equal to the recorded one matches; a flipped recorded outcome mismatches")
    func decided() {
        let model = Outcome.reflect(Self.msr, info1: 1, info2: 0)
        let match = VerdictPolicy.judge(outcome: model, recorded: Self.reflected, origin: .hardwareExit)
        #expect(match.kind == .match)
        #expect(match.settled.isEmpty && match.inferred.isEmpty)
        let mismatch = VerdictPolicy.judge(outcome: model, recorded: Self.handled, origin: .hardwareExit)
        #expect(mismatch.kind == .mismatch)
        #expect(!mismatch.differences.isEmpty)
        // A wrong exit_info_1 is a difference on that field.
        var wrongInfo = Self.reflected
        wrongInfo.exitInfo1 = 0
        let info = VerdictPolicy.judge(outcome: model, recorded: wrongInfo, origin: .hardwareExit)
        #expect(info.kind == .mismatch)
        #expect(info.differences.map(\.field) == ["exit_info_1"])
    }

    @Test("no recorded outcome is undetermined, worded by origin")
    func unknownRecorded() {
        let model = Outcome.reflect(Self.msr, info1: 1, info2: 0)
        let hardware = VerdictPolicy.judge(outcome: model, recorded: RecordedOutcome(kind: .unknown), origin: .hardwareExit)
        #expect(hardware.kind == .undetermined)
        #expect(hardware.missing == ["recorded outcome"])
        #expect(hardware.explanation.contains("the next exit or the end of the trace"))
        let synthesized = VerdictPolicy.judge(outcome: model, recorded: RecordedOutcome(kind: .unknown), origin: .synthesized)
        #expect(!synthesized.explanation.contains("the next exit"))
    }

    @Test("an undetermined outcome: the recorded outcome settles the fact of the alternative that fits")
    func settles() {
        let fact = FactID.msrpm(0xc000_0080, write: true)
        let outcome = Outcome.undetermined([
            Alternative(condition: "bit set", assumptions: [fact: true], outcome: .reflect(Self.msr, info1: 1, info2: 0)),
            Alternative(condition: "bit clear", assumptions: [fact: false], outcome: .l0Handles("svm.c:msr_interception", level: .l2)),
        ], missing: [fact.description])
        let set = VerdictPolicy.judge(outcome: outcome, recorded: Self.reflected, origin: .hardwareExit)
        #expect(set.kind == .match)
        #expect(set.inferred == ["bit set"])
        #expect(set.settled == [fact: true])
        let clear = VerdictPolicy.judge(outcome: outcome, recorded: Self.handled, origin: .hardwareExit)
        #expect(clear.settled == [fact: false])
        // No alternative fits: a mismatch naming every alternative.
        let none = VerdictPolicy.judge(
            outcome: outcome, recorded: RecordedOutcome(kind: .injectException, vector: 13, errorCode: 0, nextLevel: .l2),
            origin: .hardwareExit)
        #expect(none.kind == .mismatch)
        #expect(none.differences.first?.model.contains("bit set") == true)
    }

    @Test("every alternative fits: a match that infers nothing but keeps the facts they share")
    func allFit() {
        let a = FactID.raxPageAligned
        let outcome = Outcome.undetermined([
            Alternative(condition: "aligned", assumptions: [a: true, FactID.raxBacked: true], outcome: .l0Handles("x", level: .l2)),
            Alternative(condition: "unaligned", assumptions: [a: false, FactID.raxBacked: true], outcome: .l0Handles("y", level: .l2)),
        ], missing: [a.description])
        let verdict = VerdictPolicy.judge(outcome: outcome, recorded: Self.handled, origin: .hardwareExit)
        #expect(verdict.kind == .match)
        #expect(verdict.inferred.isEmpty)
        #expect(verdict.settled == [FactID.raxBacked: true])
    }
}
