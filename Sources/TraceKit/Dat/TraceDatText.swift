/// The records of one trace.dat file rendered as tracefs `trace` text.
///
/// Each record becomes one line in the layout the kernel's own formatter writes to
/// `/sys/kernel/tracing/trace` (comm right-aligned in 16 columns, `-`, pid left-aligned
/// in 7, `[cpu]`, the latency flags, `sec.usec`, `: name: payload`), with the payload in
/// the kernel's wording. A text parser for tracefs files therefore reads it unchanged.
public struct TraceDatText: Sendable {
    /// The rendered text: one `\n`-terminated line per rendered record, in time order
    /// across CPUs, plus a `CPU:n [LOST k EVENTS]` line where the ring buffer dropped events.
    public var bytes: [UInt8]
    /// How many records were rendered as event lines.
    public var recordCount: Int
    /// How many CPUs the file holds data for.
    public var cpus: Int
    /// The trace.dat format version from the file header (6 or 7 for trace-cmd 3.x), or
    /// `nil` if the header's version field is not a decimal number.
    public var fileVersion: Int?
    /// What could not be rendered in the kernel's wording, one entry per kind of problem.
    public var diagnostics: [TraceDatDiagnostic]

    /// Creates rendered text from its parts.
    public init(bytes: [UInt8], recordCount: Int, cpus: Int, fileVersion: Int?, diagnostics: [TraceDatDiagnostic]) {
        self.bytes = bytes
        self.recordCount = recordCount
        self.cpus = cpus
        self.fileVersion = fileVersion
        self.diagnostics = diagnostics
    }
}

/// A problem met while rendering a trace.dat file, anchored at the first record it affected.
public struct TraceDatDiagnostic: Sendable, Hashable, CustomStringConvertible {
    /// The 0-based position, in time order, of the first record the problem affected.
    public var record: Int
    /// What happened and how the affected records were rendered instead.
    public var message: String

    /// Creates a diagnostic for the record at `record`.
    public init(record: Int, message: String) {
        self.record = record
        self.message = message
    }

    /// `record #N: message`.
    public var description: String { "record #\(record): \(message)" }
}
