/// Why an input could not be loaded at all (a trace with bad lines still loads; see ``Diagnostic``).
public struct TraceLoadError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The input's name as given (path or `-`).
    public var file: String
    /// What is wrong with it, e.g. `no such file`.
    public var problem: String

    /// Creates an error.
    public init(file: String, problem: String) {
        self.file = file
        self.problem = problem
    }

    /// `FILE: problem`.
    public var description: String { "\(file): \(problem)" }
}
