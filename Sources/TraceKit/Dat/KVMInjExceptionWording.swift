import CTraceCmd
import Foundation

/// Renders `kvm_inj_exception` payloads in the kernel's wording from the record's raw
/// fields, for when libtraceevent cannot parse the event's print format.
///
/// libtraceevent 1.7.1 rejects this event's format on 6.1, 6.12 and 6.18 kernels because of
/// the empty symbol table in `__print_symbolic(REC->error_code, { })`
/// (`../shared/reference/trace-events.md` §1.4). The kernel prints, from
/// `arch/x86/kvm/trace.h` (`TRACE_EVENT(kvm_inj_exception)`):
/// - 6.1+: the vector's name, then ` (0x<error_code>)` only if `has_error`, then
///   ` [reinjected]` if `reinjected` — `#GP (0x0)`, `#UD [reinjected]`;
/// - ≤6.0 (no `reinjected` field): the name and ` (0x<error_code>)` always.
///
/// A vector missing from the name table prints as `0x<vector>`, as `__print_symbolic` does.
struct KVMInjExceptionWording {
    /// The tracepoint's name.
    static let eventName = "kvm_inj_exception"

    private let exception: UnsafeMutablePointer<tep_format_field>
    private let hasError: UnsafeMutablePointer<tep_format_field>
    private let errorCode: UnsafeMutablePointer<tep_format_field>
    private let reinjected: UnsafeMutablePointer<tep_format_field>?
    /// Name bytes per vector (`#GP`), indexed by vector.
    private let vectorNames: [[UInt8]?]
    /// Whether `vectorNames` came from the file's own print format rather than the built-in table.
    let namesFromFile: Bool

    /// Exception names of `kvm_trace_sym_exc` in `arch/x86/kvm/trace.h` of 6.1 and 6.12
    /// (`../shared/reference/trace-events.md` §2.2). Used only when the file's own format
    /// does not yield the table.
    static let kernelVectorNames: [UInt8: String] = ExceptionVector.traceSymbols6x

    /// Prepares the wording for `event`, or returns `nil` if the event lacks the fields
    /// the kernel prints (`exception`, `has_error`, `error_code`).
    init?(event: UnsafeMutablePointer<tep_event>) {
        guard let exception = tep_find_field(event, "exception"),
              let hasError = tep_find_field(event, "has_error"),
              let errorCode = tep_find_field(event, "error_code")
        else { return nil }
        self.exception = exception
        self.hasError = hasError
        self.errorCode = errorCode
        self.reinjected = tep_find_field(event, "reinjected")

        var names = [[UInt8]?](repeating: nil, count: 256)
        let fromFile = Self.symbolTable(of: event, field: "exception")
        if let fromFile, !fromFile.isEmpty {
            for (vector, name) in fromFile where vector < 256 { names[Int(vector)] = Array(name.utf8) }
            namesFromFile = true
        } else {
            for (vector, name) in Self.kernelVectorNames { names[Int(vector)] = Array(name.utf8) }
            namesFromFile = false
        }
        vectorNames = names
    }

    /// Appends the payload of `record` to `writer`.
    func append(_ record: UnsafeMutablePointer<tep_record>, to writer: inout TraceTextWriter) -> RawFieldWordingResult {
        let data = record.pointee.data
        var vector: UInt64 = 0, hasErrorValue: UInt64 = 0, errorCodeValue: UInt64 = 0, reinjectedValue: UInt64 = 0
        guard tep_read_number_field(exception, data, &vector) == 0,
              tep_read_number_field(hasError, data, &hasErrorValue) == 0,
              tep_read_number_field(errorCode, data, &errorCodeValue) == 0
        else { return .unreadableFields }
        if let reinjected, tep_read_number_field(reinjected, data, &reinjectedValue) != 0 { return .unreadableFields }

        if vector < 256, let name = vectorNames[Int(vector)] {
            writer.append(name)
        } else {
            writer.appendHex(vector)
        }
        let printsErrorCode = reinjected == nil || hasErrorValue != 0
        if printsErrorCode {
            writer.append(" (")
            writer.appendHex(errorCodeValue)
            writer.append(")")
        }
        if reinjectedValue != 0 { writer.append(" [reinjected]") }
        return .written
    }

    /// The value → name table of the first `__print_symbolic` over `field` in the event's
    /// print format as libtraceevent parsed it, or `nil` if there is none.
    ///
    /// libtraceevent keeps the arguments it parsed before it gave up, and the vector table
    /// comes before the empty error-code table that makes it fail.
    static func symbolTable(of event: UnsafeMutablePointer<tep_event>, field: String) -> [(UInt64, String)]? {
        var argument = event.pointee.print_fmt.args
        while let current = argument {
            defer { argument = current.pointee.next }
            guard current.pointee.type == TEP_PRINT_SYMBOL,
                  let fieldArgument = current.pointee.symbol.field,
                  fieldArgument.pointee.type == TEP_PRINT_FIELD,
                  let name = fieldArgument.pointee.field.name,
                  String(cString: name) == field
            else { continue }
            var table: [(UInt64, String)] = []
            var symbol = current.pointee.symbol.symbols
            while let entry = symbol {
                defer { symbol = entry.pointee.next }
                guard let valueText = entry.pointee.value, let text = entry.pointee.str,
                      let value = parseInteger(String(cString: valueText))
                else { continue }
                table.append((value, String(cString: text)))
            }
            return table
        }
        return nil
    }

    /// Parses a C integer literal as it appears in a format file (`13`, `0xd`).
    private static func parseInteger(_ text: String) -> UInt64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("0x") || trimmed.hasPrefix("0X") { return UInt64(trimmed.dropFirst(2), radix: 16) }
        return UInt64(trimmed)
    }
}
