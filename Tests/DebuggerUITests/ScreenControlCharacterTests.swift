import DebuggerUI
import Testing

/// Trace text drawn into the grid must never carry a character the terminal acts on.
@Suite struct ScreenControlCharacterTests {
    @Test("control characters from trace text never reach a cell", arguments: [
        "\u{1b}[2J", "\u{07}", "\u{9b}31m", "\u{7f}", "\u{08}", "\r", "\r\n", "\u{0}", "\u{85}", "\u{90}q",
    ])
    func noControlInCells(hostile: String) {
        var screen = Screen(size: Size(columns: 20, rows: 1))
        screen.write("a" + hostile + "b", x: 0, y: 0)
        for x in 0..<20 {
            let scalars = screen[x, 0].character.unicodeScalars
            #expect(!scalars.contains { $0.value < 0x20 || (0x7f...0x9f).contains($0.value) },
                    "cell \(x) holds a control character")
        }
        #expect(screen.text(ofRow: 0).hasPrefix("a?"))
        #expect(screen.text(ofRow: 0).contains("b"))
    }
}
