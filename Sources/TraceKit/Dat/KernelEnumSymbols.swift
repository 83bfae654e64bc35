import CTraceCmd
import Foundation

/// Gives libtraceevent the values of kernel enum names that print formats use as
/// `__print_symbolic` keys but that the trace.dat file does not define.
///
/// `kvm_update_master_clock` and `kvm_track_tsc` print the host clock with
/// `__print_symbolic(REC->host_clock, {VDSO_CLOCKMODE_NONE, "none"}, {VDSO_CLOCKMODE_TSC, "tsc"})`
/// (6.1, 6.12, 6.18 `kvm-event-formats.txt`). The kernel never exports these enum values to
/// tracefs, so libtraceevent reads the unknown names as 0 and prints `hostclock 0x1` where
/// tracefs prints `hostclock tsc` (shipped 6.12 `minimal.trace` line 13). The parsed tables
/// are libtraceevent's public structures (`struct tep_print_flag_sym` in
/// `traceevent/event-parse.h`), whose `value` strings it allocates with `strdup` and
/// releases with `free`; a known name is replaced by its decimal value the same way, before
/// the event is first printed.
enum KernelEnumSymbols {
    /// Values of the enum names seen in KVM print formats: `enum vdso_clock_mode`
    /// (`include/vdso/clocksource.h`: `VDSO_CLOCKMODE_NONE` first, then the x86 modes of
    /// `arch/x86/include/asm/vdso/clocksource.h` in order), unchanged from 5.7 to 6.18.
    static let values: [String: UInt64] = [
        "VDSO_CLOCKMODE_NONE": 0,
        "VDSO_CLOCKMODE_TSC": 1,
        "VDSO_CLOCKMODE_PVCLOCK": 2,
        "VDSO_CLOCKMODE_HVCLOCK": 3,
    ]

    /// Replaces known enum names among the symbol and flag keys of `event`'s print format
    /// by their values; returns how many were replaced.
    @discardableResult
    static func resolve(in event: UnsafeMutablePointer<tep_event>) -> Int {
        var replaced = 0
        visit(event.pointee.print_fmt.args, replaced: &replaced, depth: 0)
        return replaced
    }

    /// Print-format arguments nest (a symbol table inside a `?:` inside a cast); formats are
    /// short, so this bound only guards against a corrupt file's parse.
    private static let maximumDepth = 64

    private static func visit(_ first: UnsafeMutablePointer<tep_print_arg>?, replaced: inout Int, depth: Int) {
        guard depth < maximumDepth else { return }
        var argument = first
        while let current = argument {
            defer { argument = current.pointee.next }
            switch current.pointee.type {
            case TEP_PRINT_SYMBOL:
                visit(current.pointee.symbol.field, replaced: &replaced, depth: depth + 1)
                rewrite(current.pointee.symbol.symbols, replaced: &replaced)
            case TEP_PRINT_FLAGS:
                visit(current.pointee.flags.field, replaced: &replaced, depth: depth + 1)
                rewrite(current.pointee.flags.flags, replaced: &replaced)
            case TEP_PRINT_OP:
                visit(current.pointee.op.left, replaced: &replaced, depth: depth + 1)
                visit(current.pointee.op.right, replaced: &replaced, depth: depth + 1)
            case TEP_PRINT_TYPE:
                visit(current.pointee.typecast.item, replaced: &replaced, depth: depth + 1)
            case TEP_PRINT_FUNC:
                visit(current.pointee.func.args, replaced: &replaced, depth: depth + 1)
            default:
                continue
            }
        }
    }

    private static func rewrite(_ first: UnsafeMutablePointer<tep_print_flag_sym>?, replaced: inout Int) {
        var entry = first
        while let current = entry {
            defer { entry = current.pointee.next }
            guard let name = current.pointee.value, let value = values[String(cString: name)],
                  let decimal = strdup(String(value))
            else { continue }
            free(name)
            current.pointee.value = decimal
            replaced += 1
        }
    }
}
