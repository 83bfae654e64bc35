import Foundation
import NestedSVM
import TestSupport
import Testing

@Suite struct RuleCatalogueTests {
    @Test("rule ids are unique, dotted, lowercase and cite a kernel file:function")
    func ids() {
        let ids = Rule.catalogue.map(\.id.rawValue)
        #expect(Set(ids).count == ids.count)
        for rule in Rule.catalogue {
            #expect(rule.id.rawValue.hasPrefix("svm."), "\(rule.id)")
            #expect(rule.id.rawValue == rule.id.rawValue.lowercased(), "\(rule.id)")
            // svm.fact.known / svm.fact.same-outcome record the caller's facts, not a kernel decision.
            if rule != .factKnown && rule != .sameOutcome {
                #expect(rule.kernel.contains(".c:") || rule.kernel.contains(".h:"), "\(rule.id)")
            }
            #expect(!rule.question.isEmpty)
        }
    }

    @Test("every step of every shipped scenario comes from a catalogued rule", arguments: ScenarioTests.scenarioFiles)
    func stepsAreCatalogued(name: String) throws {
        let scenario = try Scenario(json: Data(contentsOf: RepositoryPaths.trace("scenarios/\(name)")))
        let known = Set(Rule.catalogue.map(\.id))
        for profile in KernelProfile.all {
            let decision = DecisionModel(profile: profile, host: scenario.host).decision(for: scenario.event, state: scenario.state)
            for step in decision.path {
                #expect(known.contains(step.rule), "\(step.rule)")
                let rule = Rule.catalogue.first { $0.id == step.rule }
                #expect(rule?.question == step.question && rule?.kernel == step.kernel)
            }
        }
    }

    @Test("docs/decide.md lists exactly the catalogued rules")
    func documented() throws {
        let docs = try String(contentsOf: RepositoryPaths.root.appendingPathComponent("docs/decide.md"), encoding: .utf8)
        let listed = Set(docs.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("| `svm.") else { return nil }
            return line.dropFirst(3).split(separator: "`").first.map(String.init)
        })
        #expect(listed == Set(Rule.catalogue.map(\.id.rawValue)))
    }
}
