#if canImport(Glibc)
import Glibc
#endif
import Foundation
import TraceKit

/// Builds large, realistic traces for `svmdbg bench` from the repository's real captures.
///
/// Each scenario's event lines (as the real tool wrote them) are replayed on several vCPU
/// threads: every thread gets its own pid and vCPU id, walks the scenarios in its own order,
/// and the threads interleave in short blocks, as events of several vCPUs do on a real host.
/// Timestamps advance monotonically across the whole file. Only the task-pid column, the
/// CPU, the timestamp and the `vcpu N` of the payload are rewritten; the rest of each line
/// is byte-for-byte the real tool's output (name padding, payload wording, flags column).
struct BenchTraceBuilder {
    /// The text layouts the builder writes.
    enum Layout: String, CaseIterable, Sendable {
        case tracefs, report, perf

        /// Extension of the real captures this layout is built from.
        var sourceExtension: String {
            switch self {
            case .tracefs: "trace"
            case .report: "report"
            case .perf: "perf"
            }
        }
    }

    /// One real event line, cut into the parts that stay and the parts that change.
    struct Template {
        /// The comm as printed.
        var comm: [UInt8]
        /// Which of the source's threads wrote it (position in the scenario's pid list).
        var threadSlot: Int
        /// Between `]` and the timestamp (the irq-flags column in tracefs), trailing spaces cut.
        var flags: [UInt8]
        /// From the timestamp's colon up to the vCPU id of the payload (or to the end).
        var tailBeforeVCPU: [UInt8]
        /// After the vCPU id (empty when the payload states none).
        var tailAfterVCPU: [UInt8]
        /// Whether the payload states a vCPU id (`vcpu N`).
        var hasVCPU: Bool
    }

    /// Nanoseconds between two generated events (a busy nested guest exits every few µs
    /// per vCPU; with several vCPUs the host sees an event about every 0.75 µs).
    static let eventSpacingNanoseconds: Int64 = 750
    /// First generated timestamp, in nanoseconds.
    static let firstTimestampNanoseconds: Int64 = 1_000_000_000
    /// Events one vCPU thread writes before the next thread's turn.
    static let blockLength = 16
    /// First pid of the generated vCPU threads.
    static let firstPID = 20_000

    let layout: Layout
    /// Per scenario, its event lines.
    let scenarios: [[Template]]
    /// Header lines written once at the top.
    let header: [UInt8]

    /// Reads every capture of `layout` under `traces` (the repo's `traces/6.12`).
    init(layout: Layout, tracesFolder: String, vcpus: Int) throws {
        self.layout = layout
        let folder = tracesFolder + "/6.12"
        let names = try FileManager.default.contentsOfDirectory(atPath: folder)
            .filter { $0.hasSuffix("." + layout.sourceExtension) }
            .sorted()
        guard !names.isEmpty else {
            throw BenchError("no *.\(layout.sourceExtension) captures in \(folder) (run from the repository root or pass --traces)")
        }
        var scenarios: [[Template]] = []
        for name in names {
            let trace = try TraceLoader.load(path: folder + "/" + name)
            var pids: [Int32] = []
            var templates: [Template] = []
            for event in trace.events {
                guard let template = Self.template(event, layout: layout, pids: &pids) else { continue }
                templates.append(template)
            }
            if !templates.isEmpty { scenarios.append(templates) }
        }
        self.scenarios = scenarios
        switch layout {
        case .tracefs:
            let text = (try? String(contentsOfFile: folder + "/" + names[0], encoding: .utf8)) ?? ""
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).prefix { $0.hasPrefix("#") }
            header = Array(lines.map { $0 + "\n" }.joined().utf8)
        case .report:
            header = Array("cpus=\(vcpus)\n".utf8)
        case .perf:
            header = []
        }
    }

    /// Cuts one event's printed line into a template; nil for lines of an unexpected shape.
    static func template(_ event: TraceEvent, layout: Layout, pids: inout [Int32]) -> Template? {
        let line = Array(event.rawText.utf8)
        let comm = Array(event.comm.utf8)
        guard !comm.isEmpty, let commStart = find(comm, in: line, from: 0),
              let open = line[(commStart + comm.count)...].firstIndex(of: UInt8(ascii: "[")),
              let close = line[open...].firstIndex(of: UInt8(ascii: "]")),
              let colon = line[close...].firstIndex(of: UInt8(ascii: ":")) else { return nil }
        var timestampStart = colon
        while timestampStart > close + 1, line[timestampStart - 1] != UInt8(ascii: " ") { timestampStart -= 1 }
        var flagsEnd = timestampStart
        while flagsEnd > close + 1, line[flagsEnd - 1] == UInt8(ascii: " ") { flagsEnd -= 1 }
        let slot: Int
        if let known = pids.firstIndex(of: event.pid) { slot = known } else { pids.append(event.pid); slot = pids.count - 1 }
        let tail = Array(line[colon...])
        // `vcpu N` at the start of kvm_exit / kvm_entry payloads (and the plugin's kvm_entry).
        if let at = find(Array(": vcpu ".utf8), in: tail, from: 1) ?? find(Array("  vcpu ".utf8), in: tail, from: 1) {
            let digitsStart = at + 7
            var digitsEnd = digitsStart
            while digitsEnd < tail.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(tail[digitsEnd]) { digitsEnd += 1 }
            if digitsEnd > digitsStart {
                return Template(comm: comm, threadSlot: slot, flags: Array(line[(close + 1)..<flagsEnd]),
                                tailBeforeVCPU: Array(tail[..<digitsStart]), tailAfterVCPU: Array(tail[digitsEnd...]),
                                hasVCPU: true)
            }
        }
        return Template(comm: comm, threadSlot: slot, flags: Array(line[(close + 1)..<flagsEnd]),
                        tailBeforeVCPU: tail, tailAfterVCPU: [], hasVCPU: false)
    }

    /// Position of `needle` in `haystack` at or after `from`.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        var index = from
        while index + needle.count <= haystack.count {
            if haystack[index] == needle[0], haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    /// What one build wrote.
    struct Written: Sendable {
        /// Events written.
        var events: Int
        /// Bytes written.
        var bytes: Int
    }

    /// Writes a trace of `events` events (or until `bytes` bytes, whichever comes first)
    /// with `vcpus` vCPU threads to `path`.
    func write(to path: String, events: Int, bytes byteLimit: Int, vcpus: Int) throws -> Written {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw BenchError("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 23)
        buffer.append(contentsOf: header)
        var written = 0
        func flush() throws {
            try buffer.withUnsafeBufferPointer { chunk in
                var offset = 0
                while offset < chunk.count, let base = chunk.baseAddress {
                    let count = Glibc.write(descriptor, base + offset, chunk.count - offset)
                    guard count > 0 else { throw BenchError("cannot write \(path): \(String(cString: strerror(errno)))") }
                    offset += count
                }
            }
            written += buffer.count
            buffer.removeAll(keepingCapacity: true)
        }
        // Each vCPU walks the scenarios starting at its own one.
        var scenario = (0..<vcpus).map { $0 % scenarios.count }
        var position = [Int](repeating: 0, count: vcpus)
        var count = 0
        var vcpu = 0
        while count < events, written + buffer.count < byteLimit {
            for _ in 0..<Self.blockLength where count < events {
                let templates = scenarios[scenario[vcpu]]
                append(templates[position[vcpu]], vcpu: vcpu, vcpus: vcpus, number: count, to: &buffer)
                count += 1
                position[vcpu] += 1
                if position[vcpu] == templates.count {
                    position[vcpu] = 0
                    scenario[vcpu] = (scenario[vcpu] + 1) % scenarios.count
                }
            }
            vcpu = (vcpu + 1) % vcpus
            if buffer.count >= 1 << 23 { try flush() }
        }
        try flush()
        return Written(events: count, bytes: written)
    }

    /// Appends one line of vCPU `vcpu` as event `number`.
    private func append(_ template: Template, vcpu: Int, vcpus: Int, number: Int, to buffer: inout [UInt8]) {
        let pid = Self.firstPID + vcpu * 16 + template.threadSlot
        let space = UInt8(ascii: " ")
        let commWidth = 16
        for _ in 0..<max(0, commWidth - template.comm.count) { buffer.append(space) }
        buffer.append(contentsOf: template.comm)
        switch layout {
        case .tracefs, .report:
            buffer.append(UInt8(ascii: "-"))
            let digits = Self.decimalWidth(pid)
            Self.appendDecimal(pid, to: &buffer)
            for _ in 0..<max(0, (layout == .tracefs ? 7 : 5) - digits) { buffer.append(space) }
        case .perf:
            buffer.append(space)
            for _ in 0..<max(0, 6 - Self.decimalWidth(pid)) { buffer.append(space) }
            Self.appendDecimal(pid, to: &buffer)
        }
        buffer.append(space)
        buffer.append(UInt8(ascii: "["))
        let cpu = vcpu % max(1, min(vcpus, 64))
        if cpu < 100 { buffer.append(UInt8(ascii: "0")) }
        if cpu < 10 { buffer.append(UInt8(ascii: "0")) }
        Self.appendDecimal(cpu, to: &buffer)
        buffer.append(UInt8(ascii: "]"))
        buffer.append(contentsOf: template.flags)
        // Timestamp as sec.usec, right-aligned in 12 columns after one space.
        let nanoseconds = Self.firstTimestampNanoseconds + Int64(number) * Self.eventSpacingNanoseconds
        let seconds = Int(nanoseconds / 1_000_000_000)
        let microseconds = Int((nanoseconds % 1_000_000_000) / 1000)
        buffer.append(space)
        for _ in 0..<max(0, 12 - Self.decimalWidth(seconds) - 7) { buffer.append(space) }
        Self.appendDecimal(seconds, to: &buffer)
        buffer.append(UInt8(ascii: "."))
        var scale = 100_000
        while scale > 0 {
            buffer.append(UInt8(ascii: "0") + UInt8(microseconds / scale % 10))
            scale /= 10
        }
        buffer.append(contentsOf: template.tailBeforeVCPU)
        if template.hasVCPU {
            Self.appendDecimal(vcpu, to: &buffer)
            buffer.append(contentsOf: template.tailAfterVCPU)
        }
        buffer.append(UInt8(ascii: "\n"))
    }

    static func decimalWidth(_ value: Int) -> Int {
        var width = 1
        var rest = value / 10
        while rest > 0 { width += 1; rest /= 10 }
        return width
    }

    static func appendDecimal(_ value: Int, to buffer: inout [UInt8]) {
        if value >= 10 { appendDecimal(value / 10, to: &buffer) }
        buffer.append(UInt8(ascii: "0") + UInt8(value % 10))
    }
}

/// A bench failure with a message for the user.
struct BenchError: Error, CustomStringConvertible {
    /// What went wrong.
    var description: String
    init(_ description: String) { self.description = description }
}
