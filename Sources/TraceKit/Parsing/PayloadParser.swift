/// Decodes the payload text of the KVM events svmdbg models, in every known generation
/// and in both the kernel's and libtraceevent `plugin_kvm`'s wording
/// (`reference/trace-events.md` §1.4, §3; `reference/versions.md` parser checklist).
enum PayloadParser {
    /// The outcome of decoding one payload.
    struct Result {
        /// The typed payload, or nil when no known form matched.
        var payload: EventPayload?
        /// A libtraceevent marker seen in the payload (`<CANT FIND FIELD …>`, `[FAILED TO PARSE]`).
        var marker: (kind: Diagnostic.Kind, message: String)?
    }

    /// Decodes `base[start..<end]` as the payload of `event`.
    static func parse(_ event: KnownEvent, _ base: UnsafeBufferPointer<UInt8>, start: Int, end: Int) -> Result {
        let whole = ByteCursor(base, from: start, to: end)
        var cursor = ByteCursor(base, from: start, to: whole.trimmedEnd)
        var marker: (kind: Diagnostic.Kind, message: String)?
        // `<CANT FIND FIELD x>`: the plugin failed; the kernel format follows it.
        // libtraceevent spells it `CANT`; accept the apostrophe too (hand-copied reports).
        while cursor.literal("<CANT FIND FIELD ") || cursor.literal("<CAN'T FIND FIELD ") {
            let nameStart = cursor.position
            guard let close = cursor.find(">") else { return Result(payload: nil, marker: nil) }
            let field = cursor.string(nameStart..<close)
            cursor.position = close + 1
            marker = (.missingField, "libtraceevent could not find field '\(field)' (plugin output); fields read from the text that follows")
        }
        if cursor.literal("[FAILED TO PARSE]") {
            let fields = rawFields(&cursor)
            let payload = payloadFromRawFields(event, fields)
            let detail = payload == nil ? "raw fields kept as text" : "typed from its raw fields"
            return Result(payload: payload,
                          marker: (.failedToParse, "libtraceevent could not parse the \(event.tracepoint) format; \(detail)"))
        }
        let payload = decode(event, &cursor)
        return Result(payload: payload, marker: marker)
    }

    // MARK: - Dispatch

    private static func decode(_ event: KnownEvent, _ c: inout ByteCursor) -> EventPayload? {
        c.skipSpaces()
        switch event {
        case .exit: return exit(&c).map(EventPayload.exit)
        case .nestedVMExit: return (exit(&c) ?? legacyNestedVMExit(&c)).map(EventPayload.nestedVMExit)
        case .entry: return entry(&c).map(EventPayload.entry)
        case .nestedVMEnter, .nestedVMRun: return nestedVMEnter(&c).map(EventPayload.nestedVMEnter)
        case .nestedIntercepts: return nestedIntercepts(&c).map(EventPayload.nestedIntercepts)
        case .nestedVMExitInject: return nestedVMExitInject(&c).map(EventPayload.nestedVMExitInject)
        case .nestedIntrVMExit:
            guard c.literal("rip:"), let rip = c.spacedHex(), c.isAtEnd else { return nil }
            return .nestedIntrVMExit(rip: rip)
        case .nestedVMEnterFailed: return .nestedVMEnterFailed(message: c.rest())
        case .injException: return injException(&c).map(EventPayload.injException)
        case .injVirq: return injVirq(&c).map(EventPayload.injVirq)
        case .msr: return msr(&c).map(EventPayload.msr)
        case .cr: return cr(&c).map(EventPayload.cr)
        case .pio: return pio(&c).map(EventPayload.pio)
        case .emulateInsn: return emulateInsn(&c).map(EventPayload.emulateInsn)
        case .pageFault: return pageFault(&c).map(EventPayload.pageFault)
        case .invlpga: return invlpga(&c).map(EventPayload.invlpga)
        case .skinit:
            guard c.literal("rip:"), let rip = c.spacedHex(), c.key("slb:"), let slb = c.spacedHex(),
                  slb <= UInt32.max, c.isAtEnd else { return nil }
            return .skinit(KVMSkinit(rip: rip, slb: UInt32(slb)))
        case .userspaceExit: return userspaceExit(&c).map(EventPayload.userspaceExit)
        case .hypercall: return hypercall(&c).map(EventPayload.hypercall)
        case .cpuid: return cpuid(&c).map(EventPayload.cpuid)
        case .fpu:
            if c.literal("load"), c.isAtEnd { return .fpu(loaded: true) }
            if c.literal("unload"), c.isAtEnd { return .fpu(loaded: false) }
            return nil
        case .probeExitRegs, .probeVCPUMap, .probeCheckSave, .probeCheckControls, .probeLoadCR3, .probeVCPUMapEntry,
             .probeVMRunVMCB12, .probeGuestRead, .probeGuestReadEntry:
            return probe(&c).map(EventPayload.probe)
        }
    }

    // MARK: - Exits

    /// `[vcpu %u ]reason %s rip 0x%lx (info1 … error_code …[ requests …] | info %llx %llx)`,
    /// and the plugin's `reason EXIT_X rip 0x…[ symbol] info %llx %llx`.
    static func exit(_ c: inout ByteCursor) -> KVMExit? {
        let start = c.position
        var vcpu: UInt32?
        if c.literal("vcpu ") {
            guard let value = c.decimal(), value <= UInt32.max else { c.position = start; return nil }
            vcpu = UInt32(value)
            c.skipSpaces()
        }
        guard c.literal("reason "), let ripAt = c.find(" rip 0x") else { c.position = start; return nil }
        guard let reason = exitReason(c, c.position..<trimEnd(c, ripAt)) else { c.position = start; return nil }
        c.position = ripAt + 5
        guard let rip = c.prefixedHex() else { c.position = start; return nil }
        var exit = KVMExit(exitReason: reason, guestRIP: rip, vcpu: vcpu)
        if c.key("info1"), let info1 = c.spacedHex() {
            guard c.key("info2"), let info2 = c.spacedHex(),
                  c.key("intr_info"), let intrInfo = c.spacedHex(), intrInfo <= UInt32.max,
                  c.key("error_code"), let errorCode = c.spacedHex(), errorCode <= UInt32.max
            else { c.position = start; return nil }
            exit.exitInfo1 = info1
            exit.exitInfo2 = info2
            exit.intrInfo = UInt32(intrInfo)
            exit.errorCode = UInt32(errorCode)
            if c.key("requests") {
                guard let requests = c.spacedHex() else { c.position = start; return nil }
                exit.requests = requests
            }
        } else {
            // Old/plugin form; the plugin may print a symbol after the RIP.
            guard let infoAt = c.find(" info ") else { c.position = start; return nil }
            c.position = infoAt + 6
            guard let info1 = c.hex(allowPrefix: true), c.skipSpaces() > 0, let info2 = c.hex(allowPrefix: true)
            else { c.position = start; return nil }
            exit.exitInfo1 = info1
            exit.exitInfo2 = info2
        }
        c.skipSpaces()
        guard c.isAtEnd else { c.position = start; return nil }
        return exit
    }

    /// ≤5.9 `kvm_nested_vmexit`: `rip: 0x… reason: %s ext_inf1: 0x… ext_inf2: 0x… ext_int: 0x… ext_int_err: 0x…`.
    static func legacyNestedVMExit(_ c: inout ByteCursor) -> KVMExit? {
        let start = c.position
        guard c.literal("rip:"), let rip = c.spacedHex(), c.key("reason:") else { c.position = start; return nil }
        c.skipSpaces()
        guard let fieldsAt = c.find(" ext_inf1:") else { c.position = start; return nil }
        guard let reason = exitReason(c, c.position..<trimEnd(c, fieldsAt)) else {
            c.position = start; return nil
        }
        c.position = fieldsAt
        guard let info = extFields(&c) else { c.position = start; return nil }
        return KVMExit(exitReason: reason, guestRIP: rip, exitInfo1: info.0, exitInfo2: info.1,
                       intrInfo: info.2, errorCode: info.3)
    }

    /// ` ext_inf1: 0x… ext_inf2: 0x… ext_int: 0x… ext_int_err: 0x…` to the end.
    private static func extFields(_ c: inout ByteCursor) -> (UInt64, UInt64, UInt32, UInt32)? {
        guard c.key("ext_inf1:"), let info1 = c.spacedHex(), c.key("ext_inf2:"), let info2 = c.spacedHex(),
              c.key("ext_int:"), let intInfo = c.spacedHex(), intInfo <= UInt32.max,
              c.key("ext_int_err:"), let intErr = c.spacedHex(), intErr <= UInt32.max else { return nil }
        c.skipSpaces()
        guard c.isAtEnd else { return nil }
        return (info1, info2, UInt32(intInfo), UInt32(intErr))
    }

    /// Kernel `reason: %s ext_inf1: …` and plugin `reason %s info1 %llx info2 %llx int_info %x int_info_err %x`.
    static func nestedVMExitInject(_ c: inout ByteCursor) -> KVMNestedVMExitInject? {
        let start = c.position
        if c.literal("reason:") {
            c.skipSpaces()
            guard let fieldsAt = c.find(" ext_inf1:"),
                  let reason = exitReason(c, c.position..<trimEnd(c, fieldsAt)) else {
                c.position = start; return nil
            }
            c.position = fieldsAt
            guard let info = extFields(&c) else { c.position = start; return nil }
            return KVMNestedVMExitInject(exitReason: reason, exitInfo1: info.0, exitInfo2: info.1,
                                         exitIntInfo: info.2, exitIntInfoErr: info.3)
        }
        guard c.literal("reason "), let fieldsAt = c.find(" info1 "),
              let reason = exitReason(c, c.position..<trimEnd(c, fieldsAt)) else {
            c.position = start; return nil
        }
        c.position = fieldsAt
        guard c.key("info1"), let info1 = c.spacedHex(), c.key("info2"), let info2 = c.spacedHex(),
              c.key("int_info"), let intInfo = c.spacedHex(), intInfo <= UInt32.max,
              c.key("int_info_err"), let intErr = c.spacedHex(), intErr <= UInt32.max else {
            c.position = start; return nil
        }
        c.skipSpaces()
        guard c.isAtEnd else { c.position = start; return nil }
        return KVMNestedVMExitInject(exitReason: reason, exitInfo1: info1, exitInfo2: info2,
                                     exitIntInfo: UInt32(intInfo), exitIntInfoErr: UInt32(intErr))
    }

    /// `vcpu %u[, rip 0x%lx[ intr_info 0x%08x error_code 0x%08x]][[immediate exit]]`; plugin `vcpu %u rip 0x%llx`.
    static func entry(_ c: inout ByteCursor) -> KVMEntry? {
        guard c.literal("vcpu "), let vcpu = c.decimal(), vcpu <= UInt32.max else { return nil }
        var entry = KVMEntry(vcpu: UInt32(vcpu))
        if c.literal(",") || c.hasPrefix(" rip") {
            guard c.key("rip"), let rip = c.spacedHex() else { return nil }
            entry.rip = rip
            if c.key("intr_info") {
                guard let intrInfo = c.spacedHex(), intrInfo <= UInt32.max,
                      c.key("error_code"), let errorCode = c.spacedHex(), errorCode <= UInt32.max else { return nil }
                entry.intrInfo = UInt32(intrInfo)
                entry.errorCode = UInt32(errorCode)
            }
        }
        c.skipSpaces()
        if c.literal("[immediate exit]") { entry.immediateExit = true }
        c.skipSpaces()
        return c.isAtEnd ? entry : nil
    }

    // MARK: - Nested entry

    /// `kvm_nested_vmenter` and `kvm_nested_vmrun` (see ``KVMNestedVMEnter``).
    static func nestedVMEnter(_ c: inout ByteCursor) -> KVMNestedVMEnter? {
        guard c.literal("rip:"), let rip = c.spacedHex() else { return nil }
        c.skipSpaces()
        guard let label = c.word(), c.base[label.upperBound - 1] == ASCII.colon, let vmcb = c.spacedHex() else { return nil }
        let generation: KVMNestedVMEnter.Generation
        if c.key("nested_rip:") { generation = .vmenter } else if c.key("nrip:") { generation = .vmrun } else { return nil }
        guard let nestedRIP = c.spacedHex(), c.key("int_ctl:"), let intCtl = c.spacedHex(), intCtl <= UInt32.max,
              c.key("event_inj:"), let eventInj = c.spacedHex(), eventInj <= UInt32.max else { return nil }
        c.skipSpaces()
        var nestedPaging: Bool
        var root: KVMNestedVMEnter.PagingRoot?
        switch generation {
        case .vmrun:
            guard c.literal("npt:") else { return nil }
            c.skipSpaces()
            if c.literal("on") { nestedPaging = true } else if c.literal("off") { nestedPaging = false } else { return nil }
        case .vmenter:
            guard c.literal("nested_"), let flag = c.word() else { return nil }
            let text = c.string(flag)
            if text.hasSuffix("=y") { nestedPaging = true } else if text.hasSuffix("=n") { nestedPaging = false } else { return nil }
            c.skipSpaces()
            guard let rootLabel = c.word(), c.base[rootLabel.upperBound - 1] == ASCII.colon,
                  let value = c.spacedHex() else { return nil }
            let name = c.string(rootLabel.lowerBound..<(rootLabel.upperBound - 1))
            switch name {
            // The kernel prints "guest_cr3" exactly when nested_npt=n (arch/x86/kvm/trace.h:
            // kvm_nested_vmenter); libtraceevent (perf script, trace-cmd report) evaluates that
            // ternary wrongly and prints "nested_cr3" for both: the flag decides.
            case "nested_cr3": root = nestedPaging ? .nestedCR3(value) : .guestCR3(value)
            case "guest_cr3": root = .guestCR3(value)
            default: root = .other(label: name, value: value)
            }
        }
        c.skipSpaces()
        guard c.isAtEnd else { return nil }
        return KVMNestedVMEnter(generation: generation, rip: rip, vmcb: vmcb, nestedRIP: nestedRIP,
                                intCtl: UInt32(intCtl), eventInj: UInt32(eventInj),
                                nestedPaging: nestedPaging, pagingRoot: root)
    }

    /// `cr_read: %04x cr_write: %04x excp: %08x (intercepts: %08x %08x %08x | intercept: %016llx)`.
    static func nestedIntercepts(_ c: inout ByteCursor) -> KVMNestedIntercepts? {
        guard c.literal("cr_read:"), let crRead = c.spacedHex(), crRead <= UInt16.max,
              c.key("cr_write:"), let crWrite = c.spacedHex(), crWrite <= UInt16.max,
              c.key("excp:"), let excp = c.spacedHex(), excp <= UInt32.max else { return nil }
        var result = KVMNestedIntercepts(crRead: UInt16(crRead), crWrite: UInt16(crWrite), exceptions: UInt32(excp),
                                         word3: 0, word4: 0, word5: nil)
        if c.key("intercepts:") {
            guard let w3 = c.spacedHex(), w3 <= UInt32.max, let w4 = c.spacedHex(), w4 <= UInt32.max,
                  let w5 = c.spacedHex(), w5 <= UInt32.max else { return nil }
            result.word3 = UInt32(w3)
            result.word4 = UInt32(w4)
            result.word5 = UInt32(w5)
        } else if c.key("intercept:") {
            // ≤5.9: one u64 = word 4 (high half) : word 3 (low half).
            guard let combined = c.spacedHex() else { return nil }
            result.word3 = UInt32(truncatingIfNeeded: combined)
            result.word4 = UInt32(truncatingIfNeeded: combined >> 32)
        } else {
            return nil
        }
        c.skipSpaces()
        return c.isAtEnd ? result : nil
    }

    // MARK: - Injection

    /// Vectors whose exceptions push an error code (#DF #TS #NP #SS #GP #PF #AC #CP #VC #SX; SDM/APM).
    static let vectorsWithErrorCode: Set<UInt8> = [8, 10, 11, 12, 13, 14, 17, 21, 29, 30]

    /// 6.1+ `%s[ (0x%x)][ [reinjected]]` and ≤6.0 `%s (0x%x)`.
    static func injException(_ c: inout ByteCursor) -> KVMInjException? {
        guard let nameRange = c.word() else { return nil }
        let name = c.string(nameRange)
        let vector: UInt8
        if let known = KVMInjException.exceptionNames.first(where: { $0.value == name })?.key {
            vector = known
        } else if name.hasPrefix("0x"), let value = UInt8(name.dropFirst(2), radix: 16) {
            vector = value
        } else if let value = UInt8(name) {
            vector = value
        } else {
            return nil
        }
        var errorCode: UInt32?
        c.skipSpaces()
        if c.literal("(") {
            guard let code = c.prefixedHex(), code <= UInt32.max, c.literal(")") else { return nil }
            errorCode = UInt32(code)
        }
        c.skipSpaces()
        let reinjectedSuffix = c.literal("[reinjected]")
        c.skipSpaces()
        guard c.isAtEnd else { return nil }
        // An error code on a vector that has none can only be the ≤6.0 format, which has no
        // [reinjected] marker: then whether it was re-injected is unknown.
        let legacy = errorCode != nil && !vectorsWithErrorCode.contains(vector) && !reinjectedSuffix
        return KVMInjException(vector: vector, errorCode: errorCode, reinjected: legacy ? nil : reinjectedSuffix)
    }

    /// 6.1+ `IRQ 0x%x` / `Soft/INTn 0x%x` with ` [reinjected]`; old `irq %u` (decimal).
    static func injVirq(_ c: inout ByteCursor) -> KVMInjVirq? {
        if c.literal("irq ") {
            guard let vector = c.decimal(), vector <= UInt32.max else { return nil }
            c.skipSpaces()
            return c.isAtEnd ? KVMInjVirq(kind: .irq, vector: UInt32(vector), reinjected: nil) : nil
        }
        let kind: KVMInjVirq.Kind
        if c.literal("IRQ") { kind = .irq } else if c.literal("Soft/INTn") { kind = .softInterrupt } else { return nil }
        guard let vector = c.spacedHex(), vector <= UInt32.max else { return nil }
        c.skipSpaces()
        let reinjected = c.literal("[reinjected]")
        c.skipSpaces()
        return c.isAtEnd ? KVMInjVirq(kind: kind, vector: UInt32(vector), reinjected: reinjected) : nil
    }

    // MARK: - Handler events

    /// `msr_read|msr_write %x = 0x%llx[ (#GP)]`.
    static func msr(_ c: inout ByteCursor) -> KVMMSR? {
        let isWrite: Bool
        if c.literal("msr_read") { isWrite = false } else if c.literal("msr_write") { isWrite = true } else { return nil }
        c.skipSpaces()
        guard let index = c.hex(allowPrefix: true), index <= UInt32.max, c.key("="), let data = c.spacedHex() else { return nil }
        c.skipSpaces()
        let faulted = c.literal("(#GP)")
        c.skipSpaces()
        return c.isAtEnd ? KVMMSR(isWrite: isWrite, msr: UInt32(index), data: data, faulted: faulted) : nil
    }

    /// `cr_read|cr_write %x = 0x%lx`.
    static func cr(_ c: inout ByteCursor) -> KVMCR? {
        let isWrite: Bool
        if c.literal("cr_read") { isWrite = false } else if c.literal("cr_write") { isWrite = true } else { return nil }
        c.skipSpaces()
        guard let number = c.hex(allowPrefix: true), number <= UInt32.max, c.key("="), let value = c.spacedHex() else { return nil }
        c.skipSpaces()
        return c.isAtEnd ? KVMCR(isWrite: isWrite, cr: UInt32(number), value: value) : nil
    }

    /// `pio_read|pio_write at 0x%x size %d count %d val 0x%x [(...)]`.
    static func pio(_ c: inout ByteCursor) -> KVMPIO? {
        let isWrite: Bool
        if c.literal("pio_read") { isWrite = false } else if c.literal("pio_write") { isWrite = true } else { return nil }
        guard c.key("at"), let port = c.spacedHex(), port <= UInt32.max,
              c.key("size"), let size = c.spacedDecimal(), size <= UInt32.max,
              c.key("count"), let count = c.spacedDecimal(), count <= UInt32.max,
              c.key("val"), let value = c.spacedHex(), value <= UInt32.max else { return nil }
        c.skipSpaces()
        let more = c.literal("(...)")
        c.skipSpaces()
        return c.isAtEnd ? KVMPIO(isWrite: isWrite, port: UInt32(port), size: UInt32(size), count: UInt32(count),
                                  value: UInt32(value), hasMoreValues: more) : nil
    }

    /// Kernel `%x:%llx:%s (%s)[ failed]`; plugin `%x:%llx: <bytes or disassembly>[ FAIL]`.
    static func emulateInsn(_ c: inout ByteCursor) -> KVMEmulateInsn? {
        guard let csBase = c.hex(allowPrefix: false), c.literal(":"), let rip = c.hex(allowPrefix: false),
              c.literal(":") else { return nil }
        let restStart = c.position
        let end = c.trimmedEnd
        var insn = KVMEmulateInsn(csBase: csBase, rip: rip, bytes: nil, disassembly: nil, mode: nil, failed: false)
        // Kernel wording: the last parenthesised word (before an optional " failed") is the mode.
        var tail = ByteCursor(c.base, from: restStart, to: end)
        var kernelEnd = end
        if tail.string(restStart..<end).hasSuffix(" failed") {
            kernelEnd = end - 7
            insn.failed = true
        }
        if kernelEnd > restStart, c.base[kernelEnd - 1] == ASCII.closeParen {
            var open = kernelEnd - 1
            while open > restStart, c.base[open] != ASCII.openParen { open -= 1 }
            if c.base[open] == ASCII.openParen,
               let mode = KVMEmulateInsn.Mode(rawValue: tail.string((open + 1)..<(kernelEnd - 1))) {
                insn.mode = mode
                var bytesEnd = open
                while bytesEnd > restStart, c.base[bytesEnd - 1] == ASCII.space { bytesEnd -= 1 }
                guard let bytes = hexBytes(c.base, restStart..<bytesEnd) else { return nil }
                insn.bytes = bytes
                c.position = end
                return insn
            }
        }
        // Plugin wording.
        insn.failed = false
        var pluginEnd = end
        if tail.string(restStart..<end).hasSuffix(" FAIL") {
            pluginEnd = end - 5
            insn.failed = true
        }
        tail = ByteCursor(c.base, from: restStart, to: pluginEnd)
        tail.skipSpaces()
        let textRange = tail.position..<ByteCursor(c.base, from: tail.position, to: pluginEnd).trimmedEnd
        if let bytes = hexBytes(c.base, textRange), !bytes.isEmpty {
            insn.bytes = bytes
        } else if !textRange.isEmpty {
            insn.disassembly = tail.string(textRange)
        } else {
            return nil
        }
        c.position = end
        return insn
    }

    /// Space-separated two-digit hex bytes filling `range` exactly (empty range → `[]`).
    private static func hexBytes(_ base: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> [UInt8]? {
        var bytes: [UInt8] = []
        var index = range.lowerBound
        while index < range.upperBound {
            guard index + 1 < range.upperBound, let high = ASCII.hexValue(base[index]),
                  let low = ASCII.hexValue(base[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
            if index < range.upperBound {
                guard base[index] == ASCII.space else { return nil }
                index += 1
            }
        }
        return bytes
    }

    /// 6.1+ `vcpu %u rip 0x%lx address 0x%016llx error_code 0x%llx`; ≤6.0 `address %lx error_code %x`.
    static func pageFault(_ c: inout ByteCursor) -> KVMPageFault? {
        var vcpu: UInt32?
        var rip: UInt64?
        if c.literal("vcpu ") {
            guard let value = c.decimal(), value <= UInt32.max, c.key("rip"), let ripValue = c.spacedHex() else { return nil }
            vcpu = UInt32(value)
            rip = ripValue
        }
        guard c.key("address"), let address = c.spacedHex(), c.key("error_code"), let code = c.spacedHex() else { return nil }
        c.skipSpaces()
        return c.isAtEnd ? KVMPageFault(vcpu: vcpu, guestRIP: rip, address: address, errorCode: code) : nil
    }

    /// `rip: 0x%016llx asid: %u|%d address: 0x%016llx`.
    static func invlpga(_ c: inout ByteCursor) -> KVMInvlpga? {
        guard c.literal("rip:"), let rip = c.spacedHex(), c.key("asid:") else { return nil }
        c.skipSpaces()
        guard let asid = c.signedDecimal(), c.key("address:"), let address = c.spacedHex() else { return nil }
        c.skipSpaces()
        return c.isAtEnd ? KVMInvlpga(rip: rip, asid: asid, address: address) : nil
    }

    /// `reason %s (%d)`.
    static func userspaceExit(_ c: inout ByteCursor) -> KVMUserspaceExit? {
        guard c.literal("reason "), let open = c.find(" (") else { return nil }
        let reason = c.string(c.position..<open)
        c.position = open + 2
        guard let number = c.signedDecimal(), c.literal(")") else { return nil }
        c.skipSpaces()
        return c.isAtEnd && !reason.isEmpty ? KVMUserspaceExit(reason: reason, number: number) : nil
    }

    /// `nr 0x%lx a0 0x%lx a1 0x%lx a2 0x%lx a3 0x%lx`.
    static func hypercall(_ c: inout ByteCursor) -> KVMHypercall? {
        guard c.literal("nr"), let nr = c.spacedHex(), c.key("a0"), let a0 = c.spacedHex(),
              c.key("a1"), let a1 = c.spacedHex(), c.key("a2"), let a2 = c.spacedHex(),
              c.key("a3"), let a3 = c.spacedHex() else { return nil }
        c.skipSpaces()
        return c.isAtEnd ? KVMHypercall(nr: nr, arguments: [a0, a1, a2, a3]) : nil
    }

    /// `func %x idx %x rax %lx rbx %lx rcx %lx rdx %lx, cpuid entry %s%s`.
    static func cpuid(_ c: inout ByteCursor) -> KVMCPUID? {
        guard c.literal("func"), let function = c.spacedHex(), function <= UInt32.max,
              c.key("idx"), let index = c.spacedHex(), index <= UInt32.max,
              c.key("rax"), let rax = c.spacedHex(), c.key("rbx"), let rbx = c.spacedHex(),
              c.key("rcx"), let rcx = c.spacedHex(), c.key("rdx"), let rdx = c.spacedHex(),
              c.literal(","), c.key("cpuid entry") else { return nil }
        c.skipSpaces()
        let found: Bool
        if c.literal("found") { found = true } else if c.literal("not found") { found = false } else { return nil }
        let note = c.string(c.position..<c.trimmedEnd)
        return KVMCPUID(function: UInt32(function), index: UInt32(index), rax: rax, rbx: rbx, rcx: rcx, rdx: rdx,
                        entryFound: found, note: note)
    }

    // MARK: - [FAILED TO PARSE] raw fields

    /// Reads `name=value` pairs (decimal, or hex with `0x`); other tokens are skipped.
    static func rawFields(_ c: inout ByteCursor) -> [String: UInt64] {
        var fields: [String: UInt64] = [:]
        while true {
            c.skipSpaces()
            guard let token = c.word() else { break }
            let text = c.string(token)
            guard let equals = text.firstIndex(of: "=") else { continue }
            let name = String(text[..<equals])
            let valueText = text[text.index(after: equals)...]
            if valueText.hasPrefix("0x"), let value = UInt64(valueText.dropFirst(2), radix: 16) {
                fields[name] = value
            } else if let value = UInt64(valueText) {
                fields[name] = value
            } else if let value = Int64(valueText) {
                fields[name] = UInt64(bitPattern: value)
            }
        }
        return fields
    }

    /// Builds a typed payload from the raw fields of a `[FAILED TO PARSE]` line, using the
    /// tracepoint field names of the `.format` files (`reference/formats-6.18/*.format`).
    static func payloadFromRawFields(_ event: KnownEvent, _ f: [String: UInt64]) -> EventPayload? {
        func u32(_ key: String) -> UInt32? { f[key].map { UInt32(truncatingIfNeeded: $0) } }
        switch event {
        case .injException:
            guard let vector = f["exception"], vector <= UInt8.max else { return nil }
            let hasError = (f["has_error"] ?? 0) != 0
            return .injException(KVMInjException(vector: UInt8(vector), errorCode: hasError ? u32("error_code") : nil,
                                                  reinjected: f["reinjected"].map { $0 != 0 }))
        case .exit, .nestedVMExit:
            guard let reason = u32("exit_reason") else { return nil }
            let exit = KVMExit(exitReason: SVMExitReason(reason), guestRIP: f["guest_rip"], exitInfo1: f["info1"],
                               exitInfo2: f["info2"], intrInfo: u32("intr_info"), errorCode: u32("error_code"),
                               vcpu: u32("vcpu_id"), requests: f["requests"])
            return event == .exit ? .exit(exit) : .nestedVMExit(exit)
        case .entry:
            guard let vcpu = u32("vcpu_id") else { return nil }
            return .entry(KVMEntry(vcpu: vcpu, rip: f["rip"], immediateExit: (f["immediate_exit"] ?? 0) != 0,
                                   intrInfo: u32("intr_info"), errorCode: u32("error_code")))
        case .nestedVMExitInject:
            guard let code = u32("exit_code"), let info1 = f["exit_info1"], let info2 = f["exit_info2"],
                  let intInfo = u32("exit_int_info"), let intErr = u32("exit_int_info_err") else { return nil }
            return .nestedVMExitInject(KVMNestedVMExitInject(exitReason: SVMExitReason(code), exitInfo1: info1,
                                                             exitInfo2: info2, exitIntInfo: intInfo, exitIntInfoErr: intErr))
        case .msr:
            guard let write = f["write"], let index = u32("ecx"), let data = f["data"] else { return nil }
            return .msr(KVMMSR(isWrite: write != 0, msr: index, data: data, faulted: (f["exception"] ?? 0) != 0))
        case .pageFault:
            guard let address = f["fault_address"], let code = f["error_code"] else { return nil }
            return .pageFault(KVMPageFault(vcpu: u32("vcpu_id"), guestRIP: f["guest_rip"], address: address, errorCode: code))
        case .injVirq:
            guard let vector = u32("vector") ?? u32("irq") else { return nil }
            return .injVirq(KVMInjVirq(kind: (f["soft"] ?? 0) != 0 ? .softInterrupt : .irq, vector: vector,
                                       reinjected: f["reinjected"].map { $0 != 0 }))
        default:
            return nil
        }
    }

    /// The exit reason printed at `range`: table names looked up on the bytes, anything
    /// else (hex, `UNKNOWN (n)`) through ``SVMExitReason/init(name:)``.
    private static func exitReason(_ c: ByteCursor, _ range: Range<Int>) -> SVMExitReason? {
        if let code = SVMExitCodes.code(forBytes: UnsafeBufferPointer(rebasing: c.base[range])) {
            return SVMExitReason(code)
        }
        return SVMExitReason(name: c.string(range))
    }

    /// End of `[start, index)` with trailing spaces dropped.
    private static func trimEnd(_ c: ByteCursor, _ index: Int) -> Int {
        var end = index
        while end > c.position, c.base[end - 1] == ASCII.space { end -= 1 }
        return end
    }
}

extension ByteCursor {
    /// Skips spaces, then consumes `keyword`; false (position unchanged) if absent.
    mutating func key(_ keyword: StaticString) -> Bool {
        let start = position
        skipSpaces()
        if literal(keyword) { return true }
        position = start
        return false
    }

    /// Skips spaces, then reads hex with optional `0x`.
    mutating func spacedHex() -> UInt64? {
        let start = position
        skipSpaces()
        if let value = hex(allowPrefix: true) { return value }
        position = start
        return nil
    }

    /// Skips spaces, then reads a decimal.
    mutating func spacedDecimal() -> UInt64? {
        let start = position
        skipSpaces()
        if let value = decimal() { return value }
        position = start
        return nil
    }
}
