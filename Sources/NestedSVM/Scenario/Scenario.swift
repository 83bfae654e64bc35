import Foundation

/// A `decide` input: known state and one event, read from the JSON documented in
/// `docs/decide.md`. Keys are snake_case; numbers may be JSON numbers or strings (`"0x7c"`,
/// `"124"`); flags are `true`/`false` or `0`/`1`; any leaf may instead be
/// `{"value": …, "source": "kvm_nested_intercepts line 65"}` to record where it came from
/// (otherwise the top-level `source`, default `"scenario"`, is cited). Unknown keys are errors.
public struct Scenario: Sendable, Equatable {
    /// What the scenario shows.
    public var description: String
    /// The profile the scenario was written for (`--profile` wins).
    public var profile: String?
    /// Host facts from the file (`--host` wins key by key).
    public var host: HostFacts
    /// The known vCPU state.
    public var state: VCPUState
    /// The event to decide.
    public var event: Event
    /// The KVM test this scenario retells (`kvm_test`), if any.
    public var kvmTest: KVMTestReference?
    /// The expected outcome (`expect`), if stated.
    public var expect: ScenarioExpectation?
    /// Expected outcomes that differ per profile (`expect_by_profile`).
    public var expectByProfile: [String: ScenarioExpectation]
    /// The profiles the scenario applies to (`profiles`); `nil` = all.
    public var profiles: [String]?

    /// Builds a scenario.
    public init(
        description: String, profile: String?, host: HostFacts, state: VCPUState, event: Event,
        kvmTest: KVMTestReference? = nil, expect: ScenarioExpectation? = nil,
        expectByProfile: [String: ScenarioExpectation] = [:], profiles: [String]? = nil
    ) {
        self.description = description
        self.profile = profile
        self.host = host
        self.state = state
        self.event = event
        self.kvmTest = kvmTest
        self.expect = expect
        self.expectByProfile = expectByProfile
        self.profiles = profiles
    }

    /// Parses the JSON text of a scenario.
    public init(json data: Data) throws(ScenarioError) {
        let root: JSONValue
        do {
            root = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw ScenarioError(path: "$", message: "not valid JSON")
        }
        guard case .object(let object) = root else { throw ScenarioError(path: "$", message: "expected an object") }
        var defaultSource = "scenario"
        if case .string(let source)? = object["source"] { defaultSource = source }
        let top = ObjectReader(object: object, path: "$", source: defaultSource)
        try top.allowOnly([
            "description", "source", "profile", "host", "state", "event", "kvm_test", "expect", "expect_by_profile", "profiles",
        ])
        description = try top.string("description") ?? ""
        profile = try top.string("profile")
        if let name = profile, KernelProfile(named: name) == nil {
            throw ScenarioError(path: "$.profile", message: "unknown profile '\(name)' (known: \(KernelProfile.all.map(\.name).joined(separator: ", ")))")
        }
        host = try top.object("host").map(Self.host) ?? HostFacts()
        state = try top.object("state").map(Self.state) ?? VCPUState()
        guard let eventReader = try top.object("event") else { throw ScenarioError(path: "$.event", message: "missing") }
        event = try Self.event(eventReader)
        kvmTest = try top.object("kvm_test").map(Self.kvmTest)
        expect = try top.object("expect").map(Self.expectation)
        expectByProfile = [:]
        if let perProfile = try top.object("expect_by_profile") {
            for key in perProfile.keys {
                guard KernelProfile(named: key) != nil else {
                    throw ScenarioError(path: "\(perProfile.path).\(key)", message: "unknown profile '\(key)'")
                }
                if let reader = try perProfile.object(key) { expectByProfile[key] = try Self.expectation(reader) }
            }
        }
        profiles = nil
        if let value = object["profiles"] {
            guard case .array(let items) = value else { throw ScenarioError(path: "$.profiles", message: "expected an array of profile names") }
            var names: [String] = []
            for (index, item) in items.enumerated() {
                guard case .string(let name) = item, KernelProfile(named: name) != nil else {
                    throw ScenarioError(path: "$.profiles[\(index)]", message: "expected a profile name (\(KernelProfile.all.map(\.name).joined(separator: ", ")))")
                }
                names.append(name)
            }
            profiles = names
        }
    }

    private static func kvmTest(_ reader: ObjectReader) throws(ScenarioError) -> KVMTestReference {
        try reader.allowOnly(["suite", "file", "test", "assertion"])
        func required(_ key: String) throws(ScenarioError) -> String {
            guard let text = try reader.string(key), !text.isEmpty else { throw ScenarioError(path: "\(reader.path).\(key)", message: "missing") }
            return text
        }
        let suite = try required("suite")
        guard suite == "kvm-unit-tests" || suite == "selftests" else {
            throw ScenarioError(path: "\(reader.path).suite", message: "expected kvm-unit-tests or selftests")
        }
        return KVMTestReference(suite: suite, file: try required("file"), test: try required("test"), assertion: try required("assertion"))
    }

    private static func expectation(_ reader: ObjectReader) throws(ScenarioError) -> ScenarioExpectation {
        try reader.allowOnly(["kind", "exit_code", "exit_info_1", "exit_info_2", "vector", "error_code", "level", "check", "text", "lines", "then"])
        guard let kindText = try reader.string("kind") else { throw ScenarioError(path: "\(reader.path).kind", message: "missing") }
        guard let kind = Outcome.Kind(rawValue: kindText) else {
            throw ScenarioError(path: "\(reader.path).kind", message: "unknown outcome kind '\(kindText)' (expected one of: \(Outcome.Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        var expectation = ScenarioExpectation(kind: kind)
        if let (value, path, _) = reader.leaf("exit_code") { expectation.exitCode = try exitCode(value, path) }
        expectation.exitInfo1 = try reader.known("exit_info_1", ObjectReader.number)?.value
        expectation.exitInfo2 = try reader.known("exit_info_2", ObjectReader.number)?.value
        if let vector = try reader.known("vector", ObjectReader.number)?.value {
            guard vector <= 0xff else { throw ScenarioError(path: "\(reader.path).vector", message: "vector must be 0-255") }
            expectation.vector = UInt8(vector)
        }
        expectation.errorCode = try reader.known("error_code", ObjectReader.number32)?.value
        expectation.level = try reader.known("level") { value, path throws(ScenarioError) in
            guard case .string(let text) = value, let level = GuestLevel(rawValue: text.uppercased()) else {
                throw ScenarioError(path: path, message: "expected \"L1\" or \"L2\"")
            }
            return level
        }?.value
        expectation.check = try reader.string("check")
        expectation.text = try reader.string("text")
        if let value = reader.object["then"] {
            guard case .array(let items) = value else {
                throw ScenarioError(path: "\(reader.path).then", message: "expected a list of outcomes, found \(value.typeName)")
            }
            var then: [ScenarioExpectation] = []
            for (index, item) in items.enumerated() {
                let path = "\(reader.path).then[\(index)]"
                guard case .object(let inner) = item else { throw ScenarioError(path: path, message: "expected an object, found \(item.typeName)") }
                then.append(try Self.expectation(ObjectReader(object: inner, path: path, source: reader.source)))
            }
            expectation.then = then
        }
        return expectation
    }

    static func host(_ reader: ObjectReader) throws(ScenarioError) -> HostFacts {
        try reader.allowOnly(Set(HostFacts.allKeys))
        var host = HostFacts()
        for key in HostFacts.allKeys {
            guard let (value, path, source) = reader.leaf(key) else { continue }
            let text: String
            switch value {
            case .bool(let flag): text = flag ? "1" : "0"
            case .unsigned(let number): text = "\(number)"
            case .string(let string): text = string
            default: throw ScenarioError(path: path, message: "expected 0/1 or a number, found \(value.typeName)")
            }
            do {
                try host.set(key: key, value: text, source: source)
            } catch {
                throw ScenarioError(path: path, message: error.description)
            }
        }
        return host
    }

    static func state(_ reader: ObjectReader) throws(ScenarioError) -> VCPUState {
        try reader.allowOnly(["level", "vmcb12", "l1", "l2", "hsave_pa", "smm", "guest", "assumptions"])
        var state = VCPUState()
        state.level = try reader.known("level") { value, path throws(ScenarioError) in
            guard case .string(let text) = value, let level = GuestLevel(rawValue: text.uppercased()) else {
                throw ScenarioError(path: path, message: "expected \"L1\" or \"L2\"")
            }
            return level
        }
        if let vmcb = try reader.object("vmcb12") { state.vmcb12 = try vmcb12(vmcb) }
        if let l1 = try reader.object("l1") { state.l1 = try registers(l1) }
        if let l2 = try reader.object("l2") { state.l2 = try registers(l2) }
        state.hsavePA = try reader.known("hsave_pa", ObjectReader.number)
        state.inSMM = try reader.known("smm", ObjectReader.flag)
        if let guest = try reader.object("guest") { state.guest = try guestFacts(guest) }
        if let vmcb = try reader.object("vmcb12"), let (value, path, source) = vmcb.leaf("pdptes") {
            if let fact = try pdptesLoad(value, path, source: source, state: state) {
                state.assumptions[FactID.vmrunCheck("load-pdptrs")] = fact
            }
        }
        if let facts = try reader.object("assumptions") {
            for key in facts.keys {
                guard let id = Fact(id: key) else {
                    throw ScenarioError(path: "\(facts.path).\(key)", message: "unknown fact id (see docs/decide.md, Facts)")
                }
                if let fact = try facts.known(key, ObjectReader.flag) { state.assumptions[id] = fact }
            }
        }
        return state
    }

    /// `vmcb12.pdptes`: the four PDPTEs at L2's CR3 (legacy PAE paging). Whether
    /// `load_pdptrs` succeeds (`svm/nested.c:nested_svm_load_cr3`): the PDPT page must be
    /// backed, and a present PDPTE must have no reserved bit (2:1, 8:5, MAXPHYADDR–63). `nil`
    /// when the guest facts do not settle it.
    static func pdptesLoad(_ value: JSONValue, _ path: String, source: String, state: VCPUState) throws(ScenarioError) -> Known<Bool>? {
        guard case .array(let items) = value, items.count == 4 else { throw ScenarioError(path: path, message: "expected the four PDPTEs") }
        var entries: [UInt64] = []
        for (index, item) in items.enumerated() { entries.append(try ObjectReader.number(item, "\(path)[\(index)]")) }
        let lowReserved: UInt64 = (0x3 << 1) | (0xf << 5)
        for (index, entry) in entries.enumerated() where entry & 1 != 0 && entry & lowReserved != 0 {
            return Known(false, source: "\(source): PDPTE \(index) sets a reserved bit (load_pdptrs)")
        }
        if let cr3 = state.vmcb12.cr3?.value, let backed = state.guest.isBacked(cr3 & ~RegisterBit.pageOffsetMask), !backed.value {
            return Known(false, source: "\(source): the PDPT page at CR3 is not backed (load_pdptrs)")
        }
        guard let bits = state.guest.maxPhysAddr?.value else { return nil }
        let high: UInt64 = bits >= 64 ? 0 : ~((UInt64(1) << UInt64(bits)) - 1)
        for (index, entry) in entries.enumerated() where entry & 1 != 0 && entry & high != 0 {
            return Known(false, source: "\(source): PDPTE \(index) sets a bit at or above MAXPHYADDR (load_pdptrs)")
        }
        guard let cr3 = state.vmcb12.cr3?.value, state.guest.isBacked(cr3 & ~RegisterBit.pageOffsetMask)?.value == true else { return nil }
        return Known(true, source: "\(source): the PDPTEs load (load_pdptrs)")
    }

    private static func vmcb12(_ reader: ObjectReader) throws(ScenarioError) -> VMCB12 {
        try reader.allowOnly([
            "intercepts", "msrpm", "iopm", "nested_paging", "nested_cr3", "int_ctl", "event_inj", "virt_ext", "asid",
            "msrpm_base_pa", "iopm_base_pa", "efer", "cr0", "cr3", "cr4", "dr6", "dr7", "cs_attrib", "pdptes", "npt",
        ])
        var vmcb = VMCB12()
        if let intercepts = try reader.object("intercepts") { vmcb.intercepts = try interceptWords(intercepts) }
        if let msrpm = try reader.object("msrpm") {
            var entries: [UInt32: MSRPermissionMap.Entry] = [:]
            var others: MSRPermissionMap.Entry?
            for key in msrpm.keys {
                guard let entry = try msrpm.object(key) else { continue }
                try entry.allowOnly(["read", "write"])
                let bits = MSRPermissionMap.Entry(
                    read: try entry.known("read", ObjectReader.flag), write: try entry.known("write", ObjectReader.flag))
                // "*": every MSR of the map's ranges not listed (L1 knows its whole map).
                if key == "*" { others = bits; continue }
                let msr = try ObjectReader.number(key: key, path: msrpm.path)
                entries[UInt32(truncatingIfNeeded: msr)] = bits
            }
            vmcb.msrpm = MSRPermissionMap(entries: entries, otherBits: others)
        }
        if let iopm = try reader.object("iopm") {
            var ports: [UInt32: Known<Bool>] = [:]
            var others: Known<Bool>?
            for key in iopm.keys {
                if key == "*" {
                    others = try iopm.known(key, ObjectReader.flag)
                    continue
                }
                let port = try ObjectReader.number(key: key, path: iopm.path)
                guard port <= UInt64(IOPermissionMap.lastBit) else {
                    throw ScenarioError(path: "\(iopm.path).\(key)", message: "port beyond the IOPM (max 0x10002)")
                }
                ports[UInt32(port)] = try iopm.known(key, ObjectReader.flag)
            }
            vmcb.iopm = IOPermissionMap(ports: ports, otherBits: others)
        }
        vmcb.nestedPaging = try reader.known("nested_paging", ObjectReader.flag)
        vmcb.nestedCR3 = try reader.known("nested_cr3", ObjectReader.number)
        vmcb.intCtl = try reader.known("int_ctl", ObjectReader.number32)
        vmcb.eventInj = try reader.known("event_inj", ObjectReader.number32)
        vmcb.virtExt = try reader.known("virt_ext", ObjectReader.number)
        vmcb.asid = try reader.known("asid", ObjectReader.number32)
        vmcb.msrpmBase = try reader.known("msrpm_base_pa", ObjectReader.number)
        vmcb.iopmBase = try reader.known("iopm_base_pa", ObjectReader.number)
        vmcb.efer = try reader.known("efer", ObjectReader.number)
        vmcb.cr0 = try reader.known("cr0", ObjectReader.number)
        vmcb.cr3 = try reader.known("cr3", ObjectReader.number)
        vmcb.cr4 = try reader.known("cr4", ObjectReader.number)
        vmcb.dr6 = try reader.known("dr6", ObjectReader.number)
        vmcb.dr7 = try reader.known("dr7", ObjectReader.number)
        vmcb.csAttributes = try reader.known("cs_attrib") { value, path throws(ScenarioError) in
            UInt16(truncatingIfNeeded: try ObjectReader.number(value, path))
        }
        vmcb.npt = try pageMap(reader, "npt")
        return vmcb
    }

    /// A page map: `[{"from": ADDR, "to": ADDR, "present": 0|1, "writable": 0|1, "user": 0|1,
    /// "executable": 0|1, "source": "..."}, ...]`, first match wins (`PageMap`); `executable`
    /// (no NX along the walk) may be left out, a fetch is then undecided.
    static func pageMap(_ reader: ObjectReader, _ key: String) throws(ScenarioError) -> PageMap? {
        guard let value = reader.object[key] else { return nil }
        let path = "\(reader.path).\(key)"
        guard case .array(let items) = value else {
            throw ScenarioError(path: path, message: "expected an array of {from, to, present, writable, user} ranges")
        }
        var map = PageMap()
        for (index, item) in items.enumerated() {
            let itemPath = "\(path)[\(index)]"
            guard case .object(let object) = item else { throw ScenarioError(path: itemPath, message: "expected an object") }
            var source = reader.source
            if case .string(let own)? = object["source"] { source = own }
            let range = ObjectReader(object: object, path: itemPath, source: source)
            try range.allowOnly(["from", "to", "present", "writable", "user", "executable", "source"])
            guard let first = try range.known("from", ObjectReader.number), let last = try range.known("to", ObjectReader.number) else {
                throw ScenarioError(path: itemPath, message: "give \"from\" and \"to\" (inclusive)")
            }
            guard first.value <= last.value else { throw ScenarioError(path: "\(itemPath).from", message: "from is above to") }
            guard let present = try range.known("present", ObjectReader.flag) else {
                throw ScenarioError(path: itemPath, message: "give \"present\"")
            }
            let writable = try range.known("writable", ObjectReader.flag)
            let user = try range.known("user", ObjectReader.flag)
            if present.value, writable == nil || user == nil {
                throw ScenarioError(path: itemPath, message: "a present range gives \"writable\" and \"user\"")
            }
            map.ranges.append(PageMap.Range(
                first: first.value, last: last.value, present: present.value, writable: writable?.value ?? false,
                user: user?.value ?? false, executable: try range.known("executable", ObjectReader.flag)?.value, source: source))
        }
        return map
    }

    private static func interceptWords(_ reader: ObjectReader) throws(ScenarioError) -> InterceptWords {
        try reader.allowOnly(["cr_read", "cr_write", "dr_read", "dr_write", "excp", "word3", "word4", "word5"])
        func pair(_ lowKey: String, _ highKey: String) throws(ScenarioError) -> Known<UInt32>? {
            let lowValue = try reader.known(lowKey, ObjectReader.number32)
            let highValue = try reader.known(highKey, ObjectReader.number32)
            switch (lowValue, highValue) {
            case (nil, nil): return nil
            case (let low?, let high?):
                guard low.value <= 0xffff, high.value <= 0xffff else {
                    throw ScenarioError(path: "\(reader.path).\(low.value > 0xffff ? lowKey : highKey)", message: "expected a 16-bit value")
                }
                let source = low.source == high.source ? low.source : "\(low.source); \(high.source)"
                return Known(low.value | high.value << 16, source: source)
            default:
                throw ScenarioError(path: "\(reader.path).\(lowValue == nil ? lowKey : highKey)", message: "give \(lowKey) and \(highKey) together (one VMCB word)")
            }
        }
        return InterceptWords(
            cr: try pair("cr_read", "cr_write"), dr: try pair("dr_read", "dr_write"),
            exceptions: try reader.known("excp", ObjectReader.number32), word3: try reader.known("word3", ObjectReader.number32),
            word4: try reader.known("word4", ObjectReader.number32), word5: try reader.known("word5", ObjectReader.number32))
    }

    private static func registers(_ reader: ObjectReader) throws(ScenarioError) -> GuestRegisters {
        try reader.allowOnly(["efer", "cr0", "cr4", "cpl", "rflags_if", "page_tables"])
        var registers = GuestRegisters(
            efer: try reader.known("efer", ObjectReader.number), cr0: try reader.known("cr0", ObjectReader.number),
            cr4: try reader.known("cr4", ObjectReader.number),
            cpl: try reader.known("cpl") { value, path throws(ScenarioError) in
                let cpl = try ObjectReader.number(value, path)
                guard cpl <= 3 else { throw ScenarioError(path: path, message: "CPL must be 0-3") }
                return UInt8(cpl)
            },
            interruptsEnabled: try reader.known("rflags_if", ObjectReader.flag))
        registers.pageTables = try pageMap(reader, "page_tables")
        return registers
    }

    private static func guestFacts(_ reader: ObjectReader) throws(ScenarioError) -> GuestFacts {
        try reader.allowOnly(["maxphyaddr", "cpuid", "memory", "l0_rejects_msr"])
        var facts = GuestFacts()
        facts.maxPhysAddr = try reader.known("maxphyaddr") { value, path throws(ScenarioError) in
            let bits = try ObjectReader.number(value, path)
            guard (1...64).contains(bits) else { throw ScenarioError(path: path, message: "MAXPHYADDR must be 1-64") }
            return Int(bits)
        }
        if let cpuid = try reader.object("cpuid") {
            try cpuid.allowOnly(Set(GuestFeature.allCases.map(\.rawValue)))
            for feature in GuestFeature.allCases {
                if let flag = try cpuid.known(feature.rawValue, ObjectReader.flag) { facts.features[feature] = flag }
            }
        }
        facts.backedMemory = try reader.known("memory") { value, path throws(ScenarioError) in
            guard case .array(let items) = value else { throw ScenarioError(path: path, message: "expected an array of [start, end] pairs") }
            var ranges: [MemoryRange] = []
            for (index, item) in items.enumerated() {
                let itemPath = "\(path)[\(index)]"
                guard case .array(let pair) = item, pair.count == 2 else {
                    throw ScenarioError(path: itemPath, message: "expected [start, end] (inclusive)")
                }
                let start = try ObjectReader.number(pair[0], "\(itemPath)[0]")
                let end = try ObjectReader.number(pair[1], "\(itemPath)[1]")
                guard start <= end else { throw ScenarioError(path: itemPath, message: "start is above end") }
                ranges.append(MemoryRange(start: start, end: end))
            }
            return ranges
        }
        if let rejects = try reader.object("l0_rejects_msr") {
            for key in rejects.keys {
                let msr = try ObjectReader.number(key: key, path: rejects.path)
                facts.l0RejectsMSR[UInt32(truncatingIfNeeded: msr)] = try rejects.known(key, ObjectReader.flag)
            }
        }
        return facts
    }

    private static func event(_ reader: ObjectReader) throws(ScenarioError) -> Event {
        guard let type = try reader.string("type") else { throw ScenarioError(path: "\(reader.path).type", message: "missing (exit, forced_emulation, pending, exception, event_inj or vmrun_failed)") }
        switch type {
        case "exit":
            try reader.allowOnly([
                "type", "exit_code", "exit_info_1", "exit_info_2", "exit_int_info", "exit_int_info_err", "rip", "insn_bytes",
                "rax", "rcx", "written_value", "l1_npt_walk_faults",
            ])
            guard let (codeValue, codePath, _) = reader.leaf("exit_code") else {
                throw ScenarioError(path: "\(reader.path).exit_code", message: "missing")
            }
            let code = try exitCode(codeValue, codePath)
            func plain(_ key: String) throws(ScenarioError) -> UInt64 {
                guard let (value, path, _) = reader.leaf(key) else { return 0 }
                return try ObjectReader.number(value, path)
            }
            var exit = HardwareExit(
                exitCode: code, exitInfo1: try plain("exit_info_1"), exitInfo2: try plain("exit_info_2"),
                exitIntInfo: UInt32(truncatingIfNeeded: try plain("exit_int_info")),
                exitIntInfoErr: UInt32(truncatingIfNeeded: try plain("exit_int_info_err")))
            let unknown = ["exit_info_1", "exit_info_2", "exit_int_info"].filter { reader.leaf($0) == nil }
            if !unknown.isEmpty { exit.unknownFields = unknown }
            if reader.leaf("rip") != nil { exit.rip = try plain("rip") }
            if let (value, path, _) = reader.leaf("insn_bytes") { exit.instructionBytes = try bytes(value, path) }
            exit.rax = try reader.known("rax", ObjectReader.number)
            exit.rcx = try reader.known("rcx", ObjectReader.number)
            exit.writtenValue = try reader.known("written_value", ObjectReader.number)
            exit.l1NPTWalkFaults = try reader.known("l1_npt_walk_faults", ObjectReader.flag)
            return .hardwareExit(exit)
        case "forced_emulation":
            // KVM_FEP: L2 (or L1) executes `ud2; .ascii "kvm"` then the instruction; the #UD
            // exits (exit_info_1/2 and exit_int_info are not stated: unknown) and, with
            // force_emulation_prefix, handle_ud emulates the instruction (x86.c:handle_ud).
            try reader.allowOnly(["type", "insn_bytes", "rip", "rax", "rcx", "written_value"])
            guard let (value, path, _) = reader.leaf("insn_bytes") else {
                throw ScenarioError(path: "\(reader.path).insn_bytes", message: "missing (the instruction after the prefix)")
            }
            let instruction = try bytes(value, path)
            guard !instruction.isEmpty else { throw ScenarioError(path: path, message: "no instruction bytes") }
            var exit = HardwareExit(exitCode: .exception(6), exitInfo1: 0, exitInfo2: 0, exitIntInfo: 0, exitIntInfoErr: 0)
            exit.unknownFields = ["exit_info_1", "exit_info_2", "exit_int_info"]
            exit.instructionBytes = Evaluator.forcedEmulationPrefix + instruction
            if let (value, path, _) = reader.leaf("rip") { exit.rip = try ObjectReader.number(value, path) }
            exit.rax = try reader.known("rax", ObjectReader.number)
            exit.rcx = try reader.known("rcx", ObjectReader.number)
            exit.writtenValue = try reader.known("written_value", ObjectReader.number)
            return .hardwareExit(exit)
        case "pending":
            try reader.allowOnly(["type", "pending", "vector", "error_code"])
            if let (value, path, _) = reader.leaf("pending"), case .array(let items) = value {
                // Several events pending at once (KVM's order decides, `decide.md`).
                var events: [PendingEvent] = []
                for (index, item) in items.enumerated() {
                    guard case .string(let kind) = item else { throw ScenarioError(path: "\(path)[\(index)]", message: "expected an event name") }
                    events.append(try pendingEvent(kind, path: "\(path)[\(index)]", reader))
                }
                guard !events.isEmpty else { throw ScenarioError(path: path, message: "expected at least one event") }
                return .pending(events.count == 1 ? events[0] : .simultaneous(events))
            }
            guard let kind = try reader.string("pending") else { throw ScenarioError(path: "\(reader.path).pending", message: "missing") }
            return .pending(try pendingEvent(kind, path: "\(reader.path).pending", reader))
        case "exception":
            try reader.allowOnly(["type", "vector", "error_code", "insn_bytes"])
            guard let (value, path, _) = reader.leaf("vector") else { throw ScenarioError(path: "\(reader.path).vector", message: "missing") }
            let vector = try ObjectReader.number(value, path)
            guard vector < 32 else { throw ScenarioError(path: path, message: "vector must be 0-31") }
            var errorCode: UInt32?
            if let (value, path, _) = reader.leaf("error_code") { errorCode = UInt32(truncatingIfNeeded: try ObjectReader.number(value, path)) }
            var insn: [UInt8]?
            if let (value, path, _) = reader.leaf("insn_bytes") { insn = try bytes(value, path) }
            return .guestException(vector: UInt8(vector), errorCode: errorCode, instructionBytes: insn)
        case "event_inj":
            // An event L1 injects with vmcb12's EVENTINJ whose delivery through L2's IDT faults
            // (`idt`: `not_present` gate → #NP, `beyond_limit` → #GP): the CPU raises that
            // exception while delivering it, with an IDT error code (vector << 3 | IDT | EXT;
            // EXT clear only for a software interrupt, type 4). Decided as the exception L2 raises.
            // With `idt: present`, `idt_gates` (vector → gate, "*" for the rest) or
            // `event_inj_err` the delivery is followed through the IDT (`EventInjectionDelivery`:
            // delivered into L2, or #NP/#GP → #DF → triple fault). The old form — `idt` alone,
            // `not_present` or `beyond_limit` — stays the exception L2 raises, as before.
            try reader.allowOnly(["type", "event_inj", "event_inj_err", "idt", "idt_gates"])
            guard let (value, path, _) = reader.leaf("event_inj") else { throw ScenarioError(path: "\(reader.path).event_inj", message: "missing") }
            let inj = UInt32(truncatingIfNeeded: try ObjectReader.number(value, path))
            guard inj & EventInjection.validBit != 0 else { throw ScenarioError(path: path, message: "EVENTINJ.V (bit 31) is clear: nothing is injected") }
            let type = (inj >> 8) & 7
            guard [0, 2, 3, 4].contains(type) else { throw ScenarioError(path: path, message: "EVENTINJ type \(type) is reserved (VMRUN fails: check event-inj)") }
            func gate(_ text: String, _ path: String) throws(ScenarioError) -> EventInjectionDelivery.Gate {
                guard let gate = EventInjectionDelivery.Gate(rawValue: text) else {
                    throw ScenarioError(path: path, message: "expected present, not_present, beyond_limit or unmapped")
                }
                return gate
            }
            let idt = try reader.string("idt").map { text throws(ScenarioError) in try gate(text, "\(reader.path).idt") }
            let gatesReader = try reader.object("idt_gates")
            var errorCode: UInt32?
            if let (value, path, _) = reader.leaf("event_inj_err") { errorCode = UInt32(truncatingIfNeeded: try ObjectReader.number(value, path)) }
            if let idt, idt == .notPresent || idt == .beyondLimit, gatesReader == nil, errorCode == nil {
                let fault: UInt8 = idt == .notPresent ? 11 : ExceptionVector.generalProtection
                let errorCode = (inj & 0xff) << 3 | 2 | (type == 4 ? 0 : 1)
                return .guestException(vector: fault, errorCode: errorCode)
            }
            guard idt != nil || gatesReader != nil else {
                throw ScenarioError(path: "\(reader.path).idt", message: "missing (give idt, idt_gates or both)")
            }
            var delivery = EventInjectionDelivery(eventInj: inj, errorCode: errorCode)
            if let gatesReader {
                for key in gatesReader.keys {
                    guard let text = try gatesReader.string(key) else { continue }
                    let value = try gate(text, "\(gatesReader.path).\(key)")
                    if key == "*" { delivery.otherGates = value; continue }
                    guard let vector = ObjectReader.parseNumber(key), vector <= 0xff else {
                        throw ScenarioError(path: "\(gatesReader.path).\(key)", message: "expected a vector 0-255 or \"*\"")
                    }
                    delivery.gates[UInt8(vector)] = value
                }
            }
            if let idt { delivery.gates[UInt8(inj & 0xff)] = idt }
            return .eventInjection(delivery)
        case "vmrun_failed":
            try reader.allowOnly(["type", "message"])
            guard let message = try reader.string("message") else { throw ScenarioError(path: "\(reader.path).message", message: "missing") }
            return .vmrunConsistencyFailure(message: message)
        default:
            if let feature = try featureEvent(type, reader) { return feature }
            throw ScenarioError(path: "\(reader.path).type", message: "expected exit, forced_emulation, pending, exception, event_inj, vmrun_failed, stgi, clgi, pause_loop or msr_access")
        }
    }

    /// One pending event by name; `vector` / `error_code` of the event object belong to an
    /// `exception` or `v_irq`.
    static func pendingEvent(_ kind: String, path: String, _ reader: ObjectReader) throws(ScenarioError) -> PendingEvent {
        switch kind {
        case "init": return .initSignal
        case "smi": return .smi
        case "nmi": return .nmi
        case "interrupt": return .interrupt
        case "triple_fault": return .tripleFault
        case "v_irq":
            var vector: UInt8?
            if let (value, path, _) = reader.leaf("vector") {
                let number = try ObjectReader.number(value, path)
                guard number <= 0xff else { throw ScenarioError(path: path, message: "vector must be 0-255") }
                vector = UInt8(number)
            }
            return .virtualInterrupt(vector: vector)
        case "v_nmi": return .virtualNMI
        case "exception":
            guard let (value, path, _) = reader.leaf("vector") else { throw ScenarioError(path: "\(reader.path).vector", message: "missing") }
            let vector = try ObjectReader.number(value, path)
            guard vector < 32 else { throw ScenarioError(path: path, message: "vector must be 0-31") }
            var errorCode: UInt32?
            if let (value, path, _) = reader.leaf("error_code") { errorCode = UInt32(truncatingIfNeeded: try ObjectReader.number(value, path)) }
            return .exception(vector: UInt8(vector), errorCode: errorCode)
        default:
            throw ScenarioError(path: path, message: "expected init, exception, smi, nmi, interrupt, triple_fault, v_irq or v_nmi")
        }
    }

    /// An exit code given as a number, a numeric string or a kernel name (`msr`, `GP excp`).
    private static func exitCode(_ value: JSONValue, _ path: String) throws(ScenarioError) -> VMExitCode {
        if case .string(let text) = value, ObjectReader.parseNumber(text) == nil {
            for raw in Array(0...0xa6) + [0x400, 0x401, 0x402, 0x403, 0xffff_ffff] {
                let code = VMExitCode(UInt32(raw))
                if code.name == text { return code }
            }
            throw ScenarioError(path: path, message: "unknown exit name '\(text)'")
        }
        if case .signed(-1) = value { return .invalid }
        let number = try ObjectReader.number(value, path)
        // EXITCODE is 64 bits wide (APM vol. 2, VMCB offset 70h); -1 written as 64 bits is VMEXIT_INVALID.
        if number == UInt64.max { return .invalid }
        guard number <= UInt64(UInt32.max) else {
            throw ScenarioError(path: path, message: "exit code above 32 bits: only -1 (0xffffffffffffffff, VMEXIT_INVALID) is defined")
        }
        return VMExitCode(UInt32(number))
    }

    /// Instruction bytes as `"0f 01 da"` or `[15, 1, 218]`.
    private static func bytes(_ value: JSONValue, _ path: String) throws(ScenarioError) -> [UInt8] {
        switch value {
        case .string(let text):
            var result: [UInt8] = []
            for token in text.split(separator: " ") {
                guard let byte = UInt8(token, radix: 16) else { throw ScenarioError(path: path, message: "'\(token)' is not a hex byte") }
                result.append(byte)
            }
            return result
        case .array(let items):
            var result: [UInt8] = []
            for (index, item) in items.enumerated() {
                let number = try ObjectReader.number(item, "\(path)[\(index)]")
                guard number <= 0xff else { throw ScenarioError(path: "\(path)[\(index)]", message: "not a byte") }
                result.append(UInt8(number))
            }
            return result
        default:
            throw ScenarioError(path: path, message: "expected a string of hex bytes")
        }
    }
}

/// Why a scenario could not be read: the JSON path (`$.state.vmcb12.asid`) and the problem.
public struct ScenarioError: Error, Equatable, Sendable, CustomStringConvertible {
    /// JSON path of the offending value.
    public var path: String
    /// What is wrong with it.
    public var message: String
    /// The 1-based line of the offending value in the file, when known (facts files).
    public var line: Int?
    /// Builds an error.
    public init(path: String, message: String, line: Int? = nil) {
        self.path = path
        self.message = message
        self.line = line
    }
    /// `$.path: message`, or `line N: $.path: message`.
    public var description: String { (line.map { "line \($0): " } ?? "") + "\(path): \(message)" }
}

/// Reads one JSON object, tracking its path and the provenance to cite.
struct ObjectReader {
    let object: [String: JSONValue]
    let path: String
    let source: String

    init(object: [String: JSONValue], path: String, source: String) {
        self.object = object
        self.path = path
        self.source = source
    }

    /// The object's keys, sorted.
    var keys: [String] { object.keys.sorted() }

    /// Rejects keys outside `allowed`.
    func allowOnly(_ allowed: Set<String>) throws(ScenarioError) {
        for key in object.keys.sorted() where !allowed.contains(key) {
            throw ScenarioError(path: "\(path).\(key)", message: "unknown key (expected one of: \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    /// A nested object.
    func object(_ key: String) throws(ScenarioError) -> ObjectReader? {
        guard let value = object[key] else { return nil }
        guard case .object(let inner) = value else {
            throw ScenarioError(path: "\(path).\(key)", message: "expected an object, found \(value.typeName)")
        }
        return ObjectReader(object: inner, path: "\(path).\(key)", source: source)
    }

    /// A plain string value.
    func string(_ key: String) throws(ScenarioError) -> String? {
        guard let value = object[key] else { return nil }
        guard case .string(let text) = value else {
            throw ScenarioError(path: "\(path).\(key)", message: "expected a string, found \(value.typeName)")
        }
        return text
    }

    /// A leaf, unwrapping `{"value", "source"}`: the value, its path and its source.
    func leaf(_ key: String) -> (JSONValue, String, String)? {
        guard let value = object[key] else { return nil }
        let leafPath = "\(path).\(key)"
        if case .object(let wrapped) = value, let inner = wrapped["value"] {
            if case .string(let source)? = wrapped["source"] { return (inner, "\(leafPath).value", source) }
            return (inner, "\(leafPath).value", source)
        }
        return (value, leafPath, source)
    }

    /// A known value parsed by `parse`, or `nil` when absent or JSON `null`.
    func known<T>(_ key: String, _ parse: (JSONValue, String) throws(ScenarioError) -> T) throws(ScenarioError) -> Known<T>? {
        guard let (value, leafPath, source) = leaf(key) else { return nil }
        if case .null = value { return nil }
        if case .object(let wrapped) = object[key], let extra = wrapped.keys.first(where: { $0 != "value" && $0 != "source" }) {
            throw ScenarioError(path: "\(path).\(key).\(extra)", message: "unknown key (expected value, source)")
        }
        return Known(try parse(value, leafPath), source: source)
    }

    /// A 64-bit number: JSON number, or `"0x…"`/decimal string.
    static func number(_ value: JSONValue, _ path: String) throws(ScenarioError) -> UInt64 {
        switch value {
        case .unsigned(let number): return number
        case .string(let text):
            guard let number = parseNumber(text) else { throw ScenarioError(path: path, message: "'\(text)' is not a number") }
            return number
        default:
            throw ScenarioError(path: path, message: "expected a number or \"0x…\" string, found \(value.typeName)")
        }
    }

    /// A number that must fit 32 bits.
    static func number32(_ value: JSONValue, _ path: String) throws(ScenarioError) -> UInt32 {
        let number = try number(value, path)
        guard number <= UInt64(UInt32.max) else { throw ScenarioError(path: path, message: "value does not fit 32 bits") }
        return UInt32(number)
    }

    /// A number given as an object key.
    static func number(key: String, path: String) throws(ScenarioError) -> UInt64 {
        guard let number = parseNumber(key) else { throw ScenarioError(path: "\(path).\(key)", message: "key is not a number") }
        return number
    }

    /// A flag: `true`/`false` or `0`/`1`.
    static func flag(_ value: JSONValue, _ path: String) throws(ScenarioError) -> Bool {
        switch value {
        case .bool(let flag): return flag
        case .unsigned(0): return false
        case .unsigned(1): return true
        default: throw ScenarioError(path: path, message: "expected true/false or 0/1, found \(value.typeName)")
        }
    }

    /// Parses `0x…` (hex) or decimal text.
    static func parseNumber(_ text: String) -> UInt64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "")
        if trimmed.lowercased().hasPrefix("0x") { return UInt64(trimmed.dropFirst(2), radix: 16) }
        return UInt64(trimmed)
    }
}
