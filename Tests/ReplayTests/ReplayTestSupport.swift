import Foundation
import NestedSVM
import Replay
import TestSupport
import TraceKit
import Testing

/// One shipped capture in one form.
struct Capture: Sendable, CustomTestStringConvertible {
    var folder: CaptureHosts.Folder
    var scenario: String
    var file: String
    var testDescription: String { "\(folder.name)/\(file)" }

    var path: String { RepositoryPaths.trace("\(folder.name)/\(file)").path }
    var manifestPath: String { RepositoryPaths.trace("\(folder.name)/\(scenario).json").path }

    /// Every scenario of every folder in `forms` (an `.xz` twin stands in for a missing file).
    static func all(forms: [String]) -> [Capture] {
        var captures: [Capture] = []
        for folder in CaptureHosts.folders {
            let directory = RepositoryPaths.trace(folder.name).path
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            for manifest in names.filter({ $0.hasSuffix(".json") }).sorted() {
                let scenario = String(manifest.dropLast(5))
                for form in forms {
                    let plain = "\(scenario).\(form)"
                    if names.contains(plain) {
                        captures.append(Capture(folder: folder, scenario: scenario, file: plain))
                    } else if names.contains(plain + ".xz") {
                        captures.append(Capture(folder: folder, scenario: scenario, file: plain + ".xz"))
                    }
                }
            }
        }
        return captures
    }
}

/// Replays `path` with a folder's profile and host facts.
func replay(path: String, folder: CaptureHosts.Folder, profile: KernelProfile? = nil) throws -> ReplayResult {
    let trace = try TraceLoader.load(path: path)
    return replay(trace: trace, folder: folder, profile: profile)
}

/// Replays a loaded trace with a folder's profile and host facts.
func replay(trace: LoadedTrace, folder: CaptureHosts.Folder, profile: KernelProfile? = nil) -> ReplayResult {
    let host = (try? HostFacts(parsing: folder.host, source: "--host")) ?? HostFacts()
    return Replayer(trace: trace, options: ReplayOptions(profile: profile ?? folder.profile, host: host)).run()
}

/// Replays trace text given in memory (a modified copy of a real trace).
func replay(text: String, source: String, folder: CaptureHosts.Folder) throws -> ReplayResult {
    let trace = try TraceLoader.load(bytes: Array(text.utf8), source: source)
    return replay(trace: trace, folder: folder)
}

/// Reads a shipped plain-text trace.
func readText(_ relative: String) throws -> String {
    try String(contentsOfFile: RepositoryPaths.trace(relative).path, encoding: .utf8)
}
