import DebuggerUI
import Testing

@Suite struct KeyMapTests {
    @Test("no key is bound twice within one scope")
    func noDuplicates() {
        let duplicates = KeyMap.standard.duplicateKeys.map { "\($0.0.rawValue) \($0.1)" }
        #expect(duplicates.isEmpty)
    }

    @Test("every command is bound to at least one key")
    func everyCommandBound() {
        let bound = Set(KeyMap.standard.bindings.map(\.command))
        let unbound = Command.allCases.filter { !bound.contains($0) }
        #expect(unbound.isEmpty)
    }

    @Test("a detail pane falls back to the exit-list keys", arguments: [
        (Key.down, KeyScope.detail, Command.scrollDown),
        (Key.character("]"), KeyScope.detail, Command.nextMismatch),
        (Key.character("?"), KeyScope.main, Command.help),
        (Key.character("\\"), KeyScope.main, Command.searchBackward),
        (Key.character("?"), KeyScope.help, Command.cancel),
    ])
    func lookup(key: Key, scope: KeyScope, command: Command) {
        #expect(KeyMap.standard.command(for: key, in: scope) == command)
    }

    @Test("prompt scope does not fall back: letters are typed, not dispatched")
    func promptHasNoFallback() {
        #expect(KeyMap.standard.command(for: .character("q"), in: .prompt) == nil)
    }
}
