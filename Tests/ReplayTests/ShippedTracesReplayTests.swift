import Foundation
import NestedSVM
import Replay
import TestSupport
import Testing

/// Issue 4's acceptance on the real captures: with the matching kernel profile and host,
/// replay finds no mismatch, at most 2% undetermined exits, and the exits it reads as
/// reflected to L1 are, in order, the ones L1 itself logged in the manifest (the comparison
/// `svmdbg lab check` makes, ``L1LogComparison``).
@Suite struct ShippedTracesReplayTests {
    static let captures = Capture.all(forms: ["trace", "pipe", "report", "report-noplugin", "perf", "dat"])

    @Test("every shipped capture replays with no mismatch, at most 2% undetermined exits, and the #VMEXITs L1 logged",
          arguments: captures)
    func noMismatch(capture: Capture) throws {
        let result = try replay(path: capture.path, folder: capture.folder)
        let summary = result.summary
        #expect(summary.exits > 0)
        #expect(summary.mismatch == 0, "mismatches: \(result.mismatches.map { "line \($0.lines.lowerBound) \($0.reasonName): \($0.verdict.explanation)" })")
        #expect(summary.undetermined * 50 <= summary.exits, "undetermined: \(summary.undetermined) of \(summary.exits)")
        for exit in result.exits where exit.verdict.kind == .undetermined {
            #expect(!exit.verdict.explanation.isEmpty)
        }
        // The exits replay reads as reflected to L1 are, in order, the #VMEXITs L1 logged.
        let manifest = try #require(try LabManifest.read(url: URL(fileURLWithPath: capture.manifestPath)))
        let log = L1LogComparison(manifest: manifest, result: result)
        #expect(log.isEqual, "\(log.summary)")
        #expect(log.recorded.map(\.exitCode) == manifest.l1Log.map(\.exitCode))
        // What lab check makes of this replay: never a failure.
        let form = try #require(Self.form(of: capture))
        let report = LabFormReport(form: form, file: capture.path, result: result, manifest: manifest)
        #expect(report.status != .fail, "\(report.findings.map(\.text))")
    }

    /// The form of a capture's file: `msr-prot.report-noplugin` → `report-noplugin`, `.xz` dropped.
    static func form(of capture: Capture) -> LabForm? {
        var name = capture.file.dropFirst(capture.scenario.count + 1)
        for suffix in LabForm.compressedSuffixes where name.hasSuffix("." + suffix) { name = name.dropLast(suffix.count + 1) }
        return LabForm(rawValue: String(name))
    }

    @Test("the manifests' host facts are the ones each folder's env.txt gives",
          arguments: CaptureHosts.folders)
    func manifestHost(folder: CaptureHosts.Folder) throws {
        let documented = try HostFacts(parsing: folder.host, source: "--host")
        for capture in Capture.all(forms: ["trace"]) where capture.folder.name == folder.name {
            let manifest = try #require(try LabManifest.read(url: URL(fileURLWithPath: capture.manifestPath)))
            let host = manifest.hostFacts
            #expect(host.svmeAddrChk?.value == documented.svmeAddrChk?.value, "\(capture)")
            #expect(host.vgif?.value == documented.vgif?.value, "\(capture)")
            #expect(host.npt?.value == documented.npt?.value, "\(capture)")
            #expect(host.nrips?.value == documented.nrips?.value, "\(capture)")
            #expect(host.decodeAssists?.value == documented.decodeAssists?.value, "\(capture)")
            #expect(manifest.profile == folder.profile, "\(capture)")
        }
    }
}
