import TraceKit

/// One #VMEXIT the trace shows reaching L1: a reflected exit (`kvm_nested_vmexit_inject`
/// after a hardware exit), a synthesized one, or a failed VMRUN (`VMEXIT_INVALID`).
public struct TraceReflection: Sendable, Equatable, Codable {
    /// The exit's position in the replay (``ExitRecord/index``).
    public var exit: Int
    /// First trace line of the exit.
    public var line: Int
    /// Exit code L1 read.
    public var exitCode: UInt32
    /// The exit code's kernel name, e.g. `msr`.
    public var name: String?
    /// Hardware exit or synthesized.
    public var origin: ExitRecord.Origin
    /// `reflect_to_l1` or `vmrun_fails`.
    public var outcome: RecordedOutcome.Kind

    enum CodingKeys: String, CodingKey {
        case exit, line, name, origin, outcome
        case exitCode = "exit_code"
    }

    /// Creates a reflection.
    public init(exit: Int, line: Int, exitCode: UInt32, name: String?, origin: ExitRecord.Origin,
                outcome: RecordedOutcome.Kind) {
        self.exit = exit
        self.line = line
        self.exitCode = exitCode
        self.name = name
        self.origin = origin
        self.outcome = outcome
    }

    /// Every #VMEXIT `result` shows reaching L1, in trace order: exits whose recorded outcome
    /// is a reflection or a failed VMRUN (synthesized #VMEXITs are exits of their own).
    public static func all(in result: ReplayResult) -> [TraceReflection] {
        result.exits.compactMap { exit in
            switch exit.recorded.kind {
            case .reflectToL1, .vmrunFails:
                guard let code = exit.recorded.exitCode else { return nil }
                return TraceReflection(
                    exit: exit.index, line: exit.lines.lowerBound, exitCode: code,
                    name: SVMExitReason(code).kernelName, origin: exit.origin, outcome: exit.recorded.kind)
            case .l0Handles, .injectException, .vmrunSucceeds, .userspaceExit, .unknown:
                return nil
            }
        }
    }
}

/// The #VMEXITs a trace shows reaching L1 against those L1 logged in its manifest: equal,
/// or where they first part.
///
/// This is the comparison a kernel developer wants from a lab run: did KVM deliver to L1
/// exactly the exits L1 saw, in the same order.
public struct L1LogComparison: Sendable, Equatable {
    /// What L1 logged (the manifest), in order.
    public var expected: [L1LogEntry]
    /// What the trace shows reaching L1, in order.
    public var recorded: [TraceReflection]

    /// Where the two sequences first differ.
    public struct Divergence: Sendable, Equatable {
        /// 0-based position in both sequences.
        public var index: Int
        /// What L1 logged there (`nil`: L1's log ends first).
        public var expected: L1LogEntry?
        /// What the trace shows there (`nil`: the trace shows no more).
        public var recorded: TraceReflection?

        /// The trace line of the divergence: the recorded exit's, else `nil`.
        public var line: Int? { recorded?.line }
    }

    /// Compares `expected` with `recorded` by exit code.
    public init(expected: [L1LogEntry], recorded: [TraceReflection]) {
        self.expected = expected
        self.recorded = recorded
    }

    /// Compares a manifest's L1 log with a replay.
    public init(manifest: LabManifest, result: ReplayResult) {
        self.init(expected: manifest.l1Log, recorded: TraceReflection.all(in: result))
    }

    /// The first position where the exit codes differ or one sequence ends before the
    /// other; `nil` when they are equal.
    public var firstDivergence: Divergence? {
        let common = min(expected.count, recorded.count)
        for index in 0..<common where expected[index].exitCode != recorded[index].exitCode {
            return Divergence(index: index, expected: expected[index], recorded: recorded[index])
        }
        guard expected.count != recorded.count else { return nil }
        return Divergence(
            index: common, expected: common < expected.count ? expected[common] : nil,
            recorded: common < recorded.count ? recorded[common] : nil)
    }

    /// The trace shows exactly the #VMEXITs L1 logged, in order.
    public var isEqual: Bool { firstDivergence == nil }

    /// One line: `equal (12 #VMEXITs)` or where and how they part.
    public var summary: String {
        guard let divergence = firstDivergence else {
            return "equal (\(expected.count) #VMEXIT\(expected.count == 1 ? "" : "s"))"
        }
        let logged = divergence.expected.map { "L1 logged \(ExitCodeText.name($0.exitCode)) (manifest idx \($0.manifestIndex))" }
            ?? "L1 logged nothing more"
        let shown = divergence.recorded.map { "trace line \($0.line) shows \(ExitCodeText.name($0.exitCode))" }
            ?? "the trace shows nothing more"
        return "differs at #VMEXIT \(divergence.index + 1) of \(expected.count) logged / \(recorded.count) traced: \(logged), \(shown)"
    }
}
