import Replay
import Testing

@Suite struct LevelTests {
    @Test("levels print as KVM names them")
    func names() { #expect(Level.allCases.map(\.description) == ["L1", "L2"]) }
}
