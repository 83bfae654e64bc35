import DebuggerUI
import SnapshotTesting

extension Screen {
    /// The grid as reviewable text: framed rows (so trailing blanks show), then a style
    /// mask with one letter per cell and a legend of the letters used.
    package var snapshotText: String {
        let rows = lines
        var out = "size \(size)\n"
        for row in rows { out += "│\(row)│\n" }
        var used = Set<Style>()
        var mask: [String] = []
        for y in 0..<size.rows {
            var line = ""
            for x in 0..<size.columns {
                let cell = self[x, y]
                used.insert(cell.style)
                line.append(cell.isContinuation ? "~" : cell.style.maskLetter)
            }
            mask.append(line)
        }
        let legend = Style.allCases.filter(used.contains).map { "\($0.maskLetter) \($0.name)" }
        out += "\nstyles: " + legend.joined(separator: ", ") + (mask.joined().contains("~") ? ", ~ wide-character tail" : "") + "\n"
        for line in mask { out += "│\(line)│\n" }
        return out
    }
}

extension Snapshotting where Value == Screen, Format == String {
    /// Framed rows plus a style mask, stored as a `.txt` snapshot.
    package static var screen: Snapshotting<Screen, String> {
        Snapshotting<String, String>.lines.pullback { $0.snapshotText }
    }
}
