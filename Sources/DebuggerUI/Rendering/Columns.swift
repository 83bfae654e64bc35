/// Text helpers for fixed-width columns.
public enum Columns {
    /// `text` cut or padded with spaces to exactly `width` columns.
    public static func fit(_ text: String, _ width: Int, alignRight: Bool = false) -> String {
        guard width > 0 else { return "" }
        var out = ""
        var used = 0
        for c in text {
            let w = TextWidth.columns(of: c)
            if used + w > width { break }
            out.append(c)
            used += w
        }
        let pad = String(repeating: " ", count: width - used)
        return alignRight ? pad + out : out + pad
    }

    /// Splits `text` into lines of at most `width` columns, breaking at spaces where possible.
    public static func wrap(_ text: String, width: Int) -> [String] {
        guard width > 0 else { return [] }
        var lines: [String] = []
        var current = ""
        var used = 0
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            let w = TextWidth.columns(of: word)
            if used > 0, used + 1 + w > width {
                lines.append(current)
                current = ""
                used = 0
            }
            if used > 0 {
                current += " "
                used += 1
            }
            var piece = Substring(word)
            while TextWidth.columns(of: piece) > width - used, width - used > 0 {
                let head = fit(String(piece), width - used)
                let taken = head.count - head.reversed().prefix(while: { $0 == " " }).count
                guard taken > 0 else { break }
                lines.append(current + piece.prefix(taken))
                piece = piece.dropFirst(taken)
                current = ""
                used = 0
            }
            current += piece
            used += TextWidth.columns(of: piece)
        }
        lines.append(current)
        return lines
    }
}
