import Foundation
import NestedSVM
import SnapshotTesting
import TestSupport
import Testing

/// Golden decision-path texts, one per shipped scenario (under the scenario's own profile),
/// plus the RAX scenarios under every profile so version differences show up as diffs.
@Suite struct DecisionPathSnapshotTests {
    static let raxScenarios = ["l2-vmload-rax-2pow40-naples", "l2-vmload-unbacked-4gib", "l1-vmrun-misaligned-rax", "l1-vmrun-misaligned-rax-gp-path"]

    static func text(scenario name: String, profile: String?) throws -> String {
        let data = try Data(contentsOf: RepositoryPaths.trace("scenarios/\(name).json"))
        let scenario = try Scenario(json: data)
        let chosen = try namedProfile(profile ?? scenario.profile ?? "6.12")
        let decision = DecisionModel(profile: chosen, host: scenario.host).decision(for: scenario.event, state: scenario.state)
        return PlainDecorator().text(for: decision)
    }

    @Test("decision path of each scenario", arguments: ScenarioTests.scenarioFiles.map { String($0.dropLast(5)) })
    func scenario(name: String) throws {
        assertSnapshot(of: try Self.text(scenario: name, profile: nil), as: .lines, named: name)
    }

    @Test("RAX scenarios under every profile", arguments: raxScenarios)
    func raxProfiles(name: String) throws {
        for profile in KernelProfile.all {
            assertSnapshot(of: try Self.text(scenario: name, profile: profile.name), as: .lines, named: "\(name)-\(profile.name)")
        }
    }

    @Test("compact layout, one line per step", arguments: ["msr-in-range-bit-set", "msr-in-range-bit-unknown", "l2-vmload-rax-2pow40-naples"])
    func compact(name: String) throws {
        let data = try Data(contentsOf: RepositoryPaths.trace("scenarios/\(name).json"))
        let scenario = try Scenario(json: data)
        let decision = DecisionModel(profile: .v6_12, host: scenario.host).decision(for: scenario.event, state: scenario.state)
        let text = PlainDecorator(layout: .compact).text(for: decision)
        #expect(text.split(separator: "\n").count >= decision.path.count + 2)
        assertSnapshot(of: text, as: .lines, named: "\(name)-compact")
    }
}
