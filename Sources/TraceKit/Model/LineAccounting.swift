/// How every line of a loaded trace was classified, so nothing silently disappears.
///
/// Each line of the (decompressed) text is counted in `read` and in exactly one of the
/// other four counters, so `read == understood + raw + unreadable + metadata`:
///
/// - `understood`: an event line whose payload was decoded into a typed ``EventPayload``
///   (including `<CANT FIND FIELD …>` and `[FAILED TO PARSE]` lines whose fields could
///   still be extracted; those also get a ``Diagnostic``).
/// - `raw`: an event line (prefix understood, event name known) kept as a raw event:
///   an event svmdbg does not model, or a modelled event whose payload matched no known
///   format — including a cut-off last line whose prefix survived (these also get a
///   ``Diagnostic``).
/// - `unreadable`: a line that yields no event: binary junk, NUL bytes, a last line cut
///   off inside its prefix, a mail-wrapped continuation, or any other text that is not an
///   event line. Each gets a ``Diagnostic``.
/// - `metadata`: header and comment lines (`# tracer: nop`, `cpus=2`, `version = 6`,
///   `CPU 1 is empty`), blank lines, and `CPU:n [LOST n EVENTS]` markers. They count as
///   read, not unreadable. Lost-event markers and `# … omitted …` comments inside the
///   body also get a ``Diagnostic``, because events are missing there.
///
/// Events = `understood + raw`.
public struct LineAccounting: Sendable, Hashable {
    /// Every line of the input.
    public var read: Int = 0
    /// Event lines with a typed payload.
    public var understood: Int = 0
    /// Event lines kept raw.
    public var raw: Int = 0
    /// Lines that yielded no event.
    public var unreadable: Int = 0
    /// Headers, comments, blank lines, lost-event markers.
    public var metadata: Int = 0

    /// Creates zeroed counters.
    public init() {}

    /// Creates counters with the given values.
    public init(read: Int, understood: Int, raw: Int, unreadable: Int, metadata: Int) {
        self.read = read
        self.understood = understood
        self.raw = raw
        self.unreadable = unreadable
        self.metadata = metadata
    }

    /// Number of events (`understood + raw`).
    public var events: Int { understood + raw }
}
