/// Payload wordings produced by tool options rather than by the kernel: `trace-cmd report
/// -R` (raw `field=value` lists) and `perf script -F +ip` (the sample IP after the payload).
extension PayloadParser {
    /// ``parse(_:_:start:end:)``, then, when no known wording matched, the option wordings:
    /// raw fields (`trace-cmd report -R`) and a trailing sample IP (`perf script -F +ip`,
    /// optionally `+sym`/`+dso`). Only payloads the fast parse refused pay for this.
    static func parseTolerant(_ event: KnownEvent, _ base: UnsafeBufferPointer<UInt8>, start: Int, end: Int) -> Result {
        let first = parse(event, base, start: start, end: end)
        if case .emulateInsn(let insn)? = first.payload, insn.disassembly != nil,
           let ipStart = trailingSampleIP(base, start: start, end: end) {
            // The plugin's free-text wording takes anything; `… (prot64) ffffffffc040c664` is the
            // kernel wording plus perf's sample IP.
            let retry = parse(event, base, start: start, end: ipStart)
            if case .emulateInsn(let stripped)? = retry.payload, stripped.mode != nil { return retry }
        }
        if first.payload != nil || first.marker?.kind == .failedToParse { return first }
        var cursor = ByteCursor(base, from: start, to: ByteCursor(base, from: start, to: end).trimmedEnd)
        cursor.skipSpaces()
        if let payload = rawPayload(event, cursor) {
            return Result(payload: payload, marker: first.marker)
        }
        if let ipStart = trailingSampleIP(base, start: start, end: cursor.end) {
            let retry = parse(event, base, start: start, end: ipStart)
            if retry.payload != nil { return retry }
        }
        return first
    }

    /// Start of ` <hex ip>[ <sym>[+0x…]][ (<dso>)]` at the end of a perf payload, if present.
    static func trailingSampleIP(_ base: UnsafeBufferPointer<UInt8>, start: Int, end: Int) -> Int? {
        var tokens: [Range<Int>] = []
        var index = end
        while index > start, tokens.count < 4 {
            var tokenEnd = index
            while tokenEnd > start, base[tokenEnd - 1] == ASCII.space { tokenEnd -= 1 }
            var tokenStart = tokenEnd
            while tokenStart > start, base[tokenStart - 1] != ASCII.space { tokenStart -= 1 }
            guard tokenStart < tokenEnd else { break }
            tokens.append(tokenStart..<tokenEnd)
            index = tokenStart
        }
        // The ip is one of the last tokens: 8+ hex digits, no 0x.
        for token in tokens {
            guard token.count >= 8, token.count <= 16,
                  base[token].allSatisfy({ ASCII.hexValue($0) != nil }) else { continue }
            var cut = token.lowerBound
            while cut > start, base[cut - 1] == ASCII.space { cut -= 1 }
            return cut > start ? cut : nil
        }
        return nil
    }

    /// Fields each event prints with a bare `%x` (no `0x`) in its print format, which
    /// `trace-cmd report -R` repeats; everything else without `0x` is decimal.
    static let bareHexFields: [KnownEvent: Set<String>] = [
        .msr: ["ecx"], .cr: ["cr"], .nestedIntercepts: ["cr_read", "cr_write", "exceptions", "intercept1",
                                                        "intercept2", "intercept3", "intercept"],
        .emulateInsn: ["rip", "csbase"], .cpuid: ["function", "index", "rax", "rbx", "rcx", "rdx"],
        .pageFault: ["fault_address", "error_code"],
    ]

    /// `name=value` tokens of `cursor`'s payload, if every token is one (`insn=ARRAY[…]`
    /// is kept as bytes under `insn`).
    static func rawTokens(_ event: KnownEvent, _ cursor: ByteCursor) -> (values: [String: UInt64], bytes: [UInt8]?, strings: [String: String])? {
        var c = cursor
        var values: [String: UInt64] = [:]
        var strings: [String: String] = [:]
        var bytes: [UInt8]?
        let hexNames = bareHexFields[event] ?? []
        var count = 0
        while true {
            c.skipSpaces()
            if c.isAtEnd { break }
            let nameStart = c.position
            while let byte = c.peek, ASCII.isNameByte(byte) { c.position += 1 }
            guard c.position > nameStart, c.literal("=") else { return nil }
            let name = c.string(nameStart..<(c.position - 1))
            count += 1
            if c.literal("ARRAY[") {
                guard let close = c.find("]") else { return nil }
                var list: [UInt8] = []
                for part in c.string(c.position..<close).split(separator: ",") {
                    guard let value = UInt8(String(part.filter { $0 != " " }), radix: 16) else { return nil }
                    list.append(value)
                }
                if name == "insn" { bytes = list }
                c.position = close + 1
                continue
            }
            guard let word = c.word() else { return nil }
            let text = c.string(word)
            if text.hasPrefix("0x"), let value = UInt64(text.dropFirst(2), radix: 16) {
                values[name] = value
            } else if hexNames.contains(name), let value = UInt64(text, radix: 16) {
                values[name] = value
            } else if let value = UInt64(text) {
                values[name] = value
            } else if let value = Int64(text) {
                values[name] = UInt64(bitPattern: value)
            } else {
                strings[name] = text
            }
        }
        return count > 0 ? (values, bytes, strings) : nil
    }

    /// A typed payload from `trace-cmd report -R` raw fields (tracepoint field names of the
    /// kernel `format` files).
    static func rawPayload(_ event: KnownEvent, _ cursor: ByteCursor) -> EventPayload? {
        guard cursor.find("=") != nil, let (f, insnBytes, strings) = rawTokens(event, cursor) else { return nil }
        func u32(_ key: String) -> UInt32? { f[key].map { UInt32(truncatingIfNeeded: $0) } }
        if let payload = payloadFromRawFields(event, f) { return payload }
        switch event {
        case .nestedVMEnter, .nestedVMRun:
            guard let rip = f["rip"], let vmcb = f["vmcb"], let nestedRIP = f["nested_rip"],
                  let intCtl = u32("int_ctl"), let eventInj = u32("event_inj") else { return nil }
            if let tdp = f["tdp_enabled"] {
                let root: KVMNestedVMEnter.PagingRoot? = f["guest_pgd"].map { tdp != 0 ? .nestedCR3($0) : .guestCR3($0) }
                return .nestedVMEnter(KVMNestedVMEnter(generation: .vmenter, rip: rip, vmcb: vmcb, nestedRIP: nestedRIP,
                                                       intCtl: intCtl, eventInj: eventInj, nestedPaging: tdp != 0,
                                                       pagingRoot: root))
            }
            guard let npt = f["npt"] else { return nil }
            return .nestedVMEnter(KVMNestedVMEnter(generation: .vmrun, rip: rip, vmcb: vmcb, nestedRIP: nestedRIP,
                                                   intCtl: intCtl, eventInj: eventInj, nestedPaging: npt != 0,
                                                   pagingRoot: nil))
        case .nestedIntercepts:
            guard let crRead = f["cr_read"], crRead <= UInt16.max, let crWrite = f["cr_write"], crWrite <= UInt16.max,
                  let excp = u32("exceptions") else { return nil }
            var result = KVMNestedIntercepts(crRead: UInt16(crRead), crWrite: UInt16(crWrite), exceptions: excp,
                                             word3: 0, word4: 0, word5: nil)
            if let w3 = u32("intercept1"), let w4 = u32("intercept2"), let w5 = u32("intercept3") {
                result.word3 = w3
                result.word4 = w4
                result.word5 = w5
            } else if let combined = f["intercept"] {
                result.word3 = UInt32(truncatingIfNeeded: combined)
                result.word4 = UInt32(truncatingIfNeeded: combined >> 32)
            } else {
                return nil
            }
            return .nestedIntercepts(result)
        case .cr:
            guard let rw = f["rw"], let cr = u32("cr"), let value = f["val"] else { return nil }
            return .cr(KVMCR(isWrite: rw != 0, cr: cr, value: value))
        case .pio:
            guard let rw = f["rw"], let port = u32("port"), let size = u32("size"), let count = u32("count"),
                  let value = u32("val") else { return nil }
            return .pio(KVMPIO(isWrite: rw != 0, port: port, size: size, count: count, value: value, hasMoreValues: count > 1))
        case .emulateInsn:
            guard let rip = f["rip"], let csBase = f["csbase"], let length = f["len"], let flags = f["flags"] else { return nil }
            let bytes = insnBytes.map { Array($0.prefix(Int(min(length, 15)))) }
            let mode: KVMEmulateInsn.Mode?
            switch flags {
            case 0: mode = .real
            case 3: mode = .vm16
            case 1: mode = .prot16
            case 5: mode = .prot32
            case 9: mode = .prot64
            default: mode = nil
            }
            return .emulateInsn(KVMEmulateInsn(csBase: csBase, rip: rip, bytes: bytes, disassembly: nil, mode: mode,
                                               failed: (f["failed"] ?? 0) != 0))
        case .skinit:
            guard let rip = f["rip"], let slb = u32("slb") else { return nil }
            return .skinit(KVMSkinit(rip: rip, slb: slb))
        case .invlpga:
            guard let rip = f["rip"], let asid = f["asid"], let address = f["address"] else { return nil }
            return .invlpga(KVMInvlpga(rip: rip, asid: Int64(Int32(truncatingIfNeeded: asid)), address: address))
        case .nestedIntrVMExit:
            guard let rip = f["rip"] else { return nil }
            return .nestedIntrVMExit(rip: rip)
        case .hypercall:
            guard let nr = f["nr"], let a0 = f["a0"], let a1 = f["a1"], let a2 = f["a2"], let a3 = f["a3"] else { return nil }
            return .hypercall(KVMHypercall(nr: nr, arguments: [a0, a1, a2, a3]))
        case .fpu:
            guard let load = f["load"] else { return nil }
            return .fpu(loaded: load != 0)
        case .userspaceExit:
            guard let reason = f["reason"], let errno = f["errno"] else { return nil }
            return .userspaceExit(KVMUserspaceExit(reason: KVMUserspaceExitNames.name(of: reason),
                                                   number: Int64(Int32(truncatingIfNeeded: errno))))
        case .cpuid:
            guard let function = u32("function"), let index = u32("index"), let rax = f["rax"], let rbx = f["rbx"],
                  let rcx = f["rcx"], let rdx = f["rdx"] else { return nil }
            return .cpuid(KVMCPUID(function: function, index: index, rax: rax, rbx: rbx, rcx: rcx, rdx: rdx,
                                   entryFound: (f["found"] ?? 0) != 0, note: ""))
        case .nestedVMEnterFailed:
            return strings["msg"].map { .nestedVMEnterFailed(message: $0) }
        default:
            _ = strings
            return nil
        }
    }
}

/// `KVM_EXIT_*` names by number (`include/uapi/linux/kvm.h`), for raw `kvm_userspace_exit`
/// fields.
enum KVMUserspaceExitNames {
    static let names = ["UNKNOWN", "EXCEPTION", "IO", "HYPERCALL", "DEBUG", "HLT", "MMIO", "IRQ_WINDOW_OPEN",
                        "SHUTDOWN", "FAIL_ENTRY", "INTR", "SET_TPR", "TPR_ACCESS", "S390_SIEIC", "S390_RESET", "DCR",
                        "NMI", "INTERNAL_ERROR", "OSI", "PAPR_HCALL", "S390_UCONTROL", "WATCHDOG", "S390_TSCH", "EPR",
                        "SYSTEM_EVENT", "S390_STSI", "IOAPIC_EOI", "HYPERV", "ARM_NISV", "X86_RDMSR", "X86_WRMSR",
                        "DIRTY_RING_FULL", "AP_RESET_HOLD", "X86_BUS_LOCK", "XEN", "RISCV_SBI", "RISCV_CSR", "NOTIFY",
                        "LOONGARCH_IOCSR", "MEMORY_FAULT"]

    /// `KVM_EXIT_IO` for 2; the number itself when unknown.
    static func name(of value: UInt64) -> String {
        value < UInt64(names.count) ? "KVM_EXIT_" + names[Int(value)] : String(value)
    }
}
