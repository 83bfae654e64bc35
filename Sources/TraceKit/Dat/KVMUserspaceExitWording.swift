import CTraceCmd

/// Words `kvm_userspace_exit` records whose `errno` is negative, which libtraceevent
/// renders wrongly.
///
/// The 6.1, 6.12 and 6.18 format is `"reason %s (%d)", REC->errno < 0 ? (REC->errno == -4 ?
/// "restart" : "error") : __print_symbolic(REC->reason, …), REC->errno < 0 ? -REC->errno :
/// REC->reason` (`include/trace/events/kvm.h`,
/// `TRACE_EVENT(kvm_userspace_exit)`). libtraceevent 1.7.1 never takes the `errno < 0`
/// branch: the shipped 6.1 `vmmcall.trace` shows `reason restart (4)` where
/// `vmmcall.report-noplugin` shows `reason KVM_EXIT_INTR (10)` for the same record. Records
/// with `errno ≥ 0` print correctly through libtraceevent, so only the others are worded here.
struct KVMUserspaceExitWording {
    /// The tracepoint's name.
    static let eventName = "kvm_userspace_exit"

    /// The print format string this wording was written for.
    static let expectedFormat = "reason %s (%d)"

    /// `EINTR` (`include/uapi/asm-generic/errno-base.h`): the run was interrupted and will
    /// be restarted.
    static let eintr: Int64 = 4

    private let errno: UnsafeMutablePointer<tep_format_field>

    /// Prepares the wording for `event`, or returns `nil` if its format string or fields
    /// differ from the kernels this wording was written for.
    init?(event: UnsafeMutablePointer<tep_event>) {
        guard let format = event.pointee.print_fmt.format,
              String(cString: format) == Self.expectedFormat,
              tep_find_field(event, "reason") != nil,
              let errno = tep_find_field(event, "errno"),
              errno.pointee.size > 0, errno.pointee.size <= 8
        else { return nil }
        self.errno = errno
    }

    /// Appends the payload of `record` if its `errno` is negative.
    func append(_ record: UnsafeMutablePointer<tep_record>, to writer: inout TraceTextWriter) -> RawFieldWordingResult {
        var raw: UInt64 = 0
        guard tep_read_number_field(errno, record.pointee.data, &raw) == 0 else { return .unreadableFields }
        let value = RawFields.signExtend(raw, size: Int(errno.pointee.size))
        guard value < 0 else { return .usePrintFormat }
        writer.append(value == -Self.eintr ? "reason restart (" : "reason error (")
        writer.appendDecimal(value.magnitude)
        writer.append(")")
        return .written
    }
}

/// What a raw-field wording did with a record.
enum RawFieldWordingResult {
    /// It appended the payload.
    case written
    /// It appended nothing: libtraceevent's rendering of the print format is right for it.
    case usePrintFormat
    /// It appended nothing: a field could not be read from the record.
    case unreadableFields
}

/// Helpers for reading raw field values.
enum RawFields {
    /// Sign-extends the low `size` bytes of `raw`.
    static func signExtend(_ raw: UInt64, size: Int) -> Int64 {
        guard size > 0, size < 8 else { return Int64(bitPattern: raw) }
        let shift = UInt64(64 - size * 8)
        return Int64(bitPattern: raw << shift) >> Int64(shift)
    }
}
