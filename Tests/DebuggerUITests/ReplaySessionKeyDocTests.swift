@testable import DebuggerSession
import DebuggerUI
import Foundation
import TestSupport
import Testing

/// `docs/tui.md` documents the debugger opened on a replay; its key table must be the one
/// the app dispatches with (`KeyMap.standard`).
@Suite struct ReplaySessionKeyDocTests {
    /// The Markdown table rows of one scope, as docs/tui.md writes them.
    static func rows(_ scope: KeyScope) -> [String] {
        KeyMap.standard.bindings(in: scope).map { binding in
            let keys = binding.keys.map { "`\($0.description)`" }.joined(separator: " ")
            return "| \(keys) | \(binding.help.replacingOccurrences(of: "|", with: "\\|")) |"
        }
    }

    @Test("every binding of KeyMap.standard has its row in docs/tui.md, under its scope's heading")
    func everyKeyIsDocumented() throws {
        let doc = try String(contentsOf: RepositoryPaths.root.appendingPathComponent("docs/tui.md"), encoding: .utf8)
        for scope in KeyScope.allCases {
            let heading = "### \(scope.title)"
            let start = try #require(doc.range(of: heading), "missing heading '\(heading)'")
            let section = doc[start.upperBound...].prefix { _ in true }
            let end = section.range(of: "\n### ")?.lowerBound ?? section.endIndex
            let body = section[..<end]
            let missing = Self.rows(scope).filter { !body.contains($0) }
            #expect(missing.isEmpty, "docs/tui.md '\(heading)' lacks:\n\(missing.joined(separator: "\n"))")
        }
    }
}
