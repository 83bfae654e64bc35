import Foundation
import NestedSVM
import TestSupport
import Testing

/// Issue #15, helper "insns": fact fields, forced emulation, L0 handler outcomes (CR4 /
/// XSETBV rejected, #DF, triple fault), `guest_debug_sw_bp`, VLS. Each case is a `decide`
/// scenario built from the kvm-unit-tests harness state (the one of
/// `traces/scenarios/kvm-tests/asid-zero.json`) with the fields the case changes.
@Suite struct InstructionOutcomeTests {
    /// The harness scenario as a JSON object, L2 running.
    static func base() throws -> [String: Any] {
        let url = RepositoryPaths.traces.appendingPathComponent("scenarios/kvm-tests/asid-zero.json")
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        object.removeValue(forKey: "expect")
        object.removeValue(forKey: "kvm_test")
        var state = try #require(object["state"] as? [String: Any])
        state["level"] = "L2"
        var vmcb = try #require(state["vmcb12"] as? [String: Any])
        vmcb["asid"] = 1
        state["vmcb12"] = vmcb
        object["state"] = state
        return object
    }

    /// Decides `event` on the harness state changed by `edit`, under `profile`.
    static func decide(
        _ event: [String: Any], profile: KernelProfile = .v6_12, _ edit: (inout [String: Any]) throws -> Void = { _ in }
    ) throws -> Outcome {
        var object = try base()
        object["event"] = event
        try edit(&object)
        let scenario = try Scenario(json: try JSONSerialization.data(withJSONObject: object))
        return DecisionModel(profile: profile, host: scenario.host).decision(for: scenario.event, state: scenario.state).outcome
    }

    static func set(_ object: inout [String: Any], _ path: [String], _ value: Any?) {
        guard let first = path.first else { return }
        if path.count == 1 {
            object[first] = value
            return
        }
        var inner = object[first] as? [String: Any] ?? [:]
        set(&inner, Array(path.dropFirst()), value)
        object[first] = inner
    }

    // MARK: item 5 — VLS

    @Test("L2 VMLOAD/VMSAVE L1 does not intercept: no exit when VLS is usable, L0 emulates when it forces the intercept (nested_vmcb_needs_vls_intercept)")
    func vls() throws {
        for (code, bytes) in [("vmload", "0f 01 da"), ("vmsave", "0f 01 db")] {
            let event: [String: Any] = ["type": "exit", "exit_code": code, "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": 0, "rax": "0x421000", "insn_bytes": bytes]
            // Harness: virt_ext 0 → forced → L0 emulates on vmcb01's state.
            #expect(try Self.decide(event).kind == .l0Handles)
            // L1 enables VIRTUAL_VMLOAD_VMSAVE with NPT and the CPUID bit: vmcb02 lacks the intercept.
            let usable = try Self.decide(event) { Self.set(&$0, ["state", "vmcb12", "virt_ext"], "0x2") }
            #expect(usable.kind == .noExit)
            #expect(usable.level == .l2)
            // The guest lacks V_VMSAVE_VMLOAD: forced again.
            let noCPUID = try Self.decide(event) {
                Self.set(&$0, ["state", "vmcb12", "virt_ext"], "0x2")
                Self.set(&$0, ["state", "guest", "cpuid", "v_vmsave_vmload"], 0)
            }
            #expect(noCPUID.kind == .l0Handles)
            // virt_ext unknown: the exit itself shows vmcb02 intercepted it (forced); a stated fact decides.
            #expect(try Self.decide(event) { Self.set(&$0, ["state", "vmcb12", "virt_ext"], nil) }.kind == .l0Handles)
            let assumed = try Self.decide(event) {
                Self.set(&$0, ["state", "vmcb12", "virt_ext"], nil)
                Self.set(&$0, ["state", "assumptions"], ["vmcb12.virtual-vmload-vmsave": true])
            }
            #expect(assumed.kind == .noExit)
        }
    }

    // MARK: item 4 — guest_debug_sw_bp

    @Test("#BP is L0's only with KVM_GUESTDBG_USE_SW_BP: guest_debug_sw_bp decides it, guest_debug alone keeps its old meaning (svm_update_exception_bitmap)")
    func breakpoint() throws {
        let event: [String: Any] = ["type": "exception", "vector": 3]
        // Single-step / hardware breakpoints only: #BP stays the guest's.
        let hwOnly = try Self.decide(event) {
            Self.set(&$0, ["host", "guest_debug"], 1)
            Self.set(&$0, ["host", "guest_debug_sw_bp"], 0)
        }
        #expect(hwOnly.kind == .noExit)
        let swBP = try Self.decide(event) { Self.set(&$0, ["host", "guest_debug_sw_bp"], 1) }
        #expect(swBP.kind == .userspaceExit)
        // The old key alone: as before.
        #expect(try Self.decide(event) { Self.set(&$0, ["host", "guest_debug"], 1) }.kind == .userspaceExit)
        #expect(try Self.decide(event).kind == .noExit)
        // --host parses the new key; an unknown key still fails.
        #expect(try HostFacts(parsing: "guest_debug_sw_bp=1,force_emulation_prefix=0").guestDebugSoftwareBreakpoints?.value == true)
        #expect(throws: HostFacts.ParseError.self) { try HostFacts(parsing: "guest_debug_swbp=1") }
    }

    // MARK: item 2 — forced emulation

    static func fep(_ bytes: String, written: String? = nil) -> [String: Any] {
        var event: [String: Any] = ["type": "forced_emulation", "insn_bytes": bytes]
        if let written { event["written_value"] = written }
        return event
    }

    @Test("KVM_FEP in L2: handle_ud emulates the instruction after the prefix and svm_check_intercept applies L1's intercepts")
    func forcedEmulation() throws {
        let selective = 0x8000_0000 | (1 << 5)  // SHUTDOWN + SELECTIVE_CR0 (bit 101)
        func cr0Write(_ edit: @escaping (inout [String: Any]) -> Void) throws -> Outcome {
            try Self.decide(Self.fep("0f 22 c0", written: "0xc0010011")) {
                Self.set(&$0, ["host", "force_emulation_prefix"], 1)
                Self.set(&$0, ["state", "vmcb12", "intercepts", "word3"], "0x\(String(selective, radix: 16))")
                edit(&$0)
            }
        }
        // MOV to CR0 setting CD under the selective intercept: cr0_sel_write.
        let sel = try cr0Write { _ in }
        #expect(sel.kind == .reflectToL1)
        #expect(sel.exitCode == .cr0SelectiveWrite)
        // The CR0-write intercept ranks first.
        let priority = try cr0Write { Self.set(&$0, ["state", "vmcb12", "intercepts", "cr_write"], "0x1") }
        #expect(priority.exitCode == .writeCR0)
        // Only MP changes: executed, L2 continues.
        let mp = try Self.decide(Self.fep("0f 22 c0", written: "0x80010013")) {
            Self.set(&$0, ["host", "force_emulation_prefix"], 1)
            Self.set(&$0, ["state", "vmcb12", "intercepts", "word3"], "0x\(String(selective, radix: 16))")
        }
        #expect(mp.kind == .emulate)
        #expect(mp.level == .l2)
        // LMSW always triggers the selective intercept.
        let lmsw = try Self.decide(Self.fep("0f 01 f0")) {
            Self.set(&$0, ["host", "force_emulation_prefix"], 1)
            Self.set(&$0, ["state", "vmcb12", "intercepts", "word3"], "0x\(String(selective, radix: 16))")
        }
        #expect(lmsw.exitCode == .cr0SelectiveWrite)
        // Without force_emulation_prefix the ud2 is not emulated: #UD for L2.
        let off = try cr0Write { Self.set(&$0, ["host", "force_emulation_prefix"], 0) }
        #expect(off.kind == .injectException)
        #expect(off.vector == 6)
        // Unknown: both.
        let unknown = try cr0Write { Self.set(&$0, ["host", "force_emulation_prefix"], nil) }
        #expect(Set(unknown.alternatives?.map(\.outcome.kind) ?? []) == [.reflectToL1, .injectException])
        // L1 intercepts #UD: L0 still goes first (#UD is in vmcb01's bitmap:
        // nested_svm_exit_special → NESTED_EXIT_HOST), so the prefix is still honoured …
        let ud = try cr0Write { Self.set(&$0, ["state", "vmcb12", "intercepts", "excp"], "0x40") }
        #expect(ud.exitCode == .cr0SelectiveWrite)
        // … and without force_emulation_prefix the re-queued #UD is L1's #VMEXIT.
        let udOff = try cr0Write {
            Self.set(&$0, ["state", "vmcb12", "intercepts", "excp"], "0x40")
            Self.set(&$0, ["host", "force_emulation_prefix"], 0)
        }
        #expect(udOff.kind == .reflectToL1)
        #expect(udOff.exitCode == .exception(6))
    }

    // MARK: item 3 — L0 handler outcomes

    @Test("MOV to CR4 that kvm_set_cr4 rejects: #GP(0) for the writer; accepted values are performed; unknown values fork")
    func cr4Write() throws {
        func write(_ value: String?, level: String = "L1", _ edit: @escaping (inout [String: Any]) -> Void = { _ in }) throws -> Outcome {
            var event: [String: Any] = ["type": "exit", "exit_code": "write_cr4", "exit_info_1": "0x8000000000000000", "exit_info_2": 0, "exit_int_info": 0]
            if let value { event["written_value"] = value }
            return try Self.decide(event) {
                Self.set(&$0, ["state", "level"], level)
                edit(&$0)
            }
        }
        // Bit 15 is reserved everywhere.
        let reserved = try write("0x8620")
        #expect(reserved.kind == .injectException)
        #expect(reserved.vector == 13)
        #expect(reserved.level == .l1)
        // CR4.SMEP without guest SMEP (the harness CPUID says nothing: unknown → fork).
        let smepUnknown = try write("0x100620")
        #expect(smepUnknown.kind == .undetermined)
        let smepMissing = try write("0x100620") { Self.set(&$0, ["state", "guest", "cpuid", "smep"], 0) }
        #expect(smepMissing.vector == 13)
        // Clearing PAE in long mode.
        #expect(try write("0x600").vector == 13)
        // The harness value again: accepted.
        #expect(try write("0x620").kind == .l0Handles)
        // Unknown value: fork, and the trace's fact settles it.
        let unknown = try write(nil)
        #expect(Set(unknown.alternatives?.map(\.outcome.kind) ?? []) == [.l0Handles, .injectException])
        let settled = try write(nil) { Self.set(&$0, ["state", "assumptions"], ["l0.rejects-cr4-write": true]) }
        #expect(settled.vector == 13)
    }

    @Test("XSETBV KVM rejects (index, x87 clear, YMM without SSE, CPL > 0): #GP(0); x87|SSE at CPL 0 is accepted")
    func xsetbv() throws {
        func run(_ value: String?, rcx: String = "0x0", cpl: Int = 0) throws -> Outcome {
            var event: [String: Any] = ["type": "exit", "exit_code": "xsetbv", "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": 0, "rcx": rcx]
            if let value { event["written_value"] = value }
            return try Self.decide(event) {
                Self.set(&$0, ["state", "level"], "L1")
                Self.set(&$0, ["state", "l1", "cpl"], cpl)
            }
        }
        #expect(try run("0x3").kind == .l0Handles)
        #expect(try run("0x2").vector == 13)
        #expect(try run("0x5").vector == 13)
        #expect(try run("0x3", rcx: "0x1").vector == 13)
        #expect(try run("0x3", cpl: 3).vector == 13)
        #expect(try run("0x7").kind == .undetermined)
        #expect(try run(nil).kind == .undetermined)
    }

    @Test("an exception L0 queues while another is in flight: #GP on #GP → #DF, a fault on #DF → triple fault (kvm_multiple_exception)")
    func doubleAndTripleFault() throws {
        // L2 CR4 write KVM rejects (#GP) while a #GP was being delivered (exit_int_info).
        func cr4(intInfo: String, _ edit: @escaping (inout [String: Any]) -> Void = { _ in }) throws -> Outcome {
            let event: [String: Any] = [
                "type": "exit", "exit_code": "write_cr4", "exit_info_1": "0x8000000000000000", "exit_info_2": 0,
                "exit_int_info": intInfo, "exit_int_info_err": 0, "written_value": "0x8620",
            ]
            return try Self.decide(event, edit)
        }
        // #GP in flight, #GP queued, L1 intercepts neither #GP nor #DF: #DF(0) into L2.
        let df = try cr4(intInfo: "0x80000b0d")
        #expect(df.kind == .injectException)
        #expect(df.vector == 8)
        #expect(df.errorCode == 0)
        // L1 intercepts #DF: reflected as DF excp.
        let dfReflected = try cr4(intInfo: "0x80000b0d") { Self.set(&$0, ["state", "vmcb12", "intercepts", "excp"], "0x100") }
        #expect(dfReflected.exitCode == .exception(8))
        // L1 intercepts #GP: the #GP is its #VMEXIT (morphed at queue time), no merge.
        let gp = try cr4(intInfo: "0x80000b0d") { Self.set(&$0, ["state", "vmcb12", "intercepts", "excp"], "0x2000") }
        #expect(gp.exitCode == .exception(13))
        // #DF in flight: triple fault → SHUTDOWN #VMEXIT (harness intercepts SHUTDOWN) …
        let shutdown = try cr4(intInfo: "0x80000b08")
        #expect(shutdown.exitCode == .shutdown)
        // … or KVM_EXIT_SHUTDOWN without the intercept.
        let userspace = try cr4(intInfo: "0x80000b08") { Self.set(&$0, ["state", "vmcb12", "intercepts", "word3"], "0x0") }
        #expect(userspace.kind == .userspaceExit)
        // A benign exception in flight (#DB): the #GP replaces it.
        #expect(try cr4(intInfo: "0x80000301").vector == 13)
        // Nothing in flight: the #GP itself.
        #expect(try cr4(intInfo: "0x0").vector == 13)
    }

    // MARK: item 1 — fact fields

    @Test("WRMSR value: an invalid PAT or a misaligned VM_HSAVE_PA fails kvm_set_msr (#GP), a valid PAT is emulated")
    func wrmsrValue() throws {
        func wrmsr(_ msr: String, _ value: String) throws -> Outcome {
            let event: [String: Any] = ["type": "exit", "exit_code": "msr", "exit_info_1": 1, "exit_info_2": 0, "exit_int_info": 0, "rcx": msr, "written_value": value]
            return try Self.decide(event) { Self.set(&$0, ["state", "level"], "L1") }
        }
        #expect(try wrmsr("0x277", "0x0007040600070406").kind == .l0Handles)
        #expect(try wrmsr("0x277", "0x0007040600070402").vector == 13)
        #expect(try wrmsr("0xc0010117", "0x430010").vector == 13)
        #expect(try wrmsr("0xc0010117", "0x430000").kind == .l0Handles)
        #expect(try wrmsr("0xc0000080", "0x1d00").kind == .undetermined)
        #expect(try wrmsr("0xc0000080", "0x11d00").vector == 13)
    }

    @Test("PAE PDPTEs decide load_pdptrs for legacy PAE paging without nested paging (nested_svm_load_cr3)")
    func pdptes() throws {
        func vmrun(_ pdptes: [String]?, npt: Int = 0) throws -> Outcome {
            let event: [String: Any] = ["type": "exit", "exit_code": "vmrun", "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": 0, "rax": "0x421000", "insn_bytes": "0f 01 d8"]
            return try Self.decide(event) {
                Self.set(&$0, ["state", "level"], "L1")
                Self.set(&$0, ["state", "vmcb12", "efer"], "0x1000")
                Self.set(&$0, ["state", "vmcb12", "cr3"], "0x500000")
                Self.set(&$0, ["state", "vmcb12", "nested_paging"], npt)
                Self.set(&$0, ["state", "vmcb12", "pdptes"], pdptes)
            }
        }
        let good = ["0x501001", "0x502001", "0x0", "0x0"]
        #expect(try vmrun(good).kind == .vmrunSucceeds)
        let reserved = try vmrun(["0x501007", "0x0", "0x0", "0x0"])
        #expect(reserved.kind == .vmrunFails)
        #expect(reserved.check == "load-pdptrs")
        #expect(try vmrun(["0x1000000000001", "0x0", "0x0", "0x0"]).check == "load-pdptrs")
        // Not present: reserved bits do not matter.
        #expect(try vmrun(["0x6", "0x0", "0x0", "0x0"]).kind == .vmrunSucceeds)
        // With nested paging the PDPTEs are not loaded.
        #expect(try vmrun(["0x501007", "0x0", "0x0", "0x0"], npt: 1).kind == .vmrunSucceeds)
        // Not given: as before, undetermined.
        #expect(try vmrun(nil).kind == .undetermined)
    }
}
