/// A terminal or pane size in character cells.
public struct Size: Hashable, Sendable, CustomStringConvertible {
    /// Width in cells.
    public var columns: Int
    /// Height in cells.
    public var rows: Int
    /// Creates a size.
    public init(columns: Int, rows: Int) {
        self.columns = columns
        self.rows = rows
    }
    /// `columns x rows`, e.g. `80x24`.
    public var description: String { "\(columns)x\(rows)" }
}
