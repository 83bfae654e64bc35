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
    /// The `intercepts` names as the scenario lists them.
    var interceptNames: Set<String> = []
    var msrRead: [UInt64] = []
    var msrWrite: [UInt64] = []
    var ioPorts: [UInt64] = []
    var npt = false
    /// `npt =`: off, identity, holes or remap (`l1.c:npt_build`).
    var nptLayout = "off"
    /// The pokes of each `attempt`, in order: offset, width in bits, op, value.
    var attempts: [[Poke]] = []
    /// One `OFFSET/WIDTH set|clear|put VALUE` of an attempt (`l1.c:apply_pokes`).
    struct Poke: Sendable {
        var offset: UInt64
        var width: UInt64
        var op: String
        var value: UInt64
    }
    var cpl: UInt64 = 0
    var flowL2 = true
    /// `program =`: the L2 program's name in lab/src/l1.S.
    var program = "hlt"
    /// RIP of each L2 step (a run's manifest, `l2_program.steps`) and RAX/RCX there (lab/src/l1.S).
    var stepRIPs: [Int: UInt64] = [:]
    var stepRegisters: [Int: LabProgramOperands.Registers] = [:]
    /// `mem = ADDR VALUE` lines: 64-bit values the VMM writes into L1's memory before start.
    var memory: [UInt64: UInt64] = [:]
    /// Where the step table came from, for sources.
    var stepSource = ""
    /// `flow =` (l2, l1-vmrun, l1-vmload, l1-vmsave) and `bad =` (misaligned, illegal, unbacked).
    var flow = "l2"
    var bad = "unbacked"
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
                interceptNames.formUnion(words)
                for word in words {
                    guard let (slot, bit) = Self.intercept(word) else {
                        throw ParseError(file: path, line: index + 1, message: "unknown intercept '\(word)'")
                    }
                    intercepts[slot] |= 1 << UInt32(bit)
                }
            case "msr_read": for word in words { msrRead.append(try number(word)) }
            case "msr_write": for word in words { msrWrite.append(try number(word)) }
            case "io_ports": for word in words { ioPorts.append(try number(word)) }
            case "npt":
                guard ["off", "identity", "holes", "remap"].contains(value) else {
                    throw ParseError(file: path, line: index + 1, message: "npt must be off, identity, holes or remap")
                }
                npt = value != "off"
                nptLayout = value
            case "cpl": cpl = try number(value)
            case "flow":
                flowL2 = value == "l2"
                flow = value
            case "bad": bad = value
            case "inject": injects = true
            case "program": program = value
            case "mem":
                guard words.count == 2 else { throw ParseError(file: path, line: index + 1, message: "mem = ADDR VALUE") }
                memory[try number(words[0])] = try number(words[1])
            case "action":
                // action = STEP set|clear INTERCEPT WHY...
                guard words.count >= 3, let (slot, _) = Self.intercept(words[2]) else {
                    throw ParseError(file: path, line: index + 1, message: "action = STEP set|clear INTERCEPT WHY")
                }
                changedWords.insert(slot)
            case "attempt":
                // attempt = WHY ; OFFSET/WIDTH set|clear|put VALUE ; ...
                var pokes: [Poke] = []
                for part in value.split(separator: ";").dropFirst() {
                    // OFFSET/WIDTH set|clear|put VALUE (vmm.c:parse_scenario)
                    let fields = part.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                    let place = fields.first?.split(separator: "/").map(String.init) ?? []
                    guard fields.count == 3, place.count == 2, ["set", "clear", "put"].contains(fields[1]) else {
                        throw ParseError(file: path, line: index + 1, message: "attempt = WHY ; OFFSET/WIDTH set|clear|put VALUE ; ...")
                    }
                    let width = try number(place[1])
                    guard [8, 16, 32, 64].contains(width) else {
                        throw ParseError(file: path, line: index + 1, message: "poke width must be 8, 16, 32 or 64")
                    }
                    let poke = Poke(offset: try number(place[0]), width: width, op: fields[1], value: try number(fields[2]))
                    pokedOffsets.insert(poke.offset)
                    pokes.append(poke)
                }
                attempts.append(pokes)
            default:
                continue
            }
        }
    }

    /// Adds the operand registers of the L2 program's steps: RIPs from a run's manifest (the
    /// step table the VMM wrote into L1's `lab_config`), RAX/RCX from the program's source
    /// (`l1Source`, lab/src/l1.S). A manifest of another program is refused.
    public mutating func addSteps(manifest: String, l1Source: String) throws(ParseError) {
        guard let data = FileManager.default.contents(atPath: manifest), let table = LabProgramOperands.stepRIPs(manifest: data) else {
            throw ParseError(file: manifest, line: 0, message: "no l2_program step table")
        }
        guard table.program == program.replacingOccurrences(of: "-", with: "_") || table.program == program else {
            throw ParseError(file: manifest, line: 0, message: "its L2 program is \(table.program), the scenario's \(program)")
        }
        guard let data = FileManager.default.contents(atPath: l1Source), let text = String(data: data, encoding: .utf8) else {
            throw ParseError(file: l1Source, line: 0, message: "cannot read the file")
        }
        stepRIPs = table.rips
        if table.program.hasPrefix("replay_") {
            // The generic L2 programs (lab/src/l2-replay.S) load RAX/RCX from the scenario's
            // `mem` lines at LAB_L2_REPLAY before their one step.
            let base = LabScenarioExport.replayRegisters
            stepRegisters = [1: LabProgramOperands.Registers(rax: memory[base], rcx: memory[base + 8])]
            stepSource = "lab/src/l2-replay.S PROG \(table.program), RAX/RCX from the scenario's mem lines, step RIPs from \(URL(fileURLWithPath: manifest).lastPathComponent)"
            return
        }
        stepRegisters = LabProgramOperands.steps(program: table.program, source: text, skipped: skippedInstructions)
        stepSource = "lab/src/l1.S PROG \(table.program), step RIPs from \(URL(fileURLWithPath: manifest).lastPathComponent)"
    }

    /// The L2 instructions that never execute, so never write a register, under this
    /// scenario: those L1 intercepts (lab/src/l1.c's exit loop only moves L2's RIP past them,
    /// emulating nothing) and, at CPL 3, the privileged ones (#GP; L1's or L2's handler skips
    /// them and the exception stub restores every register).
    public func skippedInstructions(_ mnemonic: String, _ operands: [String]) -> Bool {
        let intercepted: [String: Set<String>] = [
            "cpuid": ["cpuid"], "rdtsc": ["rdtsc"], "rdtscp": ["rdtscp"], "rdpmc": ["rdpmc"], "hlt": ["hlt"],
            "vmmcall": ["vmmcall"], "invd": ["invd"], "pause": ["pause"],
        ]
        // Only intercepts no `action` changes during the run (their word stays as vmcb_init set it).
        for (name, mnemonics) in intercepted where interceptNames.contains(name) && mnemonics.contains(mnemonic) {
            if let (slot, _) = Self.intercept(name), !changedWords.contains(slot) { return true }
        }
        guard cpl == 3 else { return false }
        let privileged: Set<String> = ["rdmsr", "wrmsr", "hlt", "invd", "wbinvd", "lgdt", "lidt", "lldt", "ltr", "lmsw", "clts", "invlpg", "rdpmc"]
        if privileged.contains(mnemonic) { return true }
        return mnemonic.hasPrefix("mov") && operands.contains { $0.hasPrefix("%cr") || $0.hasPrefix("%dr") }
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

    static func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }

    /// One vmcb12 field the facts give, as `l1.c:vmcb_init` writes it: key, vmcb offset, bytes, value.
    struct Field {
        var key: String
        var offset: UInt64
        var size: UInt64
        var value: UInt64
    }

    /// Every field the facts give, with `vmcb_init`'s value.
    var initialFields: [Field] {
        var fields: [Field] = []
        for (index, key) in ["cr", "dr", "excp", "word3", "word4", "word5"].enumerated() {
            fields.append(Field(key: key, offset: UInt64(index) * 4, size: 4, value: UInt64(intercepts[index])))
        }
        fields += [
            Field(key: "iopm_base_pa", offset: 0x040, size: 8, value: Self.iopmBase),
            Field(key: "msrpm_base_pa", offset: 0x048, size: 8, value: Self.msrpmBase),
            Field(key: "asid", offset: 0x058, size: 4, value: 1), Field(key: "int_ctl", offset: 0x060, size: 4, value: 0),
            Field(key: "nested_ctl", offset: 0x090, size: 8, value: npt ? 1 : 0),
            Field(key: "event_inj", offset: 0x0a8, size: 4, value: 0),
            Field(key: "nested_cr3", offset: 0x0b0, size: 8, value: npt ? Self.nestedCR3 : 0),
            Field(key: "virt_ext", offset: 0x0b8, size: 8, value: 0),
            Field(key: "cs_attrib", offset: 0x412, size: 2, value: cpl == 3 ? Self.userCode : Self.kernelCode),
            Field(key: "efer", offset: 0x4d0, size: 8, value: Self.efer), Field(key: "cr4", offset: 0x548, size: 8, value: Self.cr4),
            Field(key: "cr3", offset: 0x550, size: 8, value: Self.cr3), Field(key: "cr0", offset: 0x558, size: 8, value: Self.cr0),
            Field(key: "dr7", offset: 0x560, size: 8, value: Self.dr7), Field(key: "dr6", offset: 0x568, size: 8, value: Self.dr6),
        ]
        return fields
    }

    /// The fields after `pokes` (`l1.c:apply_pokes`); a field a poke covers only in part is
    /// `nil` (unknown).
    func fields(after pokes: [Poke]) -> [(Field, UInt64?)] {
        initialFields.map { field in
            var value: UInt64? = field.value
            for poke in pokes {
                let bytes = poke.width / 8
                guard poke.offset < field.offset + field.size, field.offset < poke.offset + bytes else { continue }
                guard poke.offset == field.offset, bytes == field.size, let current = value else {
                    value = nil
                    continue
                }
                let mask: UInt64 = bytes == 8 ? ~0 : (1 << (bytes * 8)) - 1
                switch poke.op {
                case "set": value = (current | poke.value) & mask
                case "clear": value = current & ~poke.value & mask
                default: value = poke.value & mask
                }
            }
            return (field, value)
        }
    }

    /// Whether the scenario changes `field` at some VMRUN: an attempt pokes it, an `action`
    /// changes its intercept word, an `inject` writes `event_inj`.
    func changes(_ field: Field) -> Bool {
        if poked(field.offset, size: field.size) { return true }
        if field.offset < 0x18, changedWords.contains(Int(field.offset / 4)) { return true }
        return injects && field.key == "event_inj"
    }

    /// Writes `fields` into a `vmcb12` facts object.
    static func put(_ fields: [(Field, UInt64?)], into vmcb: inout [String: Any]) {
        var words = vmcb["intercepts"] as? [String: Any] ?? [:]
        let enabled = fields.first { $0.0.key == "nested_ctl" }?.1
        for (field, value) in fields {
            guard let value else { continue }
            switch field.key {
            case "cr", "dr":
                words["\(field.key)_read"] = hex(value & 0xffff)
                words["\(field.key)_write"] = hex(value >> 16)
            case "excp", "word3", "word4", "word5": words[field.key] = hex(value)
            case "nested_ctl": vmcb["nested_paging"] = value & 1
            // nested_cr3 is read only with nested paging on (and replay drops it otherwise).
            case "nested_cr3": if let enabled, enabled & 1 != 0 { vmcb["nested_cr3"] = hex(value) }
            default: vmcb[field.key] = hex(value)
            }
        }
        if !words.isEmpty { vmcb["intercepts"] = words }
    }

    /// L1's page tables (`vmm.c`: PML4 0x1000 → PDPT 0x2000 → PD 0x3000 of 512 2-MiB pages with
    /// P, R/W, U/S; nothing else present), which vmcb_init also gives L2 (save.cr3 = L1's CR3).
    static func pageTables(_ source: String) -> [[String: Any]] {
        [
            ["from": hex(0), "to": hex(0x3fff_ffff), "present": 1, "writable": 1, "user": 1, "executable": 1, "source": "\(source): 1 GiB identity map, 2 MiB pages P|RW|U, no NX"],
            ["from": hex(0x4000_0000), "to": hex(UInt64.max), "present": 0, "source": "\(source): only PML4[0] and PDPT[0] present"],
        ]
    }

    /// L1's NPT as `l1.c:npt_build` makes it for this layout: the first 2 MiB as 4-KiB pages,
    /// the rest of the first GiB as 2-MiB pages, all P|RW|U, nothing above 1 GiB; `holes`:
    /// 0x70000 not present, 0x71000 read-only.
    func nptMap(_ source: String) -> [[String: Any]] {
        var ranges: [[String: Any]] = []
        let origin = "\(source): npt = \(nptLayout) (lab/src/l1.c:npt_build)"
        if nptLayout == "holes" {
            ranges.append(["from": Self.hex(0x70000), "to": Self.hex(0x70fff), "present": 0, "source": origin])
            ranges.append(["from": Self.hex(0x71000), "to": Self.hex(0x71fff), "present": 1, "writable": 0, "user": 1, "executable": 1, "source": origin])
        }
        ranges.append(["from": Self.hex(0), "to": Self.hex(0x3fff_ffff), "present": 1, "writable": 1, "user": 1, "executable": 1, "source": origin])
        ranges.append(["from": Self.hex(0x4000_0000), "to": Self.hex(UInt64.max), "present": 0, "source": origin])
        return ranges
    }

    /// The facts file as a JSON object.
    public func document() -> [String: Any] {
        let source = "lab/scenarios/\(name).scn"
        var common: [String: Any] = [
            // vmm.c's sregs; L1 never writes CR0 or CR4 (lab/src/l1.c, l1.S).
            "l1": ["cpl": 0, "cr0": Self.hex(Self.cr0), "cr4": Self.hex(Self.cr4), "page_tables": Self.pageTables("lab/src/vmm.c")],
            "hsave_pa": Self.hex(Self.hsave),
            "smm": 0,
            // One memslot (vmm.c); CPUID LM: the VMM starts L1 in long mode, which KVM_SET_SREGS
            // accepts only with LM in the guest CPUID (x86.c:kvm_valid_efer).
            "guest": ["memory": [[Self.hex(0), Self.hex(Self.ramSize - 1)]], "cpuid": ["lm": 1]],
        ]
        // L2 runs on vmcb12's save area: L1's CR3 (the same page tables) and CR4; no L2
        // program writes another CR3 or CR4 value (lab/src/l1.S).
        var l2: [String: Any] = ["cr4": Self.hex(Self.cr4), "page_tables": Self.pageTables("lab/src/vmm.c via vmcb12.cr3")]
        if flowL2 { l2["cpl"] = cpl }
        common["l2"] = l2
        var vmcb: [String: Any] = [:]
        Self.put(initialFields.map { ($0, changes($0) ? nil : $0.value) }, into: &vmcb)
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
        if npt { vmcb["npt"] = nptMap(source) }
        var vmcbEntry: [String: Any] = [
            "description": "the vmcb12 L1 builds at \(Self.hex(Self.vmcb12Address)) (lab/src/l1.c:vmcb_init); fields an attempt, action or inject changes are in the VMRUN-scoped entries",
            "scope": ["vmcb12": Self.hex(Self.vmcb12Address)], "state": ["vmcb12": vmcb],
        ]
        if npt {
            // l1.c:flow_l2 maps the page of each #NPF below 2 MiB it receives (pt[gpa >> 12]).
            vmcbEntry["l1_npf_handler"] = ["maps_below": Self.hex(0x20_0000)]
        }
        let vmcb12 = Self.hex(Self.vmcb12Address)
        if flowL2 {
            // l1.c:flow_l2 runs every VMRUN on vmcb12 at LAB_VMCB12 (svm_run(v)).
            vmcbEntry["scope"] = ["vmrun": "1-"]
            vmcbEntry["operands"] = ["rax": vmcb12]
        } else if flow == "l1-vmrun" {
            // l1.c:flow_l1_insn: VMRUN 1 on vmcb12, VMRUN 2 with the bad RAX.
            vmcbEntry["scope"] = ["vmrun": 1]
            vmcbEntry["operands"] = ["rax": vmcb12]
        }
        var entries: [[String: Any]] = [["description": "L1 and its VM, at every exit", "state": common], vmcbEntry]
        if flow == "l1-vmrun" {
            // l1.c:bad_rax(LAB_VMCB12), lab.h LAB_BAD_*.
            let rax: UInt64 = bad == "misaligned" ? Self.vmcb12Address + 0x10 : bad == "illegal" ? 1 << 40 : 0x1_0000_0000
            entries.append([
                "description": "VMRUN 2: RAX = \(bad) (lab/src/l1.c:bad_rax)", "scope": ["vmrun": 2], "operands": ["rax": Self.hex(rax)],
            ])
        }
        if flow == "l1-vmload" || flow == "l1-vmsave" {
            // l1.c:flow_l1_insn: the first on the aux VMCB, the second with the bad RAX.
            let aux: UInt64 = 0x32000
            let rax: UInt64 = bad == "misaligned" ? aux + 0x10 : bad == "illegal" ? 1 << 40 : 0x1_0000_0000
            let kind = flow == "l1-vmload" ? "vmload" : "vmsave"
            entries.append(["description": "\(kind.uppercased()) 1 on LAB_VMCB_AUX (lab/src/l1.c:flow_l1_insn)", "scope": [kind: 1], "operands": ["rax": Self.hex(aux)]])
            entries.append(["description": "\(kind.uppercased()) 2: RAX = \(bad) (lab/src/l1.c:bad_rax)", "scope": [kind: 2], "operands": ["rax": Self.hex(rax)]])
        }
        if flowL2 || flow == "l1-vmrun" {
            // L2 runs on vmcb12's EFER (SVME set) and CR0 (PG set); no L2 program writes EFER or clears CR0.PG (lab/src/l1.S).
            entries.append([
                "description": "L2's EFER.SVME and CR0.PG: vmcb12's, never changed by an L2 program", "scope": ["level": "L2"],
                "state": ["assumptions": ["l2.efer-svme": 1, "l2.paging": 1]],
            ])
        }
        for (step, rip) in stepRIPs.sorted(by: { $0.key < $1.key }) {
            guard let registers = stepRegisters[step], registers.rax != nil || registers.rcx != nil else { continue }
            var operands: [String: Any] = [:]
            if let rax = registers.rax { operands["rax"] = Self.hex(rax) }
            if let rcx = registers.rcx { operands["rcx"] = Self.hex(rcx) }
            entries.append([
                "description": "L2 step \(step) of \(program): the registers the program loads before it",
                "source": stepSource, "scope": ["level": "L2", "rip": Self.hex(rip)], "operands": operands,
            ])
        }
        if flowL2, !attempts.isEmpty {
            // l1.c:flow_l2: VMRUN k (k = 1…n) runs vmcb_init's vmcb12 with attempt k's pokes;
            // VMRUN n+1 and later run vmcb_init's vmcb12 (then actions and injects).
            for (index, pokes) in attempts.enumerated() {
                var attempt: [String: Any] = [:]
                Self.put(fields(after: pokes).filter { changes($0.0) }, into: &attempt)
                entries.append([
                    "description": "VMRUN \(index + 1): attempt \(index + 1) of \(source) (vmcb_init, then its pokes)",
                    "scope": ["vmrun": index + 1], "state": ["vmcb12": attempt],
                ])
            }
            var valid: [String: Any] = [:]
            Self.put(initialFields.filter { changes($0) && poked($0.offset, size: $0.size) }.map { field in
                (field, field.offset < 0x18 && changedWords.contains(Int(field.offset / 4)) || (injects && field.key == "event_inj") ? nil : field.value)
            }, into: &valid)
            if !valid.isEmpty {
                entries.append([
                    "description": "VMRUN \(attempts.count + 1) and later: vmcb_init's values of the fields the attempts poked",
                    "scope": ["vmrun": "\(attempts.count + 1)-"], "state": ["vmcb12": valid],
                ])
            }
        }
        return [
            "description": "What L1 sets up in lab scenario \(name) (from \(source) and the lab's layout in lab/src); written by svmdbg lab facts, not from a trace",
            "source": source,
            "entries": entries,
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
