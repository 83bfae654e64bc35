/// Where each pane goes for a terminal size.
///
/// Wide terminals (at least `wideColumns`×`wideRows`) show the decision path, registers
/// and VMCB side by side. Smaller ones, down to 80×24 and below, show the decision path
/// next to one of registers/VMCB (the last one focused; Tab cycles) and shrink the list
/// and raw panes. Every rectangle may be empty on a tiny terminal; panes draw nothing then.
public struct Layout: Sendable, Hashable {
    /// Smallest width for the three-column detail area.
    public static let wideColumns = 100
    /// Smallest height for the three-column detail area.
    public static let wideRows = 30

    /// The exit list including its column-header row.
    public var exitList: Rect
    /// The exit-rate strip (one row).
    public var rateStrip: Rect
    /// The decision path pane.
    public var decision: Rect
    /// The registers pane (empty when the compact layout shows VMCB instead).
    public var registers: Rect
    /// The VMCB pane (empty when the compact layout shows registers instead).
    public var vmcb: Rect
    /// The raw trace lines pane.
    public var rawLines: Rect
    /// The status bar (one row).
    public var statusBar: Rect
    /// The prompt/message line (one row, the last).
    public var promptLine: Rect
    /// Column positions of vertical separators in the detail area.
    public var separators: [Int]
    /// Whether the compact layout is in use.
    public var isCompact: Bool

    /// The layout for `size`; `compactSide` picks registers or VMCB for the compact layout;
    /// `zoom` gives one pane the whole area above the status bar (the others are empty).
    public init(size: Size, compactSide: Focus, zoom: Focus? = nil) {
        let screen = Rect(x: 0, y: 0, width: size.columns, height: size.rows)
        promptLine = screen.bottom(1)
        statusBar = screen.droppingBottom(1).bottom(1)
        let body = screen.droppingBottom(2)
        isCompact = size.columns < Self.wideColumns || size.rows < Self.wideRows
        if let zoom {
            exitList = zoom == .exitList ? body : .zero
            rateStrip = .zero
            decision = zoom == .decision ? body : .zero
            registers = zoom == .registers ? body : .zero
            vmcb = zoom == .vmcb ? body : .zero
            rawLines = zoom == .rawLines ? body : .zero
            separators = []
            detailArea = .zero
            return
        }
        let available = body.height
        let listHeight: Int
        let rawHeight: Int
        if isCompact {
            listHeight = max(3, available * 36 / 100)
            rawHeight = max(2, available * 23 / 100)
        } else {
            listHeight = max(3, available * 32 / 100)
            rawHeight = max(2, available * 25 / 100)
        }
        exitList = body.top(listHeight)
        let rest = body.droppingTop(listHeight)
        rateStrip = rest.top(1)
        let detailAndRaw = rest.droppingTop(1)
        rawLines = detailAndRaw.bottom(min(rawHeight, max(0, detailAndRaw.height - 3)))
        let detail = detailAndRaw.droppingBottom(rawLines.height)
        if isCompact {
            let leftWidth = detail.width * 55 / 100
            decision = detail.left(leftWidth)
            let side = detail.droppingLeft(leftWidth + 1)
            separators = detail.isEmpty ? [] : [detail.x + leftWidth]
            let showVMCB = compactSide == .vmcb
            registers = showVMCB ? .zero : side
            vmcb = showVMCB ? side : .zero
        } else {
            let decisionWidth = detail.width * 38 / 100
            let registersWidth = detail.width * 28 / 100
            decision = detail.left(decisionWidth)
            let afterDecision = detail.droppingLeft(decisionWidth + 1)
            registers = afterDecision.left(registersWidth)
            vmcb = afterDecision.droppingLeft(registersWidth + 1)
            separators = [detail.x + decisionWidth, detail.x + decisionWidth + 1 + registersWidth]
        }
        self.detailArea = detail
    }

    /// The whole detail area (decision, registers, VMCB and separators).
    public var detailArea: Rect

    /// Exit rows visible in the list (its height minus the header).
    public var listRows: Int { max(0, exitList.height - 1) }

    /// The rectangle of a pane.
    public func rect(of focus: Focus) -> Rect {
        switch focus {
        case .exitList: exitList
        case .decision: decision
        case .registers: registers
        case .vmcb: vmcb
        case .rawLines: rawLines
        }
    }
}
