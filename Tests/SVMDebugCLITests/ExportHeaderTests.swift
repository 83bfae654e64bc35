import Foundation
import TestSupport
import Testing

/// Exports carry the profile and host facts they were replayed with; a `.trace` export read
/// back (check, the TUI) replays with them unless `--profile`/`--host` say otherwise.
@Suite struct ExportHeaderTests {
    static let trace = RepositoryPaths.trace("6.12/msr-prot.trace").path

    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("svmdbg-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test("every export format names the profile and the host facts")
    func everyFormat() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for format in ["trace", "jsonl", "csv", "md"] {
            let path = folder.appendingPathComponent("all.\(format)").path
            let run = try runSVMDebug(["export", Self.trace, "--all", "-o", path, "--format", format, "--profile", "6.1", "--host", "npt=1,vgif=0"])
            #expect(run.status == 0, "\(run.stderr)")
            let text = try String(contentsOfFile: path, encoding: .utf8)
            switch format {
            case "trace": #expect(text.hasPrefix("# svmdbg-export: profile=6.1 host=vgif=0,npt=1\n"))
            case "jsonl": #expect(text.split(separator: "\n").allSatisfy { $0.contains(#""profile":"6.1""#) && $0.contains(#""host":"vgif=0,npt=1""#) })
            case "csv":
                let lines = text.split(separator: "\n")
                #expect(lines.first?.hasSuffix(",profile,host") == true)
                #expect(lines.dropFirst().allSatisfy { $0.hasSuffix(",6.1,\"vgif=0,npt=1\"") })
            default: #expect(text.contains("Profile `6.1`, host facts `vgif=0,npt=1`"))
            }
        }
    }

    @Test("check on an exported .trace uses its header; --profile and --host still win")
    func readBack() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("all.trace").path
        _ = try runSVMDebug(["export", Self.trace, "--all", "-o", path, "--format", "trace", "--profile", "6.1", "--host", "npt=1"])
        let check = try runSVMDebug(["check", path])
        #expect(check.stdout.hasPrefix("svmdbg check \(path)  (tracefs, profile 6.1)"), "\(check.stdout)")
        #expect(check.stdout.contains("npt=1 [export header]"))
        let overridden = try runSVMDebug(["check", path, "--profile", "upstream", "--host", "npt=0"])
        #expect(overridden.stdout.hasPrefix("svmdbg check \(path)  (tracefs, profile upstream)"))
        #expect(!overridden.stdout.contains("[export header]"))
    }
}
