import DebuggerUI
import Testing

@Suite struct ScreenTests {
    @Test("text is clipped at the clip rectangle")
    func clipping() {
        var screen = Screen(size: Size(columns: 10, rows: 2))
        let end = screen.write("abcdefgh", x: 2, y: 0, clip: Rect(x: 0, y: 0, width: 6, height: 1))
        #expect(screen.text(ofRow: 0) == "  abcd    ")
        #expect(end == 6)
    }

    @Test("a wide character takes two cells and is not split at the edge")
    func wideCharacters() {
        var screen = Screen(size: Size(columns: 5, rows: 1))
        screen.write("a日本", x: 0, y: 0)
        #expect(screen.text(ofRow: 0) == "a日本")
        #expect(screen[2, 0].isContinuation)
        var narrow = Screen(size: Size(columns: 4, rows: 1))
        narrow.write("a日本", x: 0, y: 0)
        #expect(narrow.text(ofRow: 0) == "a日 ")
    }

    @Test("column widths follow Unicode width classes", arguments: [
        ("a", 1), ("é", 1), ("日", 2), ("🙂", 2), ("✘", 1), ("│", 1), ("\u{301}", 0),
    ])
    func widths(text: String, columns: Int) {
        #expect(TextWidth.columns(of: text) == columns)
    }

    @Test("control characters are shown as question marks")
    func controls() {
        var screen = Screen(size: Size(columns: 4, rows: 1))
        screen.write("a\tb", x: 0, y: 0)
        #expect(screen.text(ofRow: 0) == "a?b ")
    }
}
