import Foundation
import NestedSVM
import Replay

/// Prints `lab check` results as text (one aligned line per scenario × form) and as the
/// JSON document of `docs/lab-check.md`.
enum LabCheckPrinter {
    /// Said in every report: where profile and host come from, and what the verdicts rest on.
    static let configurationNote = "profile and host facts come from each manifest (kernel, l0, l1.guest_cpuid): "
        + "the lab's known configuration, passed to replay like --profile/--host/--guest; "
        + "verdicts come only from the trace, and L1's log in the manifest is compared with them afterwards"

    /// Undetermined exits listed per trace in the text report; `--json` lists all.
    static let undeterminedListed = 5

    // MARK: text

    /// The text report.
    static func text(_ report: LabCheckReport) -> String {
        let scenarios = report.scenarios
        let summary = report.summary
        var out = "svmdbg lab check \(report.directory): \(summary.scenarios) scenario\(summary.scenarios == 1 ? "" : "s")\n"
        out += "(\(configurationNote))\n"
        let nameWidth = max(8, scenarios.map(\.scenario.count).max() ?? 0)
        let formWidth = LabForm.allCases.map(\.rawValue.count).max() ?? 15
        func row(_ cells: [String]) -> String {
            let left = pad(cells[0], nameWidth) + "  " + pad(cells[1], formWidth) + "  " + pad(cells[2], 9)
            let numbers = cells[3..<8].map { leftPad($0, 6) }.joined(separator: " ")
            return "  " + left + numbers + "  " + cells[8]
        }
        var lastFolder: String?
        var lastConfiguration: String?
        for scenario in scenarios {
            let configuration = configurationText(scenario)
            if scenario.folder != lastFolder {
                out += "\n\(scenario.folder)\n"
                lastFolder = scenario.folder
                lastConfiguration = nil
            }
            if configuration != lastConfiguration, !configuration.isEmpty {
                out += "  \(configuration)\n"
                out += row(["SCENARIO", "FORM", "STATUS", "EXITS", "MATCH", "CONS", "MISM", "UNDET", "L1 LOG"]) + "\n"
                lastConfiguration = configuration
            }
            if scenario.forms.isEmpty {
                out += row([scenario.scenario, "-", scenario.status.rawValue, "-", "-", "-", "-", "-", "-"]) + "\n"
            }
            // A row's status also counts the scenario's own findings (run.json, an unfinished L1).
            let scenarioStatus = scenario.findings.map(\.status).max() ?? .ok
            for form in scenario.forms {
                var log = form.l1Log.map { log in log.firstDivergence.map { "differs at #VMEXIT \($0.index + 1)" } ?? log.summary } ?? "-"
                if let trace = form.l1Trace {
                    let perCPU = trace.vcpus.map { "\($0.l0.count)" }.joined(separator: "+")
                    log = trace.isEqual ? "L1 trace equal (\(perCPU.isEmpty ? "0" : perCPU))" : "L1 trace differs"
                }
                out += row([
                    scenario.scenario, form.form.rawValue, max(form.status, scenarioStatus).rawValue, "\(form.exits)", "\(form.match)",
                    "\(form.consistent)", "\(form.mismatch)", "\(form.undetermined)", log,
                ]) + "\n"
                if let facts = form.facts { out += "      \(facts.summary)\n" }
                for finding in form.findings {
                    out += "      \(finding.status == .fail ? "✘" : "·") \(finding.text)\n"
                }
                for note in form.undeterminedExits.prefix(undeterminedListed) {
                    out += "      undetermined line \(note.line) \(note.level ?? "?") \(note.name): \(note.text)"
                    if !note.missing.isEmpty { out += " (missing: \(note.missing.joined(separator: ", ")))" }
                    out += "\n"
                }
                if form.undeterminedExits.count > undeterminedListed {
                    out += "      … \(form.undeterminedExits.count - undeterminedListed) more undetermined (--json lists all)\n"
                }
            }
            for finding in scenario.findings {
                out += "    \(scenario.scenario): \(finding.status == .fail ? "✘" : "·") \(finding.text)\n"
            }
        }
        out += "\n" + summaryText(summary) + "\n"
        return out
    }

    /// The summary line.
    static func summaryText(_ summary: LabCheckSummary) -> String {
        "summary: \(summary.scenarios) scenarios: \(summary.ok) ok, \(summary.explained) explained, \(summary.fail) fail; "
            + "\(summary.forms) traces: \(summary.exits) exits, \(summary.match) match (\(summary.decided) decided, \(summary.consistent) consistent), \(summary.mismatch) mismatch, "
            + "\(summary.undetermined) undetermined; L1 log equal in \(summary.l1LogEqual) of \(summary.l1LogEqual + summary.l1LogDiffer) traces"
            + (summary.factsForms == 0 ? "" : "\nwith facts files (\(summary.factsForms) traces): \(summary.factsDecided) decided, \(summary.factsConsistent) consistent, \(summary.factsMismatch) mismatch; "
                + "settled without facts: \(summary.settledExits) exits, \(summary.settledAgree) agree with the facts, \(summary.settledDiffer) differ")
    }

    /// `kernel K → profile P [source]; host k=v ...; guest maxphyaddr=N`.
    static func configurationText(_ scenario: LabScenarioReport) -> String {
        guard let profile = scenario.profile else { return "" }
        var text = "kernel \(scenario.kernel ?? "?") → profile \(profile) [\(scenario.profileSource ?? "?")]"
        let host = facts(scenario.host)
        text += "; host " + (host.isEmpty ? "nothing known" : host.map { "\($0.key)=\($0.value.value)" + mark($0.value.source) }.joined(separator: " "))
        if let bits = scenario.guest.maxPhysAddr {
            text += "; guest maxphyaddr=\(bits.value)" + mark(bits.source)
        }
        return text
    }

    private static func mark(_ source: String) -> String { source.hasPrefix("manifest") ? "" : " [\(source)]" }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    private static func leftPad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    /// Known host facts in `HostFacts.keys` order.
    static func facts(_ host: HostFacts) -> [(key: String, value: CheckReport.FactText)] {
        func text(_ flag: Known<Bool>?) -> CheckReport.FactText? {
            flag.map { CheckReport.FactText(value: $0.value ? "1" : "0", source: $0.source) }
        }
        let values: [String: CheckReport.FactText?] = [
            "svme_addr_chk": text(host.svmeAddrChk), "vgif": text(host.vgif), "npt": text(host.npt),
            "nrips": text(host.nrips), "decode_assists": text(host.decodeAssists),
            "maxphyaddr": host.maxPhysAddr.map { CheckReport.FactText(value: "\($0.value)", source: $0.source) },
            "vls": text(host.vls), "vmware_backdoor": text(host.vmwareBackdoor), "guest_debug": text(host.guestDebug),
        ]
        return HostFacts.keys.compactMap { key in
            guard let value = values[key] ?? nil else { return nil }
            return (key, value)
        }
    }

    // MARK: JSON

    /// The JSON document.
    static func json(_ report: LabCheckReport) -> String {
        let document = Document(
            directory: report.directory, note: configurationNote, status: report.status.rawValue,
            scenarios: report.scenarios.map(ScenarioDocument.init), summary: report.summary)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(document), let text = String(data: data, encoding: .utf8) else { return "{}" }
        return text
    }

    private struct Document: Encodable {
        var directory: String
        var note: String
        var status: String
        var scenarios: [ScenarioDocument]
        var summary: LabCheckSummary
    }

    private struct ScenarioDocument: Encodable {
        var report: LabScenarioReport

        init(_ report: LabScenarioReport) { self.report = report }

        enum CodingKeys: String, CodingKey {
            case scenario, folder, manifest, kernel, profile, host, guest, result, run, status, findings, forms
            case profileSource = "profile_source"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(report.scenario, forKey: .scenario)
            try container.encode(report.folder, forKey: .folder)
            try container.encode(report.manifest, forKey: .manifest)
            try container.encode(report.kernel, forKey: .kernel)
            try container.encode(report.profile, forKey: .profile)
            try container.encode(report.profileSource, forKey: .profileSource)
            var host: [String: CheckReport.FactText] = [:]
            for (key, value) in facts(report.host) { host[key] = value }
            try container.encode(host, forKey: .host)
            var guest: [String: CheckReport.FactText] = [:]
            if let bits = report.guest.maxPhysAddr { guest["maxphyaddr"] = .init(value: "\(bits.value)", source: bits.source) }
            try container.encode(guest, forKey: .guest)
            try container.encode(report.result, forKey: .result)
            try container.encodeIfPresent(report.run, forKey: .run)
            try container.encode(report.status.rawValue, forKey: .status)
            try container.encode(report.findings, forKey: .findings)
            try container.encode(report.forms.map(FormDocument.init), forKey: .forms)
        }
    }

    private struct FormDocument: Encodable {
        var report: LabFormReport

        init(_ report: LabFormReport) { self.report = report }

        enum CodingKeys: String, CodingKey {
            case form, file, status, exits, match, mismatch, undetermined, synthesized, mismatches, error, findings
            case decided, consistent, facts
            case gapLines = "gap_lines", undeterminedExits = "undetermined_exits", l1Log = "l1_log", l1Trace = "l1_trace"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(report.form.rawValue, forKey: .form)
            try container.encode(report.file, forKey: .file)
            try container.encode(report.status.rawValue, forKey: .status)
            try container.encode(report.exits, forKey: .exits)
            try container.encode(report.match, forKey: .match)
            try container.encode(report.decided, forKey: .decided)
            try container.encode(report.consistent, forKey: .consistent)
            try container.encodeIfPresent(report.facts, forKey: .facts)
            try container.encode(report.mismatch, forKey: .mismatch)
            try container.encode(report.undetermined, forKey: .undetermined)
            try container.encode(report.synthesized, forKey: .synthesized)
            try container.encode(report.gapLines, forKey: .gapLines)
            try container.encode(report.mismatches, forKey: .mismatches)
            try container.encode(report.undeterminedExits, forKey: .undeterminedExits)
            try container.encode(report.l1Log.map { LogDocument(comparison: $0, explainedBy: report.l1LogExplainedBy) }, forKey: .l1Log)
            if let trace = report.l1Trace {
                try container.encode(TraceDocument(comparison: trace), forKey: .l1Trace)
            }
            try container.encode(report.error, forKey: .error)
            try container.encode(report.findings, forKey: .findings)
        }
    }

    /// KVM-on-KVM runs: L0's reflections against L1's own trace, per L1 CPU.
    private struct TraceDocument: Encodable {
        var comparison: L1TraceComparison

        enum CodingKeys: String, CodingKey { case equal, summary, vcpus, unpaired = "unpaired_l0_threads" }
        enum VCPUKeys: String, CodingKey {
            case cpu, reflected = "l0_reflections", seen = "l1_exits", l0Thread = "l0_thread"
            case divergence = "first_divergence", differences
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(comparison.isEqual, forKey: .equal)
            try container.encode(comparison.summary, forKey: .summary)
            try container.encode(comparison.unpairedL0Threads, forKey: .unpaired)
            var list = container.nestedUnkeyedContainer(forKey: .vcpus)
            for vcpu in comparison.vcpus {
                var item = list.nestedContainer(keyedBy: VCPUKeys.self)
                try item.encode(vcpu.cpu, forKey: .cpu)
                try item.encode(vcpu.l0Thread, forKey: .l0Thread)
                try item.encode(vcpu.l0.count, forKey: .reflected)
                try item.encode(vcpu.l1.count, forKey: .seen)
                try item.encode(vcpu.firstDivergence?.index, forKey: .divergence)
                try item.encode(vcpu.firstDivergence?.differences ?? [], forKey: .differences)
            }
        }
    }

    private struct LogDocument: Encodable {
        var comparison: L1LogComparison
        var explainedBy: String?

        enum CodingKeys: String, CodingKey {
            case equal, expected, recorded
            case firstDivergence = "first_divergence", explainedBy = "explained_by"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(comparison.isEqual, forKey: .equal)
            try container.encode(comparison.expected, forKey: .expected)
            try container.encode(comparison.recorded, forKey: .recorded)
            try container.encode(comparison.firstDivergence.map(DivergenceDocument.init), forKey: .firstDivergence)
            try container.encode(explainedBy, forKey: .explainedBy)
        }
    }

    private struct DivergenceDocument: Encodable {
        var index: Int
        var line: Int?
        var expected: L1LogEntry?
        var recorded: TraceReflection?

        init(_ divergence: L1LogComparison.Divergence) {
            index = divergence.index
            line = divergence.line
            expected = divergence.expected
            recorded = divergence.recorded
        }

        enum CodingKeys: String, CodingKey { case index, line, expected, recorded }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(index, forKey: .index)
            try container.encode(line, forKey: .line)
            try container.encode(expected, forKey: .expected)
            try container.encode(recorded, forKey: .recorded)
        }
    }
}
