import Foundation

/// Paths inside this repository, for tests that read the shipped real traces.
///
/// Tests use the repository's own `traces/` copy, never `../shared`: a fresh clone has
/// no `../shared`.
package enum RepositoryPaths {
    /// The repository root (the folder holding `Package.swift`).
    package static let root: URL = {
        var url = URL(fileURLWithPath: #filePath)
        // Sources/TestSupport/RepositoryPaths.swift -> repository root
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()

    /// `traces/` at the repository root.
    package static var traces: URL { root.appendingPathComponent("traces") }

    /// One file under `traces/`, e.g. `trace("6.12/msr-prot.trace")`.
    package static func trace(_ relativePath: String) -> URL {
        traces.appendingPathComponent(relativePath)
    }

    /// The built `svmdbg` executable next to the test bundle, for end-to-end tests.
    package static var svmdbgExecutable: URL {
        let bundle = Bundle.main.bundleURL
        let candidates = [
            bundle.deletingLastPathComponent().appendingPathComponent("svmdbg"),
            bundle.appendingPathComponent("svmdbg"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }
}
