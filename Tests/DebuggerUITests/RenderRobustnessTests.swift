import DebuggerUI
import TestSupport
import Testing

@MainActor
@Suite struct RenderRobustnessTests {
    nonisolated static let tinySizes: [Size] = [
        Size(columns: 0, rows: 0), Size(columns: 1, rows: 1), Size(columns: 5, rows: 2), Size(columns: 12, rows: 4),
        Size(columns: 30, rows: 8), Size(columns: 79, rows: 23),
    ]

    @Test("every screen and overlay renders at tiny sizes without trapping, filling exactly the grid", arguments: tinySizes)
    func tiny(size: Size) {
        let h = AppHarness(size: size)
        h.press(.right)
        #expect(h.app.frame.size == size)
        h.press(.character("v"), .tab, .tab, .tab, .tab)
        _ = h.app.frame
        h.press(.escape, .character("m"), .character("'"))
        _ = h.app.frame
        h.press(.escape, .character("?"))
        _ = h.app.frame
        h.press(.escape, .character("/"))
        h.type("日本語")
        #expect(h.app.frame.lines.count == size.rows)
    }

    @Test("the snapshot text frames every row and marks wide-character tails in the mask")
    func snapshotText() {
        var screen = Screen(size: Size(columns: 4, rows: 1))
        screen.write("日", x: 0, y: 0, style: .mismatch)
        #expect(screen.snapshotText == """
            size 4x1
            │日  │

            styles: . plain, M mismatch, ~ wide-character tail
            │M~..│

            """)
    }
}
