/// A rectangle of cells on the screen; origin at the top left, 0-based.
public struct Rect: Sendable, Hashable, CustomStringConvertible {
    /// Left column.
    public var x: Int
    /// Top row.
    public var y: Int
    /// Width in columns (never negative).
    public var width: Int
    /// Height in rows (never negative).
    public var height: Int

    /// Creates a rectangle; negative sizes become 0.
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(0, width)
        self.height = max(0, height)
    }

    /// The empty rectangle at the origin.
    public static let zero = Rect(x: 0, y: 0, width: 0, height: 0)

    /// Whether it has no cells.
    public var isEmpty: Bool { width == 0 || height == 0 }
    /// One past the right column.
    public var maxX: Int { x + width }
    /// One past the bottom row.
    public var maxY: Int { y + height }
    /// Whether the cell at (`x`, `y`) is inside.
    public func contains(x px: Int, y py: Int) -> Bool { px >= x && px < maxX && py >= y && py < maxY }

    /// The top `rows` rows (fewer if it is shorter).
    public func top(_ rows: Int) -> Rect { Rect(x: x, y: y, width: width, height: min(height, rows)) }
    /// Everything below the top `rows` rows.
    public func droppingTop(_ rows: Int) -> Rect {
        let n = min(height, max(0, rows))
        return Rect(x: x, y: y + n, width: width, height: height - n)
    }
    /// The bottom `rows` rows.
    public func bottom(_ rows: Int) -> Rect {
        let n = min(height, max(0, rows))
        return Rect(x: x, y: maxY - n, width: width, height: n)
    }
    /// Everything above the bottom `rows` rows.
    public func droppingBottom(_ rows: Int) -> Rect {
        let n = min(height, max(0, rows))
        return Rect(x: x, y: y, width: width, height: height - n)
    }
    /// The left `columns` columns.
    public func left(_ columns: Int) -> Rect { Rect(x: x, y: y, width: min(width, max(0, columns)), height: height) }
    /// Everything right of the left `columns` columns.
    public func droppingLeft(_ columns: Int) -> Rect {
        let n = min(width, max(0, columns))
        return Rect(x: x + n, y: y, width: width - n, height: height)
    }
    /// Shrinks by `amount` cells on every side.
    public func inset(by amount: Int) -> Rect {
        Rect(x: x + amount, y: y + amount, width: width - 2 * amount, height: height - 2 * amount)
    }
    /// A rectangle of at most `width`×`height` centred inside this one.
    public func centred(width w: Int, height h: Int) -> Rect {
        let cw = min(width, w), ch = min(height, h)
        return Rect(x: x + (width - cw) / 2, y: y + (height - ch) / 2, width: cw, height: ch)
    }

    /// `x,y wxh`.
    public var description: String { "\(x),\(y) \(width)x\(height)" }
}
