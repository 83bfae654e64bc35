/// Checks made in Swift before a file reaches libtracecmd.
enum TraceDatPreflight {
    /// Throws for files libtracecmd would mishandle. Currently none are known beyond
    /// what `TraceCmdInput` guards against.
    static func check(path: String, header: TraceDatHeader) throws(TraceDatError) {}
}
