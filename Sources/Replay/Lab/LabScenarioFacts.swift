import Foundation

/// The facts file (`NAME.facts.json`, `docs/facts.md`) of one lab scenario: what its L1
/// sets up, derived from the scenario file (`lab/scenarios/NAME.scn`) and the lab's fixed
/// layout (`lab/src/lab.h`, `lab/src/l1.c:vmcb_init`, `lab/src/vmm.c`) — never from a trace.
///
/// Two entries: one for every exit (L1 at CPL 0, `MSR_VM_HSAVE_PA`, not in SMM, the one
/// memslot of the L1 VM), and one scoped to vmcb12 at `0x31000` (the vmcb12 L1 builds with
/// `vmcb_init`: intercepts, whole MSRPM and IOPM — zeroed, then the listed bits set — control
/// fields and save area). A field that the scenario changes between VMRUNs at that address
/// (an `attempt` poke, an `action` on an intercept word, an `inject`) is left out: one
/// value would be wrong for some VMRUNs, and unknown stays unknown.
public struct LabScenarioFacts: Sendable {
    /// `LAB_VMCB12` (lab.h).
    public static let vmcb12Address: UInt64 = 0x31000
    /// `LAB_HSAVE`, written to `MSR_VM_HSAVE_PA` by `l1_main`.
    static let hsave: UInt64 = 0x30000
    /// `LAB_MSRPM`, `LAB_IOPM` (lab.h).
    static let msrpmBase: UInt64 = 0x34000
    static let iopmBase: UInt64 = 0x38000
    /// `NPT_PML4` (l1.c).
    static let nestedCR3: UInt64 = 0x40000
    /// `LAB_RAM_SIZE` (lab.h): the VMM's one memslot.
    static let ramSize: UInt64 = 0x400000
    /// L1's registers as `vmm.c` sets them (`sregs`) with EFER.SVME set by `l1_main`:
    /// `vmcb_init` copies them into the save area.
    static let efer: UInt64 = 0x1500
    static let cr0: UInt64 = 0x8005_0033
    static let cr3: UInt64 = 0x1000
    static let cr4: UInt64 = 0x620
    /// `vmcb_init`'s DR6, DR7 and CS attributes (`ATTR_KCODE`, `ATTR_UCODE` for CPL 3).
    static let dr6: UInt64 = 0xffff_0ff0
    static let dr7: UInt64 = 0x400
    static let kernelCode: UInt64 = 0x0a9b
    static let userCode: UInt64 = 0x0afb

    /// Intercept names of `vmm.c` per word 3, 4, 5 (APM vol. 2, table B-1).
    static let word3 = [
        "intr", "nmi", "smi", "init", "vintr", "cr0_sel_write", "idtr_read", "gdtr_read", "ldtr_read", "tr_read",
        "idtr_write", "gdtr_write", "ldtr_write", "tr_write", "rdtsc", "rdpmc", "pushf", "popf", "cpuid", "rsm", "iret",
        "intn", "invd", "pause", "hlt", "invlpg", "invlpga", "ioio", "msr", "task_switch", "ferr_freeze", "shutdown",
    ]
    static let word4 = [
        "vmrun", "vmmcall", "vmload", "vmsave", "stgi", "clgi", "skinit", "rdtscp", "icebp", "wbinvd", "monitor", "mwait",
        "mwait_cond", "xsetbv", "rdpru", "efer_write",
    ] + (0...15).map { "cr\($0)_write_trap" }
    static let word5 = ["invlpgb", "invlpgb_illegal", "invpcid", "mcommit", "tlbsync", "bus_lock"]
    static let exceptions = [
        "DE", "DB", "NMI", "BP", "OF", "BR", "UD", "NM", "DF", "09", "TS", "NP", "SS", "GP", "PF", "15", "MF", "AC", "MC",
        "XF", "VE", "CP", "22", "23", "24", "25", "26", "27", "HV", "VC", "SX", "31",
    ]

    /// A problem in a scenario file: file, line and what is wrong.
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public var file: String
        public var line: Int
        public var message: String
        public var description: String { "\(file):\(line): \(message)" }
    }

    /// The scenario's name.
    public var name: String
    /// The `.scn` path, as given.
    public var path: String
    /// Intercept words 0–5 as `vmm.c` packs them.
    var intercepts = [UInt32](repeating: 0, count: 6)
    var msrRead: [UInt64] = []
    var msrWrite: [UInt64] = []
    var ioPorts: [UInt64] = []
    var npt = false
    var cpl: UInt64 = 0
    var flowL2 = true
    /// Words an `action` changes.
    var changedWords: Set<Int> = []
    /// vmcb offsets an `attempt` pokes.
    var pokedOffsets: Set<UInt64> = []
    var injects = false

    /// Reads `lab/scenarios/NAME.scn` the way `vmm.c:parse_scenario` does (keys it does not
    /// need for facts are accepted and skipped).
    public init(path: String) throws(ParseError) {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ParseError(file: path, line: 0, message: "cannot read the file")
        }
        self.path = path
        name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw ParseError(file: path, line: index + 1, message: "expected KEY = VALUE")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            let words = value.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            func number(_ word: String) throws(ParseError) -> UInt64 {
                let parsed = word.lowercased().hasPrefix("0x") ? UInt64(word.dropFirst(2), radix: 16) : UInt64(word)
                guard let parsed else { throw ParseError(file: path, line: index + 1, message: "not a number: '\(word)'") }
                return parsed
            }
            switch key {
            case "intercepts":
                for word in words {
                    guard let (slot, bit) = Self.intercept(word) else {
                        throw ParseError(file: path, line: index + 1, message: "unknown intercept '\(word)'")
                    }
                    intercepts[slot] |= 1 << UInt32(bit)
                }
            case "msr_read": for word in words { msrRead.append(try number(word)) }
            case "msr_write": for word in words { msrWrite.append(try number(word)) }
            case "io_ports": for word in words { ioPorts.append(try number(word)) }
            case "npt": npt = value != "off"
            case "cpl": cpl = try number(value)
            case "flow": flowL2 = value == "l2"
            case "inject": injects = true
            case "action":
                // action = STEP set|clear INTERCEPT WHY...
                guard words.count >= 3, let (slot, _) = Self.intercept(words[2]) else {
                    throw ParseError(file: path, line: index + 1, message: "action = STEP set|clear INTERCEPT WHY")
                }
                changedWords.insert(slot)
            case "attempt":
                // attempt = WHY ; OFFSET/WIDTH set|clear|put VALUE ; ...
                for part in value.split(separator: ";").dropFirst() {
                    guard let offset = part.trimmingCharacters(in: .whitespaces).split(separator: "/").first else { continue }
                    pokedOffsets.insert(try number(String(offset)))
                }
            default:
                continue
            }
        }
    }

    /// The intercept word and bit of a `vmm.c` intercept name.
    static func intercept(_ name: String) -> (Int, Int)? {
        for n in 0..<16 {
            for (prefix, slot) in [("cr", 0), ("dr", 1)] {
                if name == "\(prefix)\(n)_read" { return (slot, n) }
                if name == "\(prefix)\(n)_write" { return (slot, n + 16) }
            }
        }
        if name.hasPrefix("excp_"), let bit = exceptions.firstIndex(of: String(name.dropFirst(5))) { return (2, bit) }
        if let bit = word3.firstIndex(of: name) { return (3, bit) }
        if let bit = word4.firstIndex(of: name) { return (4, bit) }
        if let bit = word5.firstIndex(of: name) { return (5, bit) }
        return nil
    }

    /// Whether an attempt pokes the vmcb field at `offset` (`size` bytes).
    private func poked(_ offset: UInt64, size: UInt64 = 8) -> Bool {
        pokedOffsets.contains { $0 >= offset && $0 < offset + size }
    }

    private static func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }

    /// The facts file as a JSON object.
    public func document() -> [String: Any] {
        let source = "lab/scenarios/\(name).scn"
        var common: [String: Any] = [
            "l1": ["cpl": 0],
            "hsave_pa": Self.hex(Self.hsave),
            "smm": 0,
            // One memslot (vmm.c); CPUID LM: the VMM starts L1 in long mode, which KVM_SET_SREGS
            // accepts only with LM in the guest CPUID (x86.c:kvm_valid_efer).
            "guest": ["memory": [[Self.hex(0), Self.hex(Self.ramSize - 1)]], "cpuid": ["lm": 1]],
        ]
        if flowL2 { common["l2"] = ["cpl": cpl] }
        var vmcb: [String: Any] = [:]
        var words: [String: Any] = [:]
        func word(_ index: Int) -> UInt32? {
            changedWords.contains(index) || poked(UInt64(index) * 4, size: 4) ? nil : intercepts[index]
        }
        if let cr = word(0) {
            words["cr_read"] = Self.hex(UInt64(cr & 0xffff))
            words["cr_write"] = Self.hex(UInt64(cr >> 16))
        }
        if let dr = word(1) {
            words["dr_read"] = Self.hex(UInt64(dr & 0xffff))
            words["dr_write"] = Self.hex(UInt64(dr >> 16))
        }
        for (index, key) in [(2, "excp"), (3, "word3"), (4, "word4"), (5, "word5")] {
            if let value = word(index) { words[key] = Self.hex(UInt64(value)) }
        }
        vmcb["intercepts"] = words
        var msrpm: [String: Any] = ["*": ["read": 0, "write": 0]]
        for msr in Set(msrRead + msrWrite).sorted() {
            var entry: [String: Any] = [:]
            if msrRead.contains(msr) { entry["read"] = 1 }
            if msrWrite.contains(msr) { entry["write"] = 1 }
            msrpm[Self.hex(msr)] = entry
        }
        vmcb["msrpm"] = msrpm
        var iopm: [String: Any] = ["*": 0]
        for port in Set(ioPorts).sorted() where port <= 0x10002 { iopm[Self.hex(port)] = 1 }
        vmcb["iopm"] = iopm
        let fields: [(String, UInt64, UInt64, UInt64)] = [
            // key, vmcb offset, bytes, value
            ("iopm_base_pa", 0x040, 8, Self.iopmBase), ("msrpm_base_pa", 0x048, 8, Self.msrpmBase), ("asid", 0x058, 4, 1),
            ("int_ctl", 0x060, 4, 0), ("virt_ext", 0x0b8, 8, 0),
            ("efer", 0x4d0, 8, Self.efer), ("cr4", 0x548, 8, Self.cr4), ("cr3", 0x550, 8, Self.cr3), ("cr0", 0x558, 8, Self.cr0),
            ("dr7", 0x560, 8, Self.dr7), ("dr6", 0x568, 8, Self.dr6),
            ("cs_attrib", 0x412, 2, cpl == 3 ? Self.userCode : Self.kernelCode),
        ]
        for (key, offset, size, value) in fields where !poked(offset, size: size) { vmcb[key] = Self.hex(value) }
        if !poked(0x090) { vmcb["nested_paging"] = npt ? 1 : 0 }
        if npt, !poked(0x0b0) { vmcb["nested_cr3"] = Self.hex(Self.nestedCR3) }
        if !injects, !poked(0x0a8) { vmcb["event_inj"] = Self.hex(0) }
        return [
            "description": "What L1 sets up in lab scenario \(name) (from \(source) and the lab's layout in lab/src); written by svmdbg lab facts, not from a trace",
            "source": source,
            "entries": [
                ["description": "L1 and its VM, at every exit", "state": common],
                [
                    "description": "the vmcb12 L1 builds at \(Self.hex(Self.vmcb12Address)) (lab/src/l1.c:vmcb_init); fields a VMRUN attempt, action or inject changes are left out",
                    "scope": ["vmcb12": Self.hex(Self.vmcb12Address)], "state": ["vmcb12": vmcb],
                ] as [String: Any],
            ],
        ]
    }

    /// The facts file's text (sorted keys, one trailing newline).
    public func json() -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: document(), options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]),
            let text = String(data: data, encoding: .utf8)
        else { return "{}\n" }
        return text + "\n"
    }
}
