import Foundation
import NestedSVM
import TraceKit

/// A lab manifest (`NAME.json` next to a scenario's traces): what the lab configured in L0
/// and L1 and what L1 itself observed (`traces/README.md`, "Files per scenario").
///
/// Only the parts `lab check` uses are read. The manifest is ground truth *about the run*:
/// its `l0` section is the lab's known host configuration (passed to replay like a user's
/// `--host`), and its `observed.events` are L1's own log, which `lab check` compares with
/// what the trace shows. Verdicts on exits still come only from the trace.
public struct LabManifest: Sendable, Equatable {
    /// Scenario name (`scenario`, else the file name without `.json`).
    public var scenario: String
    /// `description`, when present.
    public var description: String?
    /// L0's kernel release (`kernel`, e.g. `6.12.117+deb12-amd64`).
    public var kernel: String?
    /// `l0.kvm_amd_params`: module parameters as text (`Y`, `N`, `0`, `1`, …).
    public var kvmAMDParameters: [String: String]
    /// `l0.svme_addr_chk`.
    public var svmeAddrChk: Bool?
    /// `l0.host_cpuid_8000000a.edx`: the SVM feature bits the host CPU reports.
    public var hostSVMFeatures: UInt32?
    /// `l0.qemu_cpu`, the emulated CPU model.
    public var qemuCPU: String?
    /// `l1.guest_cpuid.maxphyaddr`: the MAXPHYADDR the lab's L1 sees.
    public var guestMaxPhysAddr: Int?
    /// `l1.guest_cpuid.80000001_edx` (written by the VMM since the probe captures of
    /// issue #16): L1's long mode, NX and FFXSR bits; `nil` in older manifests.
    public var guestExtendedFeatures: UInt32? = nil
    /// `observed.result` (`done`, `timeout`, …): whether L1 finished its program.
    public var result: String?
    /// L1's log of #VMEXITs it received, in order.
    public var l1Log: [L1LogEntry]
    /// KVM-on-KVM runs (`l1.mode` = `kvm`): L1's own `kvm:*` trace file
    /// (`observed.l1_trace`), relative to the manifest's folder; `nil` for the own-L1 lab.
    public var l1TraceFile: String?

    /// CPUID Fn8000_000A_EDX bit 7, DecodeAssists (AMD APM vol. 3, appendix E.4.9
    /// "Function 8000_000Ah—SVM Features").
    public static let decodeAssistsCPUIDBit: UInt32 = 1 << 7

    /// Reads the manifest at `url`.
    ///
    /// - Returns: `nil` when the file is JSON but no manifest (no `observed` object), e.g. a
    ///   `run.json` or a `decide` scenario.
    /// - Throws: ``LabInputError`` when the file cannot be read or is not JSON.
    public static func read(url: URL) throws(LabInputError) -> LabManifest? {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw LabInputError(file: url.path, problem: "cannot read (\(error.localizedDescription))")
        }
        return try parse(data: data, file: url.path)
    }

    /// Parses manifest JSON; `file` names it in errors and gives the default scenario name.
    public static func parse(data: Data, file: String) throws(LabInputError) -> LabManifest? {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw LabInputError(file: file, problem: "not valid JSON")
        }
        guard let root = object as? [String: Any] else { return nil }
        guard let observed = root["observed"] as? [String: Any] else { return nil }
        let fallbackName = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let l0 = root["l0"] as? [String: Any] ?? [:]
        let l1 = root["l1"] as? [String: Any] ?? [:]
        var parameters: [String: String] = [:]
        for (key, value) in l0["kvm_amd_params"] as? [String: Any] ?? [:] {
            if let text = scalarText(value) { parameters[key] = text }
        }
        let cpuid = l0["host_cpuid_8000000a"] as? [String: Any]
        let guestCPUID = l1["guest_cpuid"] as? [String: Any]
        let events = observed["events"] as? [[String: Any]] ?? []
        return LabManifest(
            scenario: root["scenario"] as? String ?? fallbackName,
            description: root["description"] as? String,
            kernel: root["kernel"] as? String,
            kvmAMDParameters: parameters,
            svmeAddrChk: flag(l0["svme_addr_chk"]),
            hostSVMFeatures: number(cpuid?["edx"]).map { UInt32(truncatingIfNeeded: $0) },
            qemuCPU: l0["qemu_cpu"] as? String,
            guestMaxPhysAddr: number(guestCPUID?["maxphyaddr"]).map { Int($0) },
            guestExtendedFeatures: number(guestCPUID?["80000001_edx"]).map { UInt32(truncatingIfNeeded: $0) },
            result: observed["result"] as? String,
            l1Log: L1LogEntry.log(from: events),
            l1TraceFile: observed["l1_trace"] as? String)
    }

    /// The kernel profile for ``kernel``: the shipped profile whose name is the release's
    /// `major.minor` (`6.1.0-56-amd64` → `6.1`, `6.12.117+deb12-amd64` → `6.12`), or `nil`.
    public var profile: KernelProfile? {
        guard let kernel else { return nil }
        let parts = kernel.split(whereSeparator: { !$0.isNumber }).prefix(2)
        guard parts.count == 2 else { return nil }
        return KernelProfile(named: parts.joined(separator: "."))
    }

    /// The host facts the lab configured, each citing its manifest field: `svme_addr_chk`,
    /// `vgif`, `npt`, `nrips`, `vls` (from `l0`), and `decode_assists` from the host's
    /// CPUID 0x8000000A EDX. Fields the manifest lacks stay unknown.
    public var hostFacts: HostFacts {
        var facts = HostFacts()
        if let svmeAddrChk { facts.svmeAddrChk = Known(svmeAddrChk, from: .manifest(key: "l0.svme_addr_chk")) }
        func parameter(_ name: String) -> Known<Bool>? {
            guard let text = kvmAMDParameters[name], let value = Self.flag(text) else { return nil }
            return Known(value, from: .manifest(key: "l0.kvm_amd_params.\(name)"))
        }
        facts.vgif = parameter("vgif")
        facts.npt = parameter("npt")
        facts.nrips = parameter("nrips")
        facts.vls = parameter("vls")
        if let features = hostSVMFeatures {
            facts.decodeAssists = Known(
                features & Self.decodeAssistsCPUIDBit != 0, from: .manifest(key: "l0.host_cpuid_8000000a.edx bit 7"))
        }
        return facts
    }

    /// The guest facts the lab configured: L1's MAXPHYADDR and, where the manifest has
    /// CPUID 0x80000001 EDX, long mode (bit 29), NX (bit 20) and FFXSR (bit 25) — the bits
    /// `x86.c:__kvm_valid_efer` asks of the guest's CPUID.
    public var guestFacts: GuestFacts {
        var facts = GuestFacts()
        if let bits = guestMaxPhysAddr, (1...64).contains(bits) {
            facts.maxPhysAddr = Known(bits, from: .manifest(key: "l1.guest_cpuid.maxphyaddr"))
        }
        if let edx = guestExtendedFeatures {
            for (feature, bit) in [(GuestFeature.longMode, 29), (.nx, 20), (.fxsrOpt, 25)] as [(GuestFeature, UInt32)] {
                facts.features[feature] = Known(edx >> bit & 1 != 0, from: .manifest(key: "l1.guest_cpuid.80000001_edx bit \(bit)"))
            }
        }
        return facts
    }

    // MARK: scalar helpers

    /// `value` as text when it is a string, number or boolean.
    static func scalarText(_ value: Any?) -> String? {
        switch value {
        case let text as String: return text
        case let flag as Bool: return flag ? "1" : "0"
        case let number as NSNumber: return number.stringValue
        default: return nil
        }
    }

    /// A boolean from JSON `true`/`false`, a number, or module-parameter text (`Y`/`N`/`1`/`0`).
    static func flag(_ value: Any?) -> Bool? {
        if let flag = value as? Bool { return flag }
        guard let text = scalarText(value) else { return nil }
        switch text.lowercased() {
        case "1", "y", "yes", "true", "on": return true
        case "0", "n", "no", "false", "off": return false
        default: return nil
        }
    }

    /// A number from JSON, or from `0x…` / decimal text.
    static func number(_ value: Any?) -> UInt64? {
        if let text = value as? String {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("0x") || trimmed.hasPrefix("0X") { return UInt64(trimmed.dropFirst(2), radix: 16) }
            return UInt64(trimmed)
        }
        if value is Bool { return nil }
        if let number = value as? NSNumber, number.int64Value >= 0 { return number.uint64Value }
        return nil
    }
}

/// One #VMEXIT L1 logged, from a manifest's `observed.events`.
public struct L1LogEntry: Sendable, Equatable, Codable {
    /// `idx` of the event in `observed.events`.
    public var manifestIndex: Int
    /// Exit code as L1 read it, truncated to 32 bits as KVM traces it (`VMEXIT_INVALID` is
    /// `0xffffffff`).
    public var exitCode: UInt32
    /// `exit_name` as L1 logged it, when present.
    public var name: String?
    /// L2's RIP L1 read from vmcb12, when logged.
    public var l2RIP: UInt64?

    enum CodingKeys: String, CodingKey {
        case manifestIndex = "manifest_index", exitCode = "exit_code", name, l2RIP = "l2_rip"
    }

    /// Creates an entry.
    public init(manifestIndex: Int, exitCode: UInt32, name: String?, l2RIP: UInt64?) {
        self.manifestIndex = manifestIndex
        self.exitCode = exitCode
        self.name = name
        self.l2RIP = l2RIP
    }

    /// The `note` a lab l1-vmrun scenario writes after its valid VMRUN; its `v0` is the exit
    /// code of the #VMEXIT that VMRUN ended with (those scenarios log it this way instead of
    /// an `l1_saw_vmexit`).
    public static let afterValidVMRUNNote = "after valid vmrun"

    /// The log: every `l1_saw_vmexit`, and every `after valid vmrun` note, in order.
    static func log(from events: [[String: Any]]) -> [L1LogEntry] {
        var log: [L1LogEntry] = []
        for (position, event) in events.enumerated() {
            let index = (LabManifest.number(event["idx"])).map { Int($0) } ?? position
            switch event["kind"] as? String {
            case "l1_saw_vmexit":
                guard let code = LabManifest.number(event["exit_code"]) else { continue }
                log.append(L1LogEntry(
                    manifestIndex: index, exitCode: UInt32(truncatingIfNeeded: code),
                    name: event["exit_name"] as? String, l2RIP: LabManifest.number(event["l2_rip"])))
            case "note" where event["what"] as? String == afterValidVMRUNNote:
                guard let code = LabManifest.number(event["v0"]) else { continue }
                log.append(L1LogEntry(
                    manifestIndex: index, exitCode: UInt32(truncatingIfNeeded: code),
                    name: SVMExitReason(UInt32(truncatingIfNeeded: code)).kernelName, l2RIP: nil))
            default:
                continue
            }
        }
        return log
    }
}

/// A lab input that cannot be used: the file and what is wrong, e.g.
/// `traces/lab/x/run.json: not valid JSON`.
public struct LabInputError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file or folder, as given.
    public var file: String
    /// What is wrong with it.
    public var problem: String

    /// Creates an error.
    public init(file: String, problem: String) {
        self.file = file
        self.problem = problem
    }

    /// `FILE: problem`.
    public var description: String { "\(file): \(problem)" }
}
