@testable import TraceKit

/// The tracefs prefix of the shipped 6.12 captures, for building single-event test lines.
let tracefsPrefix = "          svmlab-384     [000] d..1.     4.501767: "

/// Loads `text` as a trace held in memory.
func loadText(_ text: String, format: TraceFormat? = nil) throws -> LoadedTrace {
    try TraceLoader.load(bytes: Array(text.utf8), source: "test.trace", format: format)
}

/// Decodes one `name: payload` in a tracefs line and returns its payload.
func decode(_ name: String, _ payload: String) throws -> EventPayload {
    let trace = try loadText(tracefsPrefix + name + ": " + payload + "\n")
    precondition(trace.count == 1, "line did not index: \(payload)")
    return trace.event(at: EventNumber(0)).payload
}
