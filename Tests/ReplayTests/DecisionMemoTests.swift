import NestedSVM
@testable import Replay
import TestSupport
import Testing
import TraceKit

/// Replay runs the model once per distinct (event, state) values and reuses the outcome for
/// later exits with the same values (``DecisionMemo``); the memoised outcome must be the one
/// the model gives for each exit's own inputs, sources and RIP included.
@Suite struct DecisionMemoTests {
    static let captures = Capture.all(forms: ["trace"])

    @Test("every exit's memoised outcome and deciding rule equal a direct decision, under both profiles",
          arguments: captures)
    func memoisedEqualsDirect(capture: Capture) throws {
        let trace = try TraceLoader.load(path: capture.path)
        for profile in [KernelProfile.v6_1, .v6_12] {
            let result = replay(trace: trace, folder: capture.folder, profile: profile)
            var checked = 0
            result.forEachExitState { position, state in
                let exit = result.exits[position]
                let direct = result.decision(for: exit, in: state)
                #expect(direct.outcome == exit.model, "\(capture.file) exit \(exit.index) under \(profile.name)")
                #expect(direct.path.last?.rule == exit.decidingRule, "\(capture.file) exit \(exit.index)")
                checked += 1
            }
            #expect(checked == result.exits.count)
        }
    }

    @Test("a state re-derived from a checkpoint equals the one a walk over the whole trace gives",
          arguments: captures.filter { $0.file.hasPrefix("msr-prot") || $0.file.hasPrefix("nested-npt") })
    func rederivedStatesAgree(capture: Capture) throws {
        let result = try replay(path: capture.path, folder: capture.folder)
        var states: [Int: ReplayState] = [:]
        result.forEachExitState { states[$0] = $1 }
        #expect(states.count == result.exits.count)
        for position in result.exits.indices {
            let single = result.state(at: position)
            let walked = try #require(states[position])
            #expect(single.vcpu == walked.vcpu && single.configuration == walked.configuration, "exit \(position)")
        }
    }

    @Test("states re-derived from checkpoints of a long thread equal a whole walk's, learned facts included",
          arguments: ["6.12/msr-prot.trace", "6.12/nested-npt.trace", "6.12/exceptions.trace"])
    func rederivedFromCheckpoints(file: String) throws {
        // The capture's events eight times over on one thread: well past a checkpoint interval.
        let body = try readText(file).split(separator: "\n").filter { !$0.hasPrefix("#") }
        let text = Array(repeating: body.joined(separator: "\n"), count: 8).joined(separator: "\n") + "\n"
        let folder = try #require(CaptureHosts.folder("6.12"))
        let result = try replay(text: text, source: "repeated", folder: folder)
        #expect(result.exits.count > 2 * Walk.checkpointInterval)
        #expect(!result.checkpoints.isEmpty)
        var states: [Int: ReplayState] = [:]
        result.forEachExitState { states[$0] = $1 }
        #expect(states.count == result.exits.count)
        for position in result.exits.indices {
            let single = result.state(at: position)
            let walked = try #require(states[position])
            #expect(single.vcpu == walked.vcpu && single.configuration == walked.configuration, "exit \(position)")
            #expect(result.exits.configuration(at: position) == single.configuration, "exit \(position)")
        }
    }

    @Test("a thread's values get one id per distinct value set: sources do not count, values do")
    func internerComparesValues() {
        var interner = StateInterner()
        var tracked = TrackedVCPU(pid: 7)
        let efer = { (data: UInt64) in EventPayload.msr(KVMMSR(isWrite: true, msr: TrackedVCPU.eferMSR, data: data, faulted: false)) }
        tracked.apply(efer(0x1d01), kind: .msr, line: 3)
        let first = interner.id(of: &tracked)
        let revision = tracked.revision
        // The same value from a later line: same revision, same id (no new comparison).
        tracked.apply(efer(0x1d01), kind: .msr, line: 90)
        #expect(tracked.revision == revision)
        #expect(interner.id(of: &tracked) == first)
        // A new value: a new revision and a new id; back to the old value: the old id.
        tracked.apply(efer(0x501), kind: .msr, line: 91)
        #expect(tracked.revision == revision + 1)
        let second = interner.id(of: &tracked)
        #expect(second != first)
        tracked.apply(efer(0x1d01), kind: .msr, line: 92)
        #expect(interner.id(of: &tracked) == first)
        // A CR write and new intercept words are values too.
        tracked.apply(.cr(KVMCR(isWrite: true, cr: 0, value: 0x8000_0011)), kind: .cr, line: 93)
        #expect(interner.id(of: &tracked) != first)
        // A stamp from another interner (a checkpoint carried to another walk) is not trusted.
        var other = StateInterner()
        var copy = tracked
        #expect(other.id(of: &copy) == 0)
    }

    @Test("keys ignore sources and the RIP of the event but not its values")
    func keysCompareValues() {
        let exit = HardwareExit(exitCode: VMExitCode(rawValue: 0x7c), exitInfo1: 1, rip: 0x1000)
        var moved = exit
        moved.rip = 0x2000
        func key(_ exit: HardwareExit, content: Int = 0, operands: [Fact: Bool] = [:]) -> DecisionKey {
            DecisionKey(event: .hardwareExit(exit), content: content, level: .l2, ledger: nil, msrFaults: [:], operands: operands)
        }
        #expect(key(exit) == key(moved))
        var read = exit
        read.exitInfo1 = 0
        #expect(key(exit) != key(read))
        #expect(key(exit) != key(exit, content: 1))
        #expect(key(exit) != key(exit, operands: [FactID.paging(.l2): true]))
    }

    /// Two VMLOAD exits of L1 with the same exit fields, with an EFER write between them that
    /// clears EFER.SVME: if the key missed that value the second would get the first's answer.
    static let vmloadAcrossEFER = """
                  svmlab-1049    [000] d..1.   123.689216: kvm_exit: vcpu 0 reason msr rip 0x112e9 info1 0x0000000000000001 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000
                  svmlab-1049    [000] .....   123.689286: kvm_msr: msr_write c0000080 = 0x1500
                  svmlab-1049    [000] d..1.   123.689316: kvm_entry: vcpu 0, rip 0x112eb
                  svmlab-1049    [000] d..1.   123.690127: kvm_exit: vcpu 0 reason vmload rip 0x119e3 info1 0x0000000000000000 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000
                  svmlab-1049    [000] d..1.   123.690178: kvm_entry: vcpu 0, rip 0x119e6
                  svmlab-1049    [000] d..1.   123.690216: kvm_exit: vcpu 0 reason msr rip 0x112e9 info1 0x0000000000000001 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000
                  svmlab-1049    [000] .....   123.690286: kvm_msr: msr_write c0000080 = %@
                  svmlab-1049    [000] d..1.   123.690316: kvm_entry: vcpu 0, rip 0x112eb
                  svmlab-1049    [000] d..1.   123.691127: kvm_exit: vcpu 0 reason vmload rip 0x119e3 info1 0x0000000000000000 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000
                  svmlab-1049    [000] d..1.   123.691178: kvm_entry: vcpu 0, rip 0x119e6

        """

    @Test("two exits that differ only in a tracked value get their own decisions; the same value shares one")
    func revisionSeparatesValues() throws {
        let folder = try #require(CaptureHosts.folder("6.12"))
        let cleared = try replay(
            text: Self.vmloadAcrossEFER.replacingOccurrences(of: "%@", with: "0x500"), source: "efer-cleared", folder: folder)
        let loads = cleared.exits.filter { $0.exitCode == VMExitCode.vmload.rawValue }
        #expect(loads.count == 2)
        #expect(loads[0].model != loads[1].model, "EFER.SVME cleared between the VMLOADs must change the decision")
        for load in loads {
            #expect(cleared.decision(for: load).outcome == load.model, "line \(load.lines.lowerBound)")
        }
        let kept = try replay(
            text: Self.vmloadAcrossEFER.replacingOccurrences(of: "%@", with: "0x1500"), source: "efer-kept", folder: folder)
        let same = kept.exits.filter { $0.exitCode == VMExitCode.vmload.rawValue }
        #expect(same.count == 2)
        #expect(same[0].model == same[1].model)
        #expect(same[0].model == loads[0].model)
    }
}
