extension LoadedTrace {
    /// Why this input is not a trace at all, or nil when it is one (even one with bad lines).
    ///
    /// A trace with no events is still a trace when every line is a header, comment or
    /// blank (an empty capture). An input that is empty, or that has no event and at least
    /// one unreadable line (binary junk, a mail, a log of something else, a trace in a
    /// layout forced wrongly), is not: the one-line reason names the first bad line.
    /// Frontends treat such input as unusable (`svmdbg` exits with 2).
    public var unusableReason: String? {
        let lines = lineAccounting
        if lines.read == 0 { return "is empty (no lines)" }
        guard lines.events == 0, lines.unreadable > 0 else { return nil }
        let what = format == .traceDat ? "readable trace.dat" : "\(format) trace"
        var reason = "is not a \(what): no event line, \(lines.unreadable) of \(lines.read) lines unreadable"
        if let first = diagnostics.first {
            reason += " (line \(first.line): \(first.kind.rawValue): \(first.message))"
        }
        return reason
    }
}
