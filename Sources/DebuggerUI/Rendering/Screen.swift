/// One cell of the screen grid.
public struct Cell: Sendable, Hashable {
    /// The character drawn in the cell; a space when empty. For the second column of a
    /// wide character this is a space and `isContinuation` is true.
    public var character: Character
    /// The role the cell's text plays.
    public var style: Style
    /// True for the right half of a 2-column character (terminals skip it).
    public var isContinuation: Bool

    /// Creates a cell.
    public init(character: Character = " ", style: Style = .plain, isContinuation: Bool = false) {
        self.character = character
        self.style = style
        self.isContinuation = isContinuation
    }

    /// A blank cell.
    public static let blank = Cell()
}

/// The whole frame as a grid of cells: what panes render into and terminals copy out.
///
/// Writes are clipped to the grid and to a caller-given rectangle, and are width-aware:
/// a 2-column character takes two cells and is never split at an edge.
public struct Screen: Sendable, Hashable {
    /// Grid size.
    public let size: Size
    /// Cells, row-major.
    public private(set) var cells: [Cell]

    /// A blank grid of `size`.
    public init(size: Size) {
        self.size = Size(columns: max(0, size.columns), rows: max(0, size.rows))
        self.cells = Array(repeating: .blank, count: self.size.columns * self.size.rows)
    }

    /// The whole screen as a rectangle.
    public var bounds: Rect { Rect(x: 0, y: 0, width: size.columns, height: size.rows) }

    /// The cell at a column and row (blank when outside).
    public subscript(x: Int, y: Int) -> Cell {
        guard x >= 0, y >= 0, x < size.columns, y < size.rows else { return .blank }
        return cells[y * size.columns + x]
    }

    /// Fills `rect` with `character` in `style`.
    public mutating func fill(_ rect: Rect, with character: Character = " ", style: Style = .plain) {
        let r = clip(rect, to: bounds)
        for y in r.y..<r.maxY {
            for x in r.x..<r.maxX { cells[y * size.columns + x] = Cell(character: character, style: style) }
        }
    }

    /// Writes `text` starting at column `x`, row `y`, clipped to `clip` (default: the screen).
    /// Control characters (C0, DEL, C1) are shown as `?`. Returns the column after the last written cell.
    @discardableResult
    public mutating func write(_ text: some StringProtocol, x: Int, y: Int, style: Style = .plain, clip: Rect? = nil) -> Int {
        let area = self.clip(clip ?? bounds, to: bounds)
        guard y >= area.y, y < area.maxY else { return x }
        var column = x
        for character in text {
            var ch = character
            var w = TextWidth.columns(of: ch)
            if w == 0 {
                // C0, DEL and C1 (U+0080-U+009F: U+009B is a one-character CSI) never reach a cell.
                if character.unicodeScalars.first.map({ $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) ?? false {
                    ch = "?"
                    w = 1
                } else {
                    continue  // a lone combining mark: nothing to place
                }
            }
            if column + w > area.maxX { break }
            if column >= area.x {
                put(Cell(character: ch, style: style), x: column, y: y)
                if w == 2 { put(Cell(character: " ", style: style, isContinuation: true), x: column + 1, y: y) }
            }
            column += w
        }
        return column
    }

    /// Sets the style of the cells in `rect`, keeping their characters.
    public mutating func restyle(_ rect: Rect, style: Style) {
        let r = clip(rect, to: bounds)
        for y in r.y..<r.maxY {
            for x in r.x..<r.maxX { cells[y * size.columns + x].style = style }
        }
    }

    /// Row `y` as plain text (continuation cells skipped), trailing blanks kept.
    public func text(ofRow y: Int) -> String {
        var s = ""
        for x in 0..<size.columns where !self[x, y].isContinuation { s.append(self[x, y].character) }
        return s
    }

    /// Every row as plain text.
    public var lines: [String] { (0..<size.rows).map { text(ofRow: $0) } }

    private mutating func put(_ cell: Cell, x: Int, y: Int) {
        guard x >= 0, y >= 0, x < size.columns, y < size.rows else { return }
        // Overwriting half of a wide character blanks its other half.
        let index = y * size.columns + x
        if cells[index].isContinuation, x > 0 { cells[index - 1] = Cell(character: " ", style: cells[index - 1].style) }
        if !cells[index].isContinuation, TextWidth.columns(of: cells[index].character) == 2, x + 1 < size.columns {
            cells[index + 1] = Cell(character: " ", style: cells[index + 1].style)
        }
        cells[index] = cell
    }

    private func clip(_ rect: Rect, to limit: Rect) -> Rect {
        let x0 = max(rect.x, limit.x), y0 = max(rect.y, limit.y)
        let x1 = min(rect.maxX, limit.maxX), y1 = min(rect.maxY, limit.maxY)
        return Rect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }
}
