/// Where a scenario comes from: one assertion of one of KVM's own tests (kvm-unit-tests
/// `x86/svm_tests.c`, a selftest under `tools/testing/selftests/kvm/x86/`), retold in the
/// scenario's words. JSON: `"kvm_test": {"suite", "file", "test", "assertion"}`.
public struct KVMTestReference: Sendable, Equatable {
    /// `kvm-unit-tests` or `selftests`.
    public var suite: String
    /// The file, e.g. `x86/svm_tests.c`.
    public var file: String
    /// The test's name as the suite knows it (`"cr3 read intercept"`, `svm_nested_shutdown_test`).
    public var test: String
    /// What the test asserts about this event, in the scenario's words.
    public var assertion: String

    /// Builds a reference.
    public init(suite: String, file: String, test: String, assertion: String) {
        self.suite = suite
        self.file = file
        self.test = test
        self.assertion = assertion
    }
}

/// The outcome a scenario expects (`"expect"`, or per profile `"expect_by_profile"`): the
/// kind and whichever fields the source test pins down. A field left out is not compared.
public struct ScenarioExpectation: Sendable, Equatable {
    /// The outcome kind (`Outcome.Kind` JSON names; the old names all keep working).
    public var kind: Outcome.Kind
    /// Exit code L1 sees (`reflect_to_l1`, `vmrun_fails`).
    public var exitCode: VMExitCode?
    /// `exit_info_1` L1 sees.
    public var exitInfo1: UInt64?
    /// `exit_info_2` L1 sees.
    public var exitInfo2: UInt64?
    /// Vector of an injected exception or interrupt.
    public var vector: UInt8?
    /// Error code of an injected exception.
    public var errorCode: UInt32?
    /// Level that receives the injection or keeps running.
    public var level: GuestLevel?
    /// Failed consistency check id (`vmrun_fails`).
    public var check: String?
    /// What the trace recorded, in words (`text`), for a scenario exported from a trace; the
    /// comparison never reads it.
    public var text: String?
    /// What must follow the outcome, in order (`"then"`: a list of expectations, compared
    /// with `Outcome/then`); `[]` expects nothing to follow, absent is not compared.
    public var then: [ScenarioExpectation]?

    /// Builds an expectation.
    public init(
        kind: Outcome.Kind, exitCode: VMExitCode? = nil, exitInfo1: UInt64? = nil, exitInfo2: UInt64? = nil,
        vector: UInt8? = nil, errorCode: UInt32? = nil, level: GuestLevel? = nil, check: String? = nil
    ) {
        self.kind = kind
        self.exitCode = exitCode
        self.exitInfo1 = exitInfo1
        self.exitInfo2 = exitInfo2
        self.vector = vector
        self.errorCode = errorCode
        self.level = level
        self.check = check
    }

    /// The fields on which `outcome` differs from this expectation, as `field: expected X,
    /// model Y`; empty when the outcome is the one expected. A field the model could not
    /// predict (e.g. a stale `exit_info_1`) counts as a difference.
    public func differences(from outcome: Outcome) -> [String] {
        var out: [String] = []
        func compare<T: Equatable>(_ field: String, _ expected: T?, _ actual: T?, _ text: (T) -> String) {
            guard let expected else { return }
            if actual != expected { out.append("\(field): expected \(text(expected)), model \(actual.map(text) ?? "unknown")") }
        }
        guard outcome.kind == kind else {
            return ["outcome: expected \(kind.rawValue), model \(outcome.description)"]
        }
        compare("exit_code", exitCode, outcome.exitCode) { $0.description }
        compare("exit_info_1", exitInfo1, outcome.exitInfo1) { Hex.format($0) }
        compare("exit_info_2", exitInfo2, outcome.exitInfo2) { Hex.format($0) }
        compare("vector", vector, outcome.vector) { Hex.format($0) }
        compare("error_code", errorCode, outcome.errorCode) { Hex.format($0) }
        compare("level", level, outcome.level) { $0.rawValue }
        compare("check", check, outcome.check) { $0 }
        if let then {
            let actual = outcome.then ?? []
            if actual.count != then.count {
                out.append("then: expected \(then.isEmpty ? "nothing" : then.map(\.summary).joined(separator: "; ")), model \(actual.isEmpty ? "nothing" : actual.map(\.description).joined(separator: "; "))")
            } else {
                for (index, (expected, followUp)) in zip(then, actual).enumerated() {
                    out += expected.differences(from: followUp).map { "then[\(index)] \($0)" }
                }
            }
        }
        return out
    }

    /// One line, e.g. `reflect_to_l1 read_cr3 (0x003)`.
    public var summary: String {
        var parts = [kind.rawValue]
        if let exitCode { parts.append(exitCode.description) }
        if let exitInfo1 { parts.append("info1 \(Hex.format(exitInfo1))") }
        if let exitInfo2 { parts.append("info2 \(Hex.format(exitInfo2))") }
        if let vector { parts.append(kind == .injectException ? ExceptionVector.name(vector) : "vector \(Hex.format(vector))") }
        if let errorCode { parts.append("error code \(Hex.format(errorCode))") }
        if let level { parts.append("level \(level.rawValue)") }
        if let check { parts.append("check \(check)") }
        if let then, !then.isEmpty { parts.append("then " + then.map(\.summary).joined(separator: "; then ")) }
        return parts.joined(separator: " ")
    }
}

extension Scenario {
    /// The expectation that applies under `profile`: the profile's own entry of
    /// `expect_by_profile`, else `expect`; `nil` when the scenario expects nothing or does not
    /// apply to `profile` (`profiles`).
    public func expectation(for profile: String) -> ScenarioExpectation? {
        guard appliesTo(profile) else { return nil }
        return expectByProfile[profile] ?? expect
    }

    /// Whether the scenario's `profiles` (default: every profile) include `profile`.
    public func appliesTo(_ profile: String) -> Bool {
        profiles.map { $0.contains(profile) } ?? true
    }
}
