extension String {
    /// The string without leading and trailing white space.
    var trimmedOfSpaces: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
