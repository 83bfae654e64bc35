import NestedSVM
import TraceKit

/// The values `svmdbg capture`'s `exit_regs` probe recorded for one hardware exit, and what
/// they tell the model.
///
/// The probe fires at the entry of `svm/svm.c:svm_handle_exit`, on the vCPU's thread, before
/// `kvm_nested_vmexit` and every handler event: after `kvm_exit` on 6.12 (so the exit's own
/// events hold it), right before it on 6.1 (whose `svm_handle_exit` traces `kvm_exit`). It is attached only when its
/// `exit_code` is the exit's code and its guest-mode bit agrees with the exit's level; an exit
/// without one (a trace captured without probes, an exit `svm_vcpu_run` finished on the
/// fastpath, lost events) keeps what the stock events give.
///
/// Every value carries the source `probe svmdbg/exit_regs line N (field)`.
struct ProbeValues: Sendable {
    /// The probe's fields.
    let payload: ProbePayload
    /// Its trace line.
    let line: Int
    /// Whether the vCPU was in guest mode (L2 ran): `vmcb != vmcb01`.
    let guestMode: Bool?
    /// `vcpu_map` results after the `exit_regs` line, in order: the frame asked for, the
    /// return value (0 mapped, negative errno not), the line.
    let maps: [(gfn: UInt64, result: Int64, line: Int)]

    /// The first return of each VMRUN check function in this exit, by event name, with its line.
    let checks: [String: (result: Int64, line: Int)]

    /// The first `vmrun_vmcb12` line of this exit: vmcb12 as KVM cached it for this VMRUN's
    /// consistency checks (`svm->nested.save` / `svm->nested.ctl`).
    let vmrun: (payload: ProbePayload, line: Int)?

    /// `guest_read` lines of this exit (returns of `kvm_vcpu_read_guest`): address, length,
    /// the first 4 bytes of the buffer after the read (little-endian), the result, the line.
    let reads: [(gpa: UInt64, length: UInt64, value: UInt64, result: Int64, line: Int)]

    /// The page-table walks KVM traced in this exit (`kvmmmu` walker tracepoints).
    let walks: NPTWalks

    /// The exit's EXITINFO2 as `kvm_exit` printed it (for a #PF exit, the faulting address).
    let exitInfo2: UInt64?
    /// Whether these are the probe values of the hardware exit a synthesized #VMEXIT followed
    /// (``carried(trace:first:level:)``): only what stays valid until that #VMEXIT is applied.
    private(set) var carried = false

    /// Guest page size (APM vol. 2 §5.1): `gpa_to_gfn` shifts by 12.
    static let pageShift: UInt64 = 12

    /// RFLAGS.IF (APM vol. 2 §3.1.6).
    static let rflagsIF: UInt64 = 1 << 9

    /// Values made directly (tests): no maps, check returns, VMRUN fields or reads.
    init(payload: ProbePayload, line: Int, guestMode: Bool?, walks: NPTWalks = NPTWalks(), exitInfo2: UInt64? = nil) {
        self.payload = payload
        self.line = line
        self.guestMode = guestMode
        self.maps = []
        self.checks = [:]
        self.vmrun = nil
        self.reads = []
        self.walks = walks
        self.exitInfo2 = exitInfo2
    }

    /// The probe of a hardware exit whose first event is `first` and whose later events are
    /// `events`, or nil when it has none that belongs to it: the first `exit_regs` among
    /// `events` (6.12: `kvm_exit` is traced in `svm_vcpu_run`, before the probe), else the one
    /// right before `first` on the same thread (6.1). `exitCode` is the code `kvm_exit` printed; `level` the
    /// level the replay gave the exit.
    init?(trace: LoadedTrace, first: EventNumber, events: some Sequence<EventNumber>, exitCode: UInt32, level: Level?) {
        // Traces without probes (the common case) pay one look at the short name table.
        guard trace.eventNames.contains(ProbeSchema.exitRegsEvent) else { return nil }
        var found: (ProbePayload, Int)?
        var maps: [(gfn: UInt64, result: Int64, line: Int)] = []
        // The frame of the last vcpu_map_entry line, for a return line without gfn (6.1).
        var enteredGFN: UInt64?
        var vmrun: (ProbePayload, Int)?
        var reads: [(gpa: UInt64, length: UInt64, value: UInt64, result: Int64, line: Int)] = []
        // The last guest_read_entry line (kernels without arguments at return probes).
        var readEntry: ProbePayload?
        var walks = NPTWalks()
        for number in events {
            let name = trace.name(of: number)
            if name == "kvm_entry" { break }
            if let walkEvent = WalkEvent(name) {
                walks.add(walkEvent, text: trace.rawText(of: number), line: trace.lineNumber(of: number))
                continue
            }
            if name == ProbeSchema.vmrunVMCB12Event || name == ProbeSchema.guestReadEvent || name == ProbeSchema.guestReadEntryEvent,
               case .probe(let probe) = trace.payload(of: number) {
                if name == ProbeSchema.vmrunVMCB12Event {
                    if vmrun == nil { vmrun = (probe, trace.lineNumber(of: number)) }
                } else if name == ProbeSchema.guestReadEntryEvent {
                    readEntry = probe
                } else if let read = Self.read(probe, entry: readEntry) {
                    reads.append((read.gpa, read.length, read.value, read.result, trace.lineNumber(of: number)))
                    readEntry = nil
                } else {
                    readEntry = nil
                }
                continue
            }
            guard name == ProbeSchema.exitRegsEvent || name == ProbeSchema.vcpuMapEvent || name == ProbeSchema.vcpuMapEntryEvent,
                  case .probe(let probe) = trace.payload(of: number) else { continue }
            if name == ProbeSchema.exitRegsEvent {
                if found == nil { found = (probe, trace.lineNumber(of: number)) }
            } else if name == ProbeSchema.vcpuMapEntryEvent {
                enteredGFN = probe[ProbeSchema.mapGFN]
            } else if let gfn = probe[ProbeSchema.mapGFN] ?? enteredGFN, let result = probe[ProbeSchema.mapResult] {
                maps.append((gfn, Int64(Int32(truncatingIfNeeded: result)), trace.lineNumber(of: number)))
                enteredGFN = nil
            }
        }
        if found == nil { found = Self.precedingProbe(trace: trace, first: first) }
        guard let (payload, line) = found else { return nil }
        self.maps = maps
        self.walks = walks
        if case .exit(let exit) = trace.payload(of: first) { self.exitInfo2 = exit.exitInfo2 } else { self.exitInfo2 = nil }
        self.vmrun = vmrun
        self.reads = reads
        self.checks = Self.checkReturns(trace: trace, events: events)
        if let code = payload[ProbeSchema.exitCode], UInt32(truncatingIfNeeded: code) != exitCode { return nil }
        var guestMode: Bool?
        if let vmcb = payload[ProbeSchema.vmcbPointer], let vmcb01 = payload[ProbeSchema.vmcb01Pointer] { guestMode = vmcb != vmcb01 }
        if let guestMode, let level, guestMode != (level == .l2) { return nil }
        self.payload = payload
        self.line = line
        self.guestMode = guestMode
    }

    /// The probe values for an exit of `origin`: a hardware exit's own (the init above), or for
    /// a synthesized L2 #VMEXIT the L1 half of the hardware exit it followed (``carried(trace:first:level:)``).
    static func of(
        trace: LoadedTrace, origin: ExitRecord.Origin, first: EventNumber, events: some Sequence<EventNumber>, exitCode: UInt32, level: Level?
    ) -> ProbeValues? {
        switch origin {
        case .hardwareExit: ProbeValues(trace: trace, first: first, events: events, exitCode: exitCode, level: level)
        default: carried(trace: trace, first: first, level: level)
        }
    }

    /// A #VMEXIT KVM synthesizes in guest mode (`svm_check_nested_events`: a pending interrupt,
    /// NMI, exception …) before it enters L2 again comes after the hardware exit whose
    /// `exit_regs` line is the last one on the thread, with no `kvm_entry` between. L1's
    /// registers in vmcb01's save area (what `nested_svm_vmrun` stored there: EFER, CR0, CR4,
    /// RFLAGS) and vmcb12's cached intercept words only change at a VMRUN or a #VMEXIT, so that
    /// line's L1 half is still L1's at the synthesized #VMEXIT (`svm/nested.c:nested_svm_vmrun`,
    /// `nested_svm_vmexit`). L2's registers may have changed (L0 emulated an instruction):
    /// those, and the exit's own reads, maps and walks, are not carried. Nil when the exit is
    /// not an L2 exit, the thread entered the guest since, or the line is not in guest mode.
    static func carried(trace: LoadedTrace, first: EventNumber, level: Level?) -> ProbeValues? {
        guard level == .l2, trace.eventNames.contains(ProbeSchema.exitRegsEvent) else { return nil }
        var found: ProbeValues?
        scanBack(trace: trace, from: first, limit: carriedScanLimit) { number, name in
            if name == "kvm_entry" || name == "kvm_nested_vmexit_inject" || name == "kvm_nested_vmenter" { return true }
            guard name == ProbeSchema.exitRegsEvent, case .probe(let probe) = trace.payload(of: number) else { return false }
            if let vmcb = probe[ProbeSchema.vmcbPointer], let vmcb01 = probe[ProbeSchema.vmcb01Pointer], vmcb != vmcb01 {
                found = ProbeValues(payload: probe, line: trace.lineNumber(of: number), guestMode: true)
                found?.carried = true
            }
            return true
        }
        return found
    }

    /// Visits the events of `first`'s thread before it, newest first, at most `limit` events
    /// back (all threads counted), until `stop` returns true.
    private static func scanBack(
        trace: LoadedTrace, from first: EventNumber, limit: Int, stop: (EventNumber, String) -> Bool
    ) {
        let pid = trace.pid(of: first)
        var position = first.rawValue - 1
        let end = max(0, first.rawValue - limit)
        while position >= end {
            let number = EventNumber(position)
            position -= 1
            guard trace.pid(of: number) == pid else { continue }
            if stop(number, trace.name(of: number)) { return }
        }
    }

    /// How far back from a synthesized #VMEXIT the hardware exit's probe is looked for, in
    /// events of all threads (the L0 handler's events of that exit lie between).
    static let carriedScanLimit = 4_096

    /// The provenance of `field`.
    func source(_ field: String) -> String { "probe svmdbg/\(ProbeSchema.exitRegsEvent) line \(line) (\(field))" }

    private func known(_ field: String) -> Known<UInt64>? {
        payload[field].map { Known($0, source: source(field)) }
    }

    private func known32(_ field: String) -> Known<UInt32>? {
        payload[field].map { Known(UInt32(truncatingIfNeeded: $0), source: source(field)) }
    }

    /// `event` with RAX and RCX filled in where the stock events left them unknown, and, for
    /// an L2 #NPF, whether KVM's walk of L1's nested page tables for the faulting GPA faulted
    /// (``NPTWalks/walkFaults(at:)``): an input of the reflect-or-fix decision, which the model
    /// still takes (it asks first whether L1 runs L2 with nested paging at all).
    func refine(_ event: Event) -> Event {
        guard !carried, case .hardwareExit(var exit) = event else { return event }
        if exit.rax == nil { exit.rax = known("rax") }
        if exit.rcx == nil { exit.rcx = known("rcx") }
        if exit.l1NPTWalkFaults == nil, guestMode == true, exit.exitCode == .npf {
            exit.l1NPTWalkFaults = walks.walkFaults(at: exit.exitInfo2)
        }
        return .hardwareExit(exit)
    }

    /// A `guest_read` line as (address, length, first bytes, result): its own fields where the
    /// kernel fetched arguments at the return; else the address, length and buffer of the
    /// `guest_read_entry` line before it on the thread, and the buffer's bytes taken from the
    /// stack window the return line recorded (nil when the buffer is outside the window).
    static func read(_ probe: ProbePayload, entry: ProbePayload?) -> (gpa: UInt64, length: UInt64, value: UInt64, result: Int64)? {
        guard let result = probe[ProbeSchema.mapResult].map({ Int64(Int32(truncatingIfNeeded: $0)) }) else { return nil }
        if let gpa = probe[ProbeSchema.readGPA], let length = probe[ProbeSchema.readLength], let value = probe[ProbeSchema.readValue] {
            return (gpa, length, value, result)
        }
        guard let entry, let gpa = entry[ProbeSchema.readGPA], let length = entry[ProbeSchema.readLength],
              let data = entry[ProbeSchema.readData], let sp = probe[ProbeSchema.stackPointer], (1...4).contains(length) else { return nil }
        let start = sp &+ UInt64(bitPattern: Int64(ProbeSchema.stackWindowStart))
        var value: UInt64 = 0
        for index in 0..<length {
            let offset = (data &+ index) &- start
            guard offset < UInt64(8 * ProbeSchema.stackWindowNames.count),
                  let word = probe[ProbeSchema.stackWindowNames[Int(offset / 8)]] else { return nil }
            value |= (word >> (8 * (offset % 8)) & 0xff) << (8 * index)
        }
        return (gpa, length, value, result)
    }

    /// How far back from a `kvm_exit` the probe of a 6.1-style trace is looked for, in events of
    /// all threads (it is normally the thread's event right before).
    static let backwardScanLimit = 256

    /// The `exit_regs` line right before the exit's first event on its thread, with nothing of
    /// that thread between but not a `kvm_entry`/`kvm_exit`: on 6.1 `svm_handle_exit` traces
    /// `kvm_exit` itself, after the probe at its entry has fired (seen in every exit of the 6.1
    /// lab captures, `traces/capture/6.1-zen3/`).
    private static func precedingProbe(trace: LoadedTrace, first: EventNumber) -> (ProbePayload, Int)? {
        var found: (ProbePayload, Int)?
        scanBack(trace: trace, from: first, limit: backwardScanLimit) { number, name in
            if name == ProbeSchema.exitRegsEvent, case .probe(let probe) = trace.payload(of: number) {
                found = (probe, trace.lineNumber(of: number))
                return true
            }
            return name == "kvm_entry" || name == "kvm_exit"
        }
        return found
    }

    /// The first `vmcb_check_save` / `vmcb_check_controls` / `load_cr3` return before the exit's `kvm_entry`.
    private static func checkReturns(trace: LoadedTrace, events: some Sequence<EventNumber>) -> [String: (result: Int64, line: Int)] {
        let names = Set(ProbeSchema.checkFunctions.map(\.event))
        var found: [String: (Int64, Int)] = [:]
        for number in events {
            let name = trace.name(of: number)
            if name == "kvm_entry" { break }
            guard names.contains(name), found[name] == nil, case .probe(let probe) = trace.payload(of: number),
                  let result = probe[ProbeSchema.mapResult] else { continue }
            found[name] = (Int64(Int32(truncatingIfNeeded: result)), trace.lineNumber(of: number))
        }
        return found
    }

    /// VMRUN consistency checks this exit's return probes prove passed, as `FactID.vmrunCheck`
    /// facts: every check `__nested_vmcb_check_save` runs when it returned true, likewise
    /// `__nested_vmcb_check_controls`, and the CR3/PDPTR loads when `nested_svm_load_cr3`
    /// returned 0. A failure proves only that one of them failed (`kvm_nested_vmenter_failed`
    /// names which), so it adds nothing. Only for L1's VMRUN (the checks of a VMRUN L1 ran).
    /// With a `vmrun_vmcb12` line the model runs the checks on the fields itself; the model
    /// reads these facts only for a check the fields leave undecided (one whose input is not
    /// in vmcb12, e.g. the guest CPUID bits `efer-valid` asks for).
    var passedChecks: [Fact: Known<Bool>] {
        guard guestMode == false else { return [:] }
        var facts: [Fact: Known<Bool>] = [:]
        for (event, function) in ProbeSchema.checkFunctions {
            guard let check = checks[event] else { continue }
            let passed = event == ProbeSchema.loadCR3Event ? check.result == 0 : check.result == 1
            guard passed else { continue }
            let source = "probe svmdbg/\(event) line \(check.line) (\(function) returned \(check.result))"
            for consistency in ConsistencyCheck.all where consistency.kernel.hasSuffix(":" + function) {
                facts[FactID.vmrunCheck(consistency.id)] = Known(true, source: source)
            }
        }
        return facts
    }

    /// Whether the page at the exit's RAX is mapped: the first `vcpu_map` of this exit whose
    /// frame is RAX's (`kvm_vcpu_map` succeeds exactly when a memslot backs the frame and its
    /// page can be had), as the fact ``FactID/raxBacked``.
    var raxBacked: Known<Bool>? {
        guard let rax = payload["rax"], let map = maps.first(where: { $0.gfn == rax >> Self.pageShift }) else { return nil }
        return Known(map.result == 0, source: "probe svmdbg/\(ProbeSchema.vcpuMapEvent) line \(map.line) (kvm_vcpu_map of gfn 0x\(String(map.gfn, radix: 16)) returned \(map.result))")
    }

    /// Puts the registers of the level that ran (and, in guest mode, L1's as `nested_svm_vmrun`
    /// stored them in vmcb01, plus vmcb12's cached intercept words) into `state`.
    ///
    /// Register values replace what the stream of events left (the probe reads them at this
    /// exit); intercept words only fill words the events never stated.
    func apply(to state: inout VCPUState) {
        if let raxBacked, state.assumptions[FactID.raxBacked] == nil { state.assumptions[FactID.raxBacked] = raxBacked }
        state.assumptions.merge(passedChecks) { known, _ in known }
        guard let guestMode else { return }
        let level: GuestLevel = guestMode ? .l2 : .l1
        state.level = Known(level, source: source("\(ProbeSchema.vmcbPointer) \(guestMode ? "≠" : "=") \(ProbeSchema.vmcb01Pointer)"))
        // The SMM bit moved between kernels; with neither candidate bit set the vCPU is not in
        // SMM in any layout, otherwise it stays unknown.
        if let hflags = payload[ProbeSchema.hflags], hflags & ProbeSchema.smmMasks == 0 {
            state.inSMM = Known(false, source: source(ProbeSchema.hflags) + " without an HF_SMM_MASK bit")
        }
        var ran = guestMode ? state.l2 : state.l1
        ran.efer = known(ProbeSchema.efer) ?? ran.efer
        ran.cr0 = known(ProbeSchema.cr0) ?? ran.cr0
        ran.cr4 = known(ProbeSchema.cr4) ?? ran.cr4
        if let cpl = payload[ProbeSchema.cpl] { ran.cpl = Known(UInt8(truncatingIfNeeded: cpl), source: source(ProbeSchema.cpl)) }
        if let rflags = payload[ProbeSchema.rflags] {
            ran.interruptsEnabled = Known(rflags & Self.rflagsIF != 0, source: source(ProbeSchema.rflags) + " IF")
        }
        if let range = shadowWalkRange(guestMode: guestMode, nestedPaging: state.vmcb12.nestedPaging?.value) {
            ran.pageTables = PageMap(ranges: [range] + (ran.pageTables?.ranges ?? []))
        }
        if let hsave = payload[ProbeSchema.hsaveMSR] {
            // MSR_VM_HSAVE_PA as L1 set it (svm_set_msr stores it page-aligned): VMRUN's #GP check.
            state.hsavePA = Known(hsave, source: source(ProbeSchema.hsaveMSR))
        }
        if guestMode {
            if !carried { state.l2 = ran }
            state.l1.efer = known(ProbeSchema.l1EFER) ?? state.l1.efer
            state.l1.cr0 = known(ProbeSchema.l1CR0) ?? state.l1.cr0
            state.l1.cr4 = known(ProbeSchema.l1CR4) ?? state.l1.cr4
            if let rflags = payload[ProbeSchema.l1RFLAGS] {
                state.l1.interruptsEnabled = Known(rflags & Self.rflagsIF != 0, source: source(ProbeSchema.l1RFLAGS) + " IF")
            }
            let names = ProbeSchema.interceptNames
            var words = state.vmcb12.intercepts
            if words.cr == nil { words.cr = known32(names[0]) }
            if words.dr == nil { words.dr = known32(names[1]) }
            if words.exceptions == nil { words.exceptions = known32(names[2]) }
            if words.word3 == nil { words.word3 = known32(names[3]) }
            if words.word4 == nil { words.word4 = known32(names[4]) }
            if words.word5 == nil { words.word5 = known32(names[5]) }
            state.vmcb12.intercepts = words
            applyBitmapReads(to: &state)
        } else {
            state.l1 = ran
            applyVMRUN(to: &state)
        }
    }

    /// `SVM_EXIT_EXCP_BASE + PF_VECTOR`: a #PF L0 intercepts.
    static let pageFaultExitCode: UInt64 = 0x4e

    /// At a #PF exit under shadow paging: what KVM's walk of the running level's own page
    /// tables for the faulting address (EXITINFO2) read, as a range of that level's page map
    /// (``NPTWalks/guestPageRange(at:nxEnabled:)``), for the model to walk.
    ///
    /// Path (`svm/svm.c:pf_interception` → `mmu/mmu.c:kvm_handle_page_fault` →
    /// `kvm_mmu_page_fault` → `kvm_mmu_do_page_fault` → the shadow MMU's
    /// `mmu/paging_tmpl.h:FNAME(page_fault)` → `FNAME(walk_addr)` on `vcpu->arch.mmu`): L0
    /// intercepts #PF only without NPT (with NPT, vmcb02 intercepts it only for L1, and
    /// `nested_svm_exit_handled` reflects it without a walk). Without nested NPT the MMU is
    /// `root_mmu` at both levels, so the walk reads L1's tables at an L1 #PF and L2's at an L2
    /// #PF. A walk that faults makes `FNAME(page_fault)` queue the #PF for the guest
    /// (`kvm_inject_emulated_page_fault`); the model decides that itself from the entries.
    /// Nil at other exits, in guest mode with vmcb12's NP_ENABLE set, or without a walk of
    /// that address.
    func shadowWalkRange(guestMode: Bool, nestedPaging: Bool?) -> PageMap.Range? {
        guard payload[ProbeSchema.exitCode] == Self.pageFaultExitCode, !(guestMode && nestedPaging == true),
              let address = exitInfo2 else { return nil }
        // EFER.NXE (bit 11) of the level that ran: vcpu->arch.efer is that level's EFER.
        let nxEnabled = payload[ProbeSchema.efer].map { $0 & (1 << 11) != 0 }
        return walks.guestPageRange(at: address, nxEnabled: nxEnabled)
    }

    /// The provenance of a `vmrun_vmcb12` field.
    func vmrunSource(_ field: String, line: Int) -> String {
        "probe svmdbg/\(ProbeSchema.vmrunVMCB12Event) line \(line) (\(field))"
    }

    /// At L1's VMRUN: vmcb12's fields as KVM cached them for this VMRUN's consistency checks,
    /// replacing what earlier VMRUNs at that address left (a scenario may change a field
    /// between two VMRUNs). The model then runs the checks on them.
    func applyVMRUN(to state: inout VCPUState) {
        guard let (payload, line) = vmrun else { return }
        func known(_ field: String) -> Known<UInt64>? { payload[field].map { Known($0, source: vmrunSource(field, line: line)) } }
        func known32(_ field: String) -> Known<UInt32>? { payload[field].map { Known(UInt32(truncatingIfNeeded: $0), source: vmrunSource(field, line: line)) } }
        var vmcb = state.vmcb12
        vmcb.efer = known("efer") ?? vmcb.efer
        vmcb.cr0 = known("cr0") ?? vmcb.cr0
        vmcb.cr3 = known("cr3") ?? vmcb.cr3
        vmcb.cr4 = known("cr4") ?? vmcb.cr4
        vmcb.dr6 = known("dr6") ?? vmcb.dr6
        vmcb.dr7 = known("dr7") ?? vmcb.dr7
        if let attributes = payload["cs_attrib"] { vmcb.csAttributes = Known(UInt16(truncatingIfNeeded: attributes), source: vmrunSource("cs_attrib", line: line)) }
        vmcb.asid = known32("asid") ?? vmcb.asid
        vmcb.msrpmBase = known(ProbeSchema.msrpmBase) ?? vmcb.msrpmBase
        vmcb.iopmBase = known(ProbeSchema.iopmBase) ?? vmcb.iopmBase
        vmcb.eventInj = known32("event_inj") ?? vmcb.eventInj
        vmcb.intCtl = known32("int_ctl") ?? vmcb.intCtl
        vmcb.virtExt = known("virt_ext") ?? vmcb.virtExt
        vmcb.nestedCR3 = known("nested_cr3") ?? vmcb.nestedCR3
        // nested_ctl bit 0: NP_ENABLE (SVM_NESTED_CTL_NP_ENABLE).
        if let nested = payload["nested_ctl"] { vmcb.nestedPaging = Known(nested & 1 != 0, source: vmrunSource("nested_ctl", line: line) + " bit 0") }
        let names = ProbeSchema.interceptNames
        vmcb.intercepts.cr = known32(names[0]) ?? vmcb.intercepts.cr
        vmcb.intercepts.dr = known32(names[1]) ?? vmcb.intercepts.dr
        vmcb.intercepts.exceptions = known32(names[2]) ?? vmcb.intercepts.exceptions
        vmcb.intercepts.word3 = known32(names[3]) ?? vmcb.intercepts.word3
        vmcb.intercepts.word4 = known32(names[4]) ?? vmcb.intercepts.word4
        vmcb.intercepts.word5 = known32(names[5]) ?? vmcb.intercepts.word5
        state.vmcb12 = vmcb
        if let base = vmcb.msrpmBase?.value, let readable = msrpmReadable(base: base),
           state.assumptions[FactID.vmrunCheck("msrpm-read")] == nil {
            state.assumptions[FactID.vmrunCheck("msrpm-read")] = readable
        }
    }

    /// Whether L1's MSRPM could be read at this VMRUN: `svm/nested.c:nested_svm_vmrun_msrpm`
    /// reads the map with `kvm_vcpu_read_guest` after `enter_svm_guest_mode`, and this exit's
    /// `guest_read` lines inside the map's two pages (base with bits 11:0 cleared) show each
    /// read's result. That is the input of check `msrpm-read` (are the pages backed), not the
    /// VMRUN's outcome: the model still runs every other check. Nil when no read is traced.
    func msrpmReadable(base: UInt64) -> Known<Bool>? {
        let first = base & ~0xfff
        let hits = reads.filter { $0.gpa >= first && $0.gpa - first < 0x2000 }
        guard let last = hits.last else { return nil }
        let event = "probe svmdbg/\(ProbeSchema.guestReadEvent)"
        if let failed = hits.first(where: { $0.result != 0 }) {
            return Known(false, source: "\(event) line \(failed.line) (kvm_vcpu_read_guest of L1's MSRPM at 0x\(String(failed.gpa, radix: 16)) returned \(failed.result))")
        }
        return Known(true, source: "\(event) lines \(hits[0].line)-\(last.line) (\(hits.count) reads of L1's MSRPM returned 0)")
    }

    /// In guest mode: the MSRPM and IOPM bytes KVM read from L1's memory at this exit
    /// (`nested_svm_exit_handled_msr` reads the 4-byte word holding the MSR's bits,
    /// `nested_svm_intercept_ioio` the 1 or 2 bytes holding the port's), as known bits of
    /// vmcb12's maps: every bit the bytes hold, relative to the bases vmcb12 had at the last
    /// VMRUN (`exit_regs` `msrpm_base` / `iopm_base`). A failed read adds nothing. The model
    /// still computes which bit an access tests.
    func applyBitmapReads(to state: inout VCPUState) {
        guard !reads.isEmpty else { return }
        let msrpmBase = payload[ProbeSchema.msrpmBase]
        let iopmBase = payload[ProbeSchema.iopmBase]
        if let msrpmBase { state.vmcb12.msrpmBase = Known(msrpmBase, source: source(ProbeSchema.msrpmBase)) }
        if let iopmBase { state.vmcb12.iopmBase = Known(iopmBase, source: source(ProbeSchema.iopmBase)) }
        for read in reads where read.result == 0 && (1...4).contains(read.length) {
            for index in 0..<read.length {
                let address = read.gpa &+ index
                let byte = UInt8(truncatingIfNeeded: read.value >> (8 * index))
                let source = "probe svmdbg/\(ProbeSchema.guestReadEvent) line \(read.line) (byte 0x\(String(byte, radix: 16)) at 0x\(String(address, radix: 16)))"
                if let msrpmBase, address >= msrpmBase, address - msrpmBase < Self.msrpmBytes {
                    let offset = UInt32(address - msrpmBase)
                    for range in MSRPermissionMap.ranges where offset >= range.byteOffset && offset - range.byteOffset < MSRPermissionMap.msrsPerRange / 4 {
                        for slot in 0..<UInt32(4) {
                            let msr = range.base + (offset - range.byteOffset) * 4 + slot
                            state.vmcb12.msrpm.entries[msr] = MSRPermissionMap.Entry(
                                read: Known(byte >> (2 * slot) & 1 != 0, source: source),
                                write: Known(byte >> (2 * slot + 1) & 1 != 0, source: source))
                        }
                    }
                }
                if let iopmBase, address >= iopmBase, address - iopmBase < Self.iopmBytes {
                    let first = UInt32(address - iopmBase) * 8
                    for bit in 0..<UInt32(8) where first + bit <= IOPermissionMap.lastBit {
                        state.vmcb12.iopm.ports[first + bit] = Known(byte >> bit & 1 != 0, source: source)
                    }
                }
            }
        }
    }

    /// The MSRPM's size in bytes KVM reads from (three ranges of 0x800 bytes; the map is 8 KiB).
    static let msrpmBytes: UInt64 = 0x1800
    /// The IOPM's size in bytes (12 KiB, `IOPM_SIZE`).
    static let iopmBytes: UInt64 = 0x3000
}

/// One register value a probe recorded at an exit, for display.
public struct ProbeRegister: Sendable, Equatable {
    /// The field name (``ProbeSchema``), upper-cased for general-purpose registers.
    public let name: String
    /// The value.
    public let value: UInt64
    /// `probe svmdbg/exit_regs line N (field)`.
    public let source: String
}

extension ReplayResult {
    /// The probe values attached to `exit`, if the trace has them (see ``ProbeValues``).
    func probeValues(of exit: ExitRecord) -> ProbeValues? {
        ProbeValues.of(
            trace: trace, origin: exit.origin, first: exit.firstEvent, events: events(of: exit).dropFirst(), exitCode: exit.exitCode, level: exit.level)
    }

    /// The state the model decided `exit` with: the stored state plus what the exit's probe
    /// recorded (stored states are shared between exits and hold no per-exit probe values).
    public func decidedState(of exit: ExitRecord) -> VCPUState {
        decidedState(of: exit, in: state(of: exit))
    }

    /// ``decidedState(of:)`` from the exit's state already at hand (``state(of:)`` re-derives it).
    public func decidedState(of exit: ExitRecord, in state: ReplayState) -> VCPUState {
        var vcpu = state.vcpu
        probeValues(of: exit)?.apply(to: &vcpu)
        return vcpu
    }

    /// The general-purpose registers and other fields `exit`'s probe recorded, in the line's
    /// order (empty without a probe); the registers and CPL the model reads are also in
    /// ``decidedState(of:)``.
    public func probeRegisters(of exit: ExitRecord) -> [ProbeRegister] {
        guard let probe = probeValues(of: exit) else { return [] }
        let gprs = Set(ProbeSchema.gprNames)
        return probe.payload.fields.map { field in
            ProbeRegister(name: gprs.contains(field.name) ? field.name.uppercased() : field.name, value: field.value,
                          source: probe.source(field.name))
        }
    }
}

/// The `kvmmmu` walker tracepoints (`mmu/mmutrace.h`, traced by
/// `mmu/paging_tmpl.h:FNAME(walk_addr_generic)`, 6.1 and 6.12).
enum WalkEvent {
    /// `kvm_mmu_pagetable_walk: addr %llx pferr %x %s`: a walk starts.
    case start
    /// `kvm_mmu_paging_element: pte %llx level %u`: one entry read.
    case element
    /// `kvm_mmu_walker_error: pferr %x %s`: the walk faulted with that error code.
    case error

    init?(_ name: String) {
        switch name {
        case "kvm_mmu_pagetable_walk": self = .start
        case "kvm_mmu_paging_element": self = .element
        case "kvm_mmu_walker_error": self = .error
        default: return nil
        }
    }
}

/// The walks of one exit, in order: each walk's address, the entries it read, and its error
/// code when it faulted.
///
/// An L2 #NPF with L1 using nested paging reaches `FNAME(page_fault)` of the shadow-NPT MMU,
/// whose `FNAME(walk_addr)` walks L1's NPT for the faulting GPA (`fault->addr`, the exit's
/// EXITINFO2); a walk that faults ends with `kvm_mmu_walker_error` and `FNAME(page_fault)`
/// hands its error to `kvm_inject_emulated_page_fault` → `nested_svm_inject_npf_exit`. The
/// tracepoints give the walk's input and result (the entries of L1's tables, faulted or not),
/// never whether KVM reflected the exit.
struct NPTWalks: Sendable {
    struct Walk: Sendable {
        var address: UInt64
        var line: Int
        /// The access the walk checks (`pferr`: the error code bits of the fault).
        var access: UInt64?
        /// The entries of the last pass, root first.
        var entries: [(pte: UInt64, level: UInt64, line: Int)] = []
        var error: (code: UInt64, line: Int)?
    }

    private(set) var walks: [Walk] = []

    mutating func add(_ event: WalkEvent, text: String, line: Int) {
        switch event {
        case .start:
            guard let address = Self.hex(after: "addr ", in: text) else { return }
            walks.append(Walk(address: address, line: line, access: Self.hex(after: "pferr ", in: text)))
        case .element:
            guard !walks.isEmpty, let pte = Self.hex(after: "pte ", in: text) else { return }
            let level = Self.number(after: "level ", in: text) ?? 0
            // Levels fall within one pass; a level at or above the last one is a new pass:
            // `FNAME(walk_addr_generic)` retries from `retry_walk:` after a failed A/D update
            // without tracing a new walk start.
            if let last = walks[walks.count - 1].entries.last, level >= last.level { walks[walks.count - 1].entries.removeAll() }
            walks[walks.count - 1].entries.append((pte, level, line))
        case .error:
            guard !walks.isEmpty, walks[walks.count - 1].error == nil, let code = Self.hex(after: "pferr ", in: text) else { return }
            walks[walks.count - 1].error = (code, line)
        }
    }

    /// Whether the first walk of `address` in this exit faulted, with the lines that show it;
    /// nil without such a walk.
    func walkFaults(at address: UInt64) -> Known<Bool>? {
        guard let walk = walks.first(where: { $0.address == address }) else { return nil }
        let entries = walk.entries.map { "L\($0.level) 0x\(String($0.pte, radix: 16))" }.joined(separator: ", ")
        let read = entries.isEmpty ? "" : ", entries \(entries)"
        if let error = walk.error {
            return Known(true, source: "trace kvm_mmu_pagetable_walk line \(walk.line) (addr 0x\(String(address, radix: 16))\(read)); kvm_mmu_walker_error line \(error.line) (pferr 0x\(String(error.code, radix: 16)))")
        }
        return Known(false, source: "trace kvm_mmu_pagetable_walk line \(walk.line) (addr 0x\(String(address, radix: 16))\(read)), no kvm_mmu_walker_error before the next walk")
    }

    /// What the first walk of `address` read, as one range of a guest page map: the region the
    /// last entry maps (a 4-KiB, 2-MiB or 1-GiB page, or the whole region a non-present entry
    /// covers), present or not, and R/W, U/S, NX combined over every level as
    /// `FNAME(walk_addr_generic)` combines them (`pte_access = pt_access & (pte ^ nx_mask)`).
    /// The source cites the walk and each entry by line.
    ///
    /// Nil, so unknown, when the walk is not one the page map can hold: no walk of that
    /// address; 32-bit paging (first entry at level 2); an entry left incomplete (a present
    /// non-leaf last entry: the walk stopped on a memslot or a read); NX set with EFER.NXE
    /// clear, or a walker error with PFERR_RSVD (reserved bits, which the map cannot state).
    /// With PAE the first entry is a PDPTE (level 3, `mmu->get_pdptr`): only its present bit
    /// counts, as in the kernel.
    func guestPageRange(at address: UInt64, nxEnabled: Bool?) -> PageMap.Range? {
        guard let walk = walks.first(where: { $0.address == address }), let first = walk.entries.first,
              let last = walk.entries.last, first.level >= 3, first.level <= 5, last.level >= 1 else { return nil }
        if let error = walk.error, error.code & Self.reservedBit != 0 { return nil }
        let pae = first.level == 3
        var writable = true, user = true, noExecute = false
        for (index, entry) in walk.entries.enumerated() {
            let present = entry.pte & 1 != 0
            guard present || index == walk.entries.count - 1 else { return nil }
            if !present { break }
            if pae && index == 0 { continue }
            writable = writable && entry.pte & 0x2 != 0
            user = user && entry.pte & 0x4 != 0
            noExecute = noExecute || entry.pte >> 63 != 0
        }
        let present = last.pte & 1 != 0
        if present {
            // A leaf: level 1, or PS (bit 7) at level 2, or at level 3 in 4-/5-level paging.
            let leaf = last.level == 1 || (last.pte & 0x80 != 0 && (last.level == 2 || (last.level == 3 && !pae)))
            guard leaf else { return nil }
        }
        var executable: Bool? = true
        if present && noExecute {
            // NX with EFER.NXE clear (or unknown) may be a reserved-bit fault.
            guard nxEnabled == true else { return nil }
            executable = false
        }
        let size: UInt64 = 1 << (12 + 9 * (last.level - 1))
        let start = address & ~(size - 1)
        let lines = walk.entries.map(\.line)
        let entries = walk.entries.map { "L\($0.level) 0x\(String($0.pte, radix: 16))" }.joined(separator: ", ")
        let access = walk.access.map { ", pferr 0x\(String($0, radix: 16))" } ?? ""
        let source = "trace kvm_mmu_pagetable_walk line \(walk.line) (addr 0x\(String(address, radix: 16))\(access)); kvm_mmu_paging_element lines \(lines.first!)-\(lines.last!) (\(entries))"
        return PageMap.Range(
            first: start, last: start + (size - 1), present: present, writable: present && writable, user: present && user,
            executable: present ? executable : nil, source: source)
    }

    /// `PFERR_RSVD_MASK`: the walk faulted on reserved bits.
    static let reservedBit: UInt64 = 0x8

    /// The hex number after `key` in `text` (the printk `%llx`/`%x` have no 0x).
    static func hex(after key: String, in text: String) -> UInt64? {
        guard let range = text.range(of: ": " + key) ?? text.range(of: " " + key) else { return nil }
        let digits = text[range.upperBound...].prefix { $0.isHexDigit }
        return UInt64(digits, radix: 16)
    }

    /// The decimal number after `key` in `text`.
    static func number(after key: String, in text: String) -> UInt64? {
        guard let range = text.range(of: " " + key) else { return nil }
        return UInt64(text[range.upperBound...].prefix { $0.isNumber })
    }
}
