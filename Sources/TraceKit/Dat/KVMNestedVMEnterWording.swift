import CTraceCmd

/// Renders `kvm_nested_vmenter` payloads in the kernel's wording from the record's raw
/// fields, because libtraceevent evaluates this event's print format wrongly.
///
/// The 6.1, 6.12 and 6.18 format ends with `!REC->tdp_enabled ? "guest_cr3" : REC->isa == 1 ?
/// "nested_eptp" : "nested_cr3"`. libtraceevent 1.7.1 gets the negated condition wrong and
/// prints `nested_npt=n nested_cr3: …` where tracefs prints `nested_npt=n guest_cr3: …`
/// (shipped 6.12 `minimal.trace` line 62 vs `minimal.report-noplugin`, which shows the same
/// mistake). The kernel (`arch/x86/kvm/trace.h`, `TRACE_EVENT(kvm_nested_vmenter)`) prints:
/// `rip: 0x%016llx <vmcb|vmcs>: 0x%016llx nested_rip: 0x%016llx int_ctl: 0x%08x
/// event_inj: 0x%08x nested_<npt|ept>=<y|n> <guest_cr3|nested_cr3|nested_eptp>: 0x%016llx`,
/// with `vmcs`/`ept`/`nested_eptp` when `isa` is VMX and `guest_cr3` whenever `tdp_enabled`
/// is false.
///
/// Used only when the file's format string is exactly `expectedFormat`, so a kernel that
/// changes the wording falls back to libtraceevent rather than to a stale copy.
struct KVMNestedVMEnterWording {
    /// The tracepoint's name.
    static let eventName = "kvm_nested_vmenter"

    /// The print format string of 6.1, 6.12 and 6.18 kernels (`kvm-event-formats.txt`,
    /// `formats-6.18/kvm_nested_vmenter.format`).
    static let expectedFormat =
        "rip: 0x%016llx %s: 0x%016llx nested_rip: 0x%016llx int_ctl: 0x%08x event_inj: 0x%08x nested_%s=%s %s: 0x%016llx"

    /// `KVM_ISA_VMX` in `arch/x86/kvm/trace.h`: the value of `isa` on Intel hosts.
    static let isaVMX: UInt64 = 1

    private let rip: UnsafeMutablePointer<tep_format_field>
    private let vmcb: UnsafeMutablePointer<tep_format_field>
    private let nestedRIP: UnsafeMutablePointer<tep_format_field>
    private let intCtl: UnsafeMutablePointer<tep_format_field>
    private let eventInj: UnsafeMutablePointer<tep_format_field>
    private let tdpEnabled: UnsafeMutablePointer<tep_format_field>
    private let guestPGD: UnsafeMutablePointer<tep_format_field>
    private let isa: UnsafeMutablePointer<tep_format_field>

    /// Prepares the wording for `event`, or returns `nil` if its format string or fields
    /// differ from the kernels this wording was written for.
    init?(event: UnsafeMutablePointer<tep_event>) {
        guard let format = event.pointee.print_fmt.format,
              String(cString: format) == Self.expectedFormat,
              let rip = tep_find_field(event, "rip"),
              let vmcb = tep_find_field(event, "vmcb"),
              let nestedRIP = tep_find_field(event, "nested_rip"),
              let intCtl = tep_find_field(event, "int_ctl"),
              let eventInj = tep_find_field(event, "event_inj"),
              let tdpEnabled = tep_find_field(event, "tdp_enabled"),
              let guestPGD = tep_find_field(event, "guest_pgd"),
              let isa = tep_find_field(event, "isa")
        else { return nil }
        (self.rip, self.vmcb, self.nestedRIP, self.intCtl) = (rip, vmcb, nestedRIP, intCtl)
        (self.eventInj, self.tdpEnabled, self.guestPGD, self.isa) = (eventInj, tdpEnabled, guestPGD, isa)
    }

    /// Appends the payload of `record` to `writer`.
    func append(_ record: UnsafeMutablePointer<tep_record>, to writer: inout TraceTextWriter) -> RawFieldWordingResult {
        let data = record.pointee.data
        var values = [UInt64](repeating: 0, count: 8)
        let fields = [rip, vmcb, nestedRIP, intCtl, eventInj, tdpEnabled, guestPGD, isa]
        for index in fields.indices where tep_read_number_field(fields[index], data, &values[index]) != 0 {
            return .unreadableFields
        }
        let (ripValue, vmcbValue, nestedRIPValue, intCtlValue) = (values[0], values[1], values[2], values[3])
        let (eventInjValue, tdpValue, guestPGDValue, isaValue) = (values[4], values[5], values[6], values[7])
        let vmx = isaValue == Self.isaVMX

        writer.append("rip: ")
        writer.appendPaddedHex(ripValue, digits: 16)
        writer.append(vmx ? " vmcs: " : " vmcb: ")
        writer.appendPaddedHex(vmcbValue, digits: 16)
        writer.append(" nested_rip: ")
        writer.appendPaddedHex(nestedRIPValue, digits: 16)
        writer.append(" int_ctl: ")
        writer.appendPaddedHex(intCtlValue, digits: 8)
        writer.append(" event_inj: ")
        writer.appendPaddedHex(eventInjValue, digits: 8)
        writer.append(vmx ? " nested_ept=" : " nested_npt=")
        writer.append(tdpValue != 0 ? "y " : "n ")
        writer.append(tdpValue == 0 ? "guest_cr3: " : vmx ? "nested_eptp: " : "nested_cr3: ")
        writer.appendPaddedHex(guestPGDValue, digits: 16)
        return .written
    }
}
