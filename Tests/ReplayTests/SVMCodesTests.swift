import NestedSVM
import Testing
import TraceKit

/// The one exit-code table keeps each spelling it replaced (tracefs / plugin / model names).
@Suite struct SVMCodesTests {
    @Test("kernel, plugin and model spellings of the same codes")
    func spellings() {
        #expect(SVMExitReason(0x081).kernelName == "hypercall")
        #expect(SVMExitReason(0x081).pluginName == "EXIT_VMMCALL")
        #expect(VMExitCode(0x081).description == "hypercall (0x081)")
        // SVM_EXIT_REASONS spells vector 19 XF; the model says XM.
        #expect(SVMExitReason(0x053).kernelName == "XF excp")
        #expect(VMExitCode(0x053).name == "XM excp")
        // Codes the kernel's table leaves out: printed as numbers by TraceKit, named by the model.
        #expect(SVMExitReason(0x08c).kernelName == nil)
        #expect(SVMExitReason(0x08c).pluginName == "EXIT_MWAIT_COND")
        #expect(VMExitCode(0x08c).name == "mwait_cond")
        #expect(SVMExitReason(0x0a4).pluginName == nil)
        #expect(VMExitCode(0x0a4).name == "tlbsync")
        #expect(VMExitCode(0xffff_ffff).name == "invalid")
        #expect(SVMExitReason(0xffff_ffff).description == "0xffffffff")
        // Newer kernel names the model does not carry.
        #expect(SVMExitReason(0x0a5).kernelName == "buslock")
        #expect(VMExitCode(0x0a5).name == nil)
        // Generic CR/DR names only in the model.
        #expect(VMExitCode(0x005).name == "read_cr5")
        #expect(SVMExitReason(0x005).kernelName == nil)
        #expect(SVMExitReason(name: "EXIT_NPF") == .npf)
        #expect(SVMExitReason(name: "GP excp")?.rawValue == 0x04d)
        #expect(SVMExitReason(name: "UNKNOWN (142)")?.rawValue == 142)
        #expect(SVMExitCodes.kernelDescription(of: 0x07c) == "msr (0x07c)")
        #expect(SVMExitCodes.kernelDescription(of: 0xffff_ffff) == "0xffffffff")
    }

    @Test("exception vector spellings")
    func vectors() {
        #expect(ExceptionVector.name(13) == "#GP")
        #expect(ExceptionVector.name(2) == "vector 2")
        #expect(ExceptionVector.injectedName(19) == "#XM")
        #expect(ExceptionVector.injectedName(21) == "0x15")
        #expect(ExceptionVector.injectedName(nil) == "?")
        #expect(KVMInjException.exceptionNames[30] == "#SX")
        #expect(ExceptionVector.traceSymbols6x[19] == nil && ExceptionVector.traceSymbols6x[18] == "#MC")
        #expect(Hex.format(0x7c, width: 3) == "0x07c")
        #expect(Hex.short(0x1f) == "0x1f")
    }
}
