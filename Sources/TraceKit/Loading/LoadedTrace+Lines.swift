extension LoadedTrace {
    /// The 1-based line number of event `number`, read from the index without decoding the
    /// event.
    public func lineNumber(of number: EventNumber) -> Int { Int(index[number.rawValue].lineNumber) }
}
