/// Why a BTF blob could not be read or a member path could not be resolved.
public struct BTFError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What went wrong, in one sentence.
    public let message: String
    /// Where: the blob's source (a file name) when known.
    public let source: String

    /// Describes a failure in `source`.
    public init(_ message: String, source: String) {
        self.message = message
        self.source = source
    }

    /// `source: message`.
    public var description: String { source.isEmpty ? message : "\(source): \(message)" }
}
