import DebuggerUI
import Testing

@Suite struct SizeTests {
    @Test("a size prints as columns x rows")
    func text() { #expect(Size(columns: 80, rows: 24).description == "80x24") }
}
