import Foundation
import NestedSVM

/// Reads a scenario, merges options, runs the model and renders the decision for `decide`.
enum DecideFrontend {
    /// A one-line input error (exit code 2).
    struct InputError: Error {
        /// `FILE: $.json.path: problem`.
        var message: String
    }

    /// The profile used when neither `--profile` nor the scenario names one.
    static let defaultProfile = KernelProfile.v6_12

    /// Decides the scenario at `path`; returns the rendered text or JSON.
    static func run(path: String, profile: String?, host: String?, json: Bool) -> Result<String, InputError> {
        if let profile, KernelProfile(named: profile) == nil {
            return .failure(InputError(
                message: "--profile: unknown profile '\(profile)' (known: \(KernelProfile.selectable.map(\.name).joined(separator: ", ")))"))
        }
        let data: Data
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            return .failure(InputError(message: "\(path): cannot read file: no such file or directory"))
        }
        if isDirectory.boolValue { return .failure(InputError(message: "\(path): cannot read file: is a directory")) }
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            return .failure(InputError(message: "\(path): cannot read file: permission denied or I/O error"))
        }
        let scenario: Scenario
        do {
            scenario = try Scenario(json: data)
        } catch {
            return .failure(InputError(message: "\(path): \(error.description)"))
        }
        var facts = scenario.host
        if let host {
            do {
                facts = facts.overridden(by: try HostFacts(parsing: host, source: "--host"))
            } catch {
                return .failure(InputError(message: "--host: \(error.description)"))
            }
        }
        let chosen = profile.flatMap(KernelProfile.init(named:))
            ?? scenario.profile.flatMap(KernelProfile.init(named:)) ?? defaultProfile
        let decision = DecisionModel(profile: chosen, host: facts).decision(for: scenario.event, state: scenario.state)
        if json {
            do {
                let encoded = try DecisionJSON.data(for: decision)
                return .success(String(decoding: encoded, as: UTF8.self) + "\n")
            } catch {
                return .failure(InputError(message: "\(path): cannot encode the decision"))
            }
        }
        var text = ""
        if !scenario.description.isEmpty { text += "# \(scenario.description)\n" }
        text += PlainDecorator().text(for: decision)
        if let expected = scenario.expect, let recorded = expected.text {
            // An exported exit: say whether the model reproduces what the trace recorded.
            func fits(_ outcome: Outcome) -> Bool { expected.differences(from: outcome).isEmpty }
            let verdict: String
            if decision.outcome.kind == .undetermined {
                let fitting = (decision.outcome.alternatives ?? []).filter { fits($0.outcome) }.map(\.condition)
                verdict = fitting.isEmpty
                    ? "no alternative of the model fits it"
                    : "the model leaves it open; the trace settles: " + fitting.joined(separator: " or ")
            } else {
                verdict = fits(decision.outcome) ? "the model agrees" : "the model differs"
            }
            text += "expected (recorded in the trace): \(recorded) — \(verdict)\n"
        }
        return .success(text)
    }

    /// The scenario schema, shown by `svmdbg decide --help`.
    static let schemaHelp = """
        A scenario is a JSON object (full reference: docs/decide.md):
          {"description": "...", "source": "default provenance", "profile": "6.12",
           "host": {"svme_addr_chk": 1, "vgif": 1, "npt": 1, "nrips": 0, "decode_assists": 0,
                    "maxphyaddr": 48, "vls": 0, "vmware_backdoor": 0, "guest_debug": 0},
           "state": {"level": "L2", "hsave_pa": "0x30000", "smm": 0,
             "vmcb12": {"intercepts": {"cr_read": "0x0", "cr_write": "0x0", "dr_read": "0x0", "dr_write": "0x0",
                                       "excp": "0x2040", "word3": "0x11000000", "word4": "0x1", "word5": "0x0"},
                        "msrpm": {"0xc0000080": {"read": 0, "write": 1}}, "iopm": {"0x3f8": 1},
                        "nested_paging": 1, "nested_cr3": "0x...", "int_ctl": "0x01000000", "event_inj": "0x0",
                        "virt_ext": "0x0", "asid": 1, "msrpm_base_pa": "0x...", "iopm_base_pa": "0x...",
                        "efer": "0x1500", "cr0": "0x80010031", "cr3": "0x...", "cr4": "0x20", "dr6": "0xffff0ff0",
                        "dr7": "0x400", "cs_attrib": "0x29b"},
             "l1": {"efer": "0x1d00", "cr0": "0x80010031", "cr4": "0x20", "cpl": 0, "rflags_if": 1},
             "l2": {"efer": "0x1d00", "cr0": "0x80010031", "cpl": 0},
             "guest": {"maxphyaddr": 40, "cpuid": {"rdtscp": 1, "lm": 1, "nx": 1},
                       "memory": [["0x0", "0x3fffff"]], "l0_rejects_msr": {"0xc0011fff": 1}}},
           "event": {"type": "exit", "exit_code": "msr", "exit_info_1": 1, "exit_info_2": 0,
                     "exit_int_info": 0, "exit_int_info_err": 0, "rip": "0x...", "insn_bytes": "0f 01 da",
                     "rax": "0x...", "rcx": "0xc0000080", "written_value": "0x...", "l1_npt_walk_faults": 1}}
        Other events: {"type": "pending", "pending": "exception", "vector": 13, "error_code": 0}
        (pending: init, exception, smi, nmi, interrupt, triple_fault) and
        {"type": "vmrun_failed", "message": "control->asid == 0"}.
        Anything left out is unknown. Any value may be {"value": ..., "source": "where it came from"}.
        Numbers are JSON numbers or "0x..." strings; flags are true/false or 0/1.
        Exit status: 0 decided (possibly "undetermined"), 2 unreadable input.
        """
}
