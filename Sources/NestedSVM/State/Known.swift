/// A value the caller knows, together with where it came from.
///
/// The model never invents inputs: an input it does not have is `nil` (`Known<T>?`), and a
/// rule that needs it says so. `source` is free text supplied by the caller, for example
/// `"kvm_nested_intercepts line 65"`, `"--host"` or `"inferred from line 90"`; NestedSVM
/// knows no trace lines itself and only repeats it as evidence.
public struct Known<Value: Sendable & Equatable & Codable>: Sendable, Equatable, Codable {
    /// The known value.
    public var value: Value
    /// Where the value came from, in the caller's words.
    public var source: String

    /// Wraps `value`, citing `source`.
    public init(_ value: Value, source: String) {
        self.value = value
        self.source = source
    }
}
