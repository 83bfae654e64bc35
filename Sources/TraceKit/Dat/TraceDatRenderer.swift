import CTraceCmd

/// Turns the records of an open trace.dat file into tracefs `trace` lines.
///
/// One line per record, laid out as the kernel's `kernel/trace/trace_output.c`
/// (`trace_print_context`, `trace_print_lat_fmt`, `lat_print_timestamp`) writes it with
/// default options: `%16s-%-7d [%03d] <5 flags> %5lu.%06lu: name: payload`. Layout checked
/// against every line of the shipped 6.1 / 6.12 tracefs captures
/// (`../shared/reference/trace-events.md` §1.1).
struct TraceDatRenderer {
    /// The event parser of the open file (`struct tep_handle *`).
    let tep: OpaquePointer
    /// The text rendered so far.
    var writer = TraceTextWriter()
    /// Records rendered as event lines.
    private(set) var recordCount = 0
    /// Records read, rendered or not: the position of the next record.
    private var recordIndex = 0
    /// How each event type's payload is worded, by event type id.
    private var wordings: [Int32: EventWording] = [:]
    /// `comm-pid` column (with its trailing space) per pid.
    private var taskColumns: [Int32: [UInt8]] = [:]
    /// Problems met, by kind, in the order first met.
    private var problems: [String: Problem] = [:]

    /// Whether events libtraceevent cannot word like the kernel are worded from raw fields.
    let wordsFromRawFields: Bool

    /// Creates a renderer for the file whose event parser is `tep`.
    init(tep: OpaquePointer, wordsFromRawFields: Bool = true) {
        self.tep = tep
        self.wordsFromRawFields = wordsFromRawFields
        writer.bytes.reserveCapacity(1 << 16)
    }

    /// The signal libtraceevent crashed with while printing a record (0: it did not).
    private(set) var crashSignal: Int32 = 0

    /// Renders every record of `handle` in time order across CPUs.
    ///
    /// If libtraceevent crashes printing a record (a corrupt record, caught by the shim's
    /// guard), that record's line keeps what was printed, rendering stops there, and a
    /// diagnostic says which records were not read. The record and the print buffer are
    /// then leaked rather than freed: the library's state is not trusted any more.
    mutating func renderAll(from handle: OpaquePointer) {
        var seq = trace_seq()
        trace_seq_init(&seq)
        defer { if crashSignal == 0 { trace_seq_destroy(&seq) } }
        var cpu: Int32 = 0
        while let record = tracecmd_read_next_data(handle, &cpu) {
            render(record, seq: &seq)
            if crashSignal != 0 {
                problems["crash"] = Problem(
                    firstRecord: recordIndex - 1, count: 1, countsRecords: false,
                    message: "libtraceevent crashed (signal \(crashSignal)) printing this record; it and every later record are not read")
                return
            }
            // Records from tracecmd_read_* belong to the caller (unlike iterate callbacks).
            tracecmd_free_record(record)
        }
    }

    /// Prints the record's payload (`raw`: as `name=value` fields) into `seq`, guarded.
    private mutating func printEvent(_ record: UnsafeMutablePointer<tep_record>, raw: Bool, seq: inout trace_seq) {
        guard crashSignal == 0 else { return }
        crashSignal = LibraryGuard.printEvent(tep, &seq, record, raw: raw)
    }

    /// Reports that the file holds `count` buffer instances besides the top-level buffer,
    /// which are not rendered (`trace-cmd record -B`).
    mutating func noteExtraBuffers(count: Int) {
        guard count > 0 else { return }
        problems["instances"] = Problem(
            firstRecord: 0, count: 1, countsRecords: false,
            message: "the file holds \(count) more ftrace buffer instance(s); only the top-level buffer was rendered")
    }

    /// Reports that the records come from the buffer instance `name` (the top-level buffer
    /// is empty), and how many other instances were not rendered.
    mutating func noteRenderedInstance(name: String, others: Int) {
        let rest = others == 0 ? "" : "; \(others) other instance(s) not rendered"
        problems["instances"] = Problem(
            firstRecord: 0, count: 1, countsRecords: false,
            message: "the top-level buffer is empty: rendered buffer instance '\(name)'\(rest)")
    }

    /// The problems met, one diagnostic per kind, ordered by the first record affected.
    func diagnostics() -> [TraceDatDiagnostic] {
        problems.values
            .sorted { $0.firstRecord < $1.firstRecord }
            .map { problem in
                guard problem.countsRecords else {
                    return TraceDatDiagnostic(record: problem.firstRecord, message: problem.message)
                }
                let times = problem.count == 1 ? "1 record" : "\(problem.count) records"
                return TraceDatDiagnostic(record: problem.firstRecord, message: "\(problem.message) (\(times))")
            }
    }

    // MARK: - One record

    private mutating func render(_ record: UnsafeMutablePointer<tep_record>, seq: inout trace_seq) {
        defer { recordIndex += 1 }
        let cpu = record.pointee.cpu
        appendLostEvents(record.pointee.missed_events, cpu: cpu)

        let type = tep_data_type(tep, record)
        guard let wording = wording(forType: type, record: record) else {
            note("event type \(type) has no format in the file; record skipped", key: "unknown-\(type)")
            return
        }

        appendTaskColumn(pid: tep_data_pid(tep, record))
        writer.append(byte: UInt8(ascii: "["))
        writer.appendDecimal(UInt64(max(cpu, 0)), width: 3, pad: UInt8(ascii: "0"))
        writer.append(byte: UInt8(ascii: "]"))
        writer.append(byte: UInt8(ascii: " "))
        let flags = TraceLatencyFlags(
            flags: UInt32(truncatingIfNeeded: tep_data_flags(tep, record)),
            preemptCount: UInt32(truncatingIfNeeded: tep_data_preempt_count(tep, record)))
        let (irqs, resched, context, preempt, migrate) = flags.bytes
        writer.append(byte: irqs)
        writer.append(byte: resched)
        writer.append(byte: context)
        writer.append(byte: preempt)
        writer.append(byte: migrate)
        writer.append(byte: UInt8(ascii: " "))
        writer.appendTimestamp(nanoseconds: record.pointee.ts)
        writer.append(byte: UInt8(ascii: ":"))
        writer.append(byte: UInt8(ascii: " "))
        writer.append(wording.nameColumn)
        appendPayload(record, wording: wording, seq: &seq)
        writer.append(byte: UInt8(ascii: "\n"))
        recordCount += 1
    }

    /// `CPU:n [LOST k EVENTS]` before a record the ring buffer dropped events in front of,
    /// as `kernel/trace/trace.c:print_trace_line` words it (`[LOST EVENTS]` when the count
    /// is unknown, which libtracecmd reports as a negative count).
    private mutating func appendLostEvents(_ missed: Int64, cpu: Int32) {
        guard missed != 0 else { return }
        writer.append("CPU:")
        writer.appendDecimal(UInt64(max(cpu, 0)))
        if missed > 0 {
            writer.append(" [LOST ")
            writer.appendDecimal(UInt64(missed))
            writer.append(" EVENTS]\n")
        } else {
            writer.append(" [LOST EVENTS]\n")
        }
    }

    private mutating func appendTaskColumn(pid: Int32) {
        if let column = taskColumns[pid] {
            writer.append(column)
            return
        }
        let comm = tep_data_comm_from_pid(tep, pid).map { Array(String(cString: $0).utf8) } ?? Array("<...>".utf8)
        var column = TraceTextWriter()
        column.append(repeatElement(UInt8(ascii: " "), count: max(0, Self.commWidth - comm.count)))
        column.append(comm)
        column.append(byte: UInt8(ascii: "-"))
        if pid < 0 { column.append(byte: UInt8(ascii: "-")) }
        column.appendDecimal(UInt64(pid.magnitude))
        let pidDigits = column.bytes.count - max(Self.commWidth, comm.count) - 1
        column.append(repeatElement(UInt8(ascii: " "), count: max(0, Self.pidWidth - pidDigits) + 1))
        taskColumns[pid] = column.bytes
        writer.append(column.bytes)
    }

    private mutating func appendPayload(_ record: UnsafeMutablePointer<tep_record>, wording: EventWording,
                                        seq: inout trace_seq) {
        let result: RawFieldWordingResult
        switch wording.kind {
        case .printFormat:
            result = .usePrintFormat
        case .injException(let injException):
            result = injException.append(record, to: &writer)
        case .nestedVMEnter(let nestedVMEnter):
            result = nestedVMEnter.append(record, to: &writer)
        case .userspaceExit(let userspaceExit):
            result = userspaceExit.append(record, to: &writer)
        case .rawFields:
            note("\(wording.name): libtraceevent could not parse the print format; fields shown as name=value",
                 key: "failed-\(wording.name)")
            appendRawFields(record, seq: &seq)
            return
        }
        switch result {
        case .written:
            return
        case .unreadableFields:
            note("\(wording.name): fields could not be read from the record; fields shown as name=value",
                 key: "unreadable-\(wording.name)")
            appendRawFields(record, seq: &seq)
        case .usePrintFormat:
            trace_seq_reset(&seq)
            printEvent(record, raw: false, seq: &seq)
            if crashSignal != 0 { return }
            if Self.startsWithFailedToParse(seq) {
                note("\(wording.name): libtraceevent could not evaluate the print format; fields shown as name=value",
                     key: "failed-\(wording.name)")
                appendRawFields(record, seq: &seq)
            } else {
                appendSequence(seq)
            }
        }
    }

    private mutating func appendRawFields(_ record: UnsafeMutablePointer<tep_record>, seq: inout trace_seq) {
        trace_seq_reset(&seq)
        printEvent(record, raw: true, seq: &seq)
        if crashSignal != 0 { return }
        appendSequence(seq, droppingLeadingSpaces: true)  // libtraceevent starts each field with a space
    }

    /// Appends the text in `seq`, keeping it on one line: a trailing newline is dropped and
    /// any other newline becomes a space.
    private mutating func appendSequence(_ seq: trace_seq, droppingLeadingSpaces: Bool = false) {
        guard let buffer = seq.buffer, seq.len > 0 else { return }
        let text = UnsafeRawBufferPointer(start: buffer, count: Int(seq.len))
        var end = text.count
        while end > 0, text[end - 1] == UInt8(ascii: "\n") || text[end - 1] == 0 { end -= 1 }
        var start = 0
        while droppingLeadingSpaces, start < end, text[start] == UInt8(ascii: " ") { start += 1 }
        let line = text[start..<end]
        if line.contains(UInt8(ascii: "\n")) {
            writer.append(line.map { $0 == UInt8(ascii: "\n") ? UInt8(ascii: " ") : $0 })
        } else {
            writer.append(line)
        }
    }

    private static func startsWithFailedToParse(_ seq: trace_seq) -> Bool {
        guard let buffer = seq.buffer, seq.len >= failedToParse.count else { return false }
        let text = UnsafeRawBufferPointer(start: buffer, count: failedToParse.count)
        return text.elementsEqual(failedToParse)
    }

    // MARK: - Event types

    private mutating func wording(forType type: Int32, record: UnsafeMutablePointer<tep_record>) -> EventWording? {
        if let known = wordings[type] { return known }
        guard let event = tep_find_event_by_record(tep, record) else { return nil }
        KernelEnumSymbols.resolve(in: event)
        let wording = EventWording(event: event, wordsFromRawFields: wordsFromRawFields)
        if case .injException(let injException) = wording.kind, !injException.namesFromFile {
            note("\(wording.name): vector names taken from the 6.1/6.12 kernel table, not from the file's format",
                 key: "inj-names")
        }
        wordings[type] = wording
        return wording
    }

    private mutating func note(_ message: @autoclosure () -> String, key: String) {
        if problems[key] != nil {
            problems[key]?.count += 1
        } else {
            problems[key] = Problem(firstRecord: recordIndex, count: 1, message: message())
        }
    }

    /// Width of the right-aligned comm column (`%16s`).
    private static let commWidth = 16
    /// Width of the left-aligned pid column (`%-7d`).
    private static let pidWidth = 7
    /// What libtraceevent prints in front of the raw fields of an event it cannot format.
    private static let failedToParse = Array("[FAILED TO PARSE]".utf8)
}

/// How one event type's payload is produced.
struct EventWording {
    /// The event's name (`kvm_exit`).
    var name: String
    /// `name: `, ready to append.
    var nameColumn: [UInt8]
    /// Where the payload comes from.
    var kind: Kind

    /// Where a payload comes from.
    enum Kind {
        /// libtraceevent evaluates the kernel's print format.
        case printFormat
        /// The format failed to parse; `kvm_inj_exception` is worded from raw fields.
        case injException(KVMInjExceptionWording)
        /// libtraceevent gets the format wrong; `kvm_nested_vmenter` is worded from raw fields.
        case nestedVMEnter(KVMNestedVMEnterWording)
        /// libtraceevent gets negative `errno`s wrong; those `kvm_userspace_exit`s are worded
        /// from raw fields.
        case userspaceExit(KVMUserspaceExitWording)
        /// The format failed to parse; the fields are listed as `name=value`.
        case rawFields
    }

    /// Chooses the wording for `event`.
    ///
    /// With `wordsFromRawFields` false, no event is worded from raw fields: libtraceevent's
    /// rendering is used as is, and formats that failed to parse fall back to `name=value`
    /// (tests use this to exercise the fallback).
    init(event: UnsafeMutablePointer<tep_event>, wordsFromRawFields: Bool = true) {
        name = event.pointee.name.map { String(cString: $0) } ?? "event\(event.pointee.id)"
        nameColumn = Array(name.utf8) + Array(": ".utf8)
        let failed = UInt32(bitPattern: event.pointee.flags) & Self.parseFailedFlag != 0
        if !wordsFromRawFields {
            kind = failed ? .rawFields : .printFormat
        } else if name == KVMNestedVMEnterWording.eventName, let nestedVMEnter = KVMNestedVMEnterWording(event: event) {
            kind = .nestedVMEnter(nestedVMEnter)
        } else if name == KVMUserspaceExitWording.eventName, let userspaceExit = KVMUserspaceExitWording(event: event) {
            kind = .userspaceExit(userspaceExit)
        } else if !failed {
            kind = .printFormat
        } else if name == KVMInjExceptionWording.eventName, let injException = KVMInjExceptionWording(event: event) {
            kind = .injException(injException)
        } else {
            kind = .rawFields
        }
    }

    /// `TEP_EVENT_FL_FAILED` in `traceevent/event-parse.h`: the print format did not parse.
    static let parseFailedFlag: UInt32 = 0x8000_0000
}

/// One kind of problem, counted.
private struct Problem {
    var firstRecord: Int
    var count: Int
    /// Whether the diagnostic reports how many records were affected.
    var countsRecords = true
    var message: String
}
