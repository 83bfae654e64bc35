import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Finds and runs the lab's `lab/run` script for `svmdbg lab run`.
enum LabLauncher {
    /// Environment variable naming the lab folder (the one holding `run`, or holding `lab/run`).
    static let environmentVariable = "SVMDBG_LAB_DIR"
    /// The script's path below a repository root.
    static let scriptPath = "lab/run"

    /// Why no script was found: one line naming where it looked.
    struct NotFound: Error, Equatable {
        /// The message, without the `svmdbg lab run: error:` prefix.
        var message: String
    }

    /// The script to run: in `$SVMDBG_LAB_DIR` when set (and nowhere else), else the nearest
    /// `lab/run` at or above `currentDirectory`, else at or above `executable`'s folder.
    static func locate(environment: [String: String], currentDirectory: URL, executable: URL?) -> Result<URL, NotFound> {
        let files = FileManager.default
        func isScript(_ url: URL) -> Bool {
            var isDirectory: ObjCBool = false
            return files.fileExists(atPath: url.path, isDirectory: &isDirectory) && !isDirectory.boolValue
        }
        if let folder = environment[environmentVariable], !folder.isEmpty {
            let base = URL(fileURLWithPath: folder)
            let candidates = [base.appendingPathComponent("run"), base.appendingPathComponent(scriptPath)]
            if let found = candidates.first(where: isScript) { return .success(found) }
            return .failure(NotFound(
                message: "\(environmentVariable)=\(folder): no lab script there (looked for \(candidates.map(\.path).joined(separator: " and ")))"))
        }
        var starts = [currentDirectory]
        if let executable { starts.append(executable.deletingLastPathComponent()) }
        for start in starts {
            var folder = start.standardizedFileURL
            while true {
                let candidate = folder.appendingPathComponent(scriptPath)
                if isScript(candidate) { return .success(candidate) }
                let parent = folder.deletingLastPathComponent()
                if parent.path == folder.path { break }
                folder = parent
            }
        }
        return .failure(NotFound(
            message: "no \(scriptPath) found above \(starts.map(\.path).joined(separator: " or ")); set \(environmentVariable) to the lab folder"))
    }

    /// svmdbg's own executable, symlinks resolved.
    static func executableURL() -> URL? {
        let link = URL(fileURLWithPath: "/proc/self/exe")
        let resolved = link.resolvingSymlinksInPath()
        return resolved.path == link.path ? Bundle.main.executableURL : resolved
    }

    /// Runs `script` with `arguments`, standard input, output and error inherited, and returns
    /// its exit status (128 + N when signal N ended it).
    ///
    /// While the script runs, SIGINT and SIGTERM reach it (the terminal signals the whole
    /// process group) and svmdbg waits instead of dying, so it can report the status. A
    /// script without the execute bit runs under `/bin/bash`.
    static func run(script: URL, arguments: [String]) throws -> Int32 {
        let process = Process()
        if FileManager.default.isExecutableFile(atPath: script.path) {
            process.executableURL = script
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = [script.path] + arguments
        }
        // lab/run writes each scenario's NAME.facts.json with this svmdbg (`svmdbg lab facts`).
        var environment = ProcessInfo.processInfo.environment
        if environment["SVMDBG"] == nil, let executable = executableURL() { environment["SVMDBG"] = executable.path }
        process.environment = environment
        // A handler, not SIG_IGN: handlers are reset to the default at exec, ignored signals
        // would stay ignored in the script.
        let previousInterrupt = signal(SIGINT, { _ in })
        let previousTerminate = signal(SIGTERM, { _ in })
        defer {
            signal(SIGINT, previousInterrupt)
            signal(SIGTERM, previousTerminate)
        }
        try process.run()
        process.waitUntilExit()
        switch process.terminationReason {
        case .exit: return process.terminationStatus
        case .uncaughtSignal: return 128 + process.terminationStatus
        @unknown default: return process.terminationStatus
        }
    }
}
