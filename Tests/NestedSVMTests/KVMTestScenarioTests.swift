import Foundation
import NestedSVM
import TestSupport
import Testing

/// The scenarios under `traces/scenarios/kvm-tests/`, each retelling one assertion of KVM's
/// own tests (kvm-unit-tests `x86/svm*.c`, the nested-SVM selftests) with the outcome that
/// test requires. Every scenario is decided under every profile it applies to and must give
/// its expected outcome — never `undetermined`: a scenario states what the test's setup
/// makes true (the harness sets MSR_VM_HSAVE_PA, runs outside SMM, identity-maps memory,
/// copies L1's state to L2).
@Suite struct KVMTestScenarioTests {
    static let folder = RepositoryPaths.traces.appendingPathComponent("scenarios/kvm-tests")

    static let files: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted()
    }()

    static func load(_ name: String) throws -> Scenario {
        try Scenario(json: try Data(contentsOf: folder.appendingPathComponent(name)))
    }

    /// The differences of one scenario under one profile (empty: as the KVM test requires).
    static func check(_ scenario: Scenario, profile: KernelProfile) -> [String]? {
        guard let expected = scenario.expectation(for: profile.name) else { return nil }
        let decision = DecisionModel(profile: profile, host: scenario.host).decision(for: scenario.event, state: scenario.state)
        return expected.differences(from: decision.outcome)
    }

    @Test("the suite is there: 200 or more scenarios, each naming its KVM test and expected outcome")
    func inventory() throws {
        #expect(Self.files.count >= 200, "\(Self.files.count) scenarios")
        for name in Self.files {
            let scenario = try Self.load(name)
            #expect(scenario.kvmTest != nil, "\(name): no kvm_test")
            #expect(scenario.expect != nil || !scenario.expectByProfile.isEmpty, "\(name): no expect")
            #expect(scenario.expect?.kind != .undetermined, "\(name): expects undetermined")
            #expect(KernelProfile.all.contains { scenario.appliesTo($0.name) }, "\(name): applies to no profile")
        }
    }

    @Test("every scenario gives the outcome its KVM test requires under every profile it names", arguments: files)
    func scenario(name: String) throws {
        let scenario = try Self.load(name)
        var checked = 0
        for profile in KernelProfile.all {
            guard let differences = Self.check(scenario, profile: profile) else { continue }
            checked += 1
            #expect(differences.isEmpty, "\(name) [\(profile.name)] \(scenario.kvmTest?.test ?? ""): \(differences.joined(separator: "; "))")
        }
        #expect(checked > 0, "\(name) was checked under no profile")
    }

    @Test("a flipped expectation fails: the comparison can tell outcomes apart", arguments: files.prefix(40))
    func flipped(name: String) throws {
        let scenario = try Self.load(name)
        for profile in KernelProfile.all {
            guard var expected = scenario.expectation(for: profile.name) else { continue }
            expected.kind = expected.kind == .reflectToL1 ? .l0Handles : .reflectToL1
            let decision = DecisionModel(profile: profile, host: scenario.host).decision(for: scenario.event, state: scenario.state)
            #expect(!expected.differences(from: decision.outcome).isEmpty, "\(name) [\(profile.name)]")
        }
    }
}
