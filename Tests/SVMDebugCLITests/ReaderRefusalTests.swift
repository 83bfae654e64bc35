import Foundation
import TestSupport
import Testing

/// What `check` says about input it cannot replay: a document, an Intel VMX trace, and
/// exits that were read but could not be decoded. Never a silent success.
@Suite struct ReaderRefusalTests {
    static func run(_ arguments: [String], stdin: String? = nil) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = RepositoryPaths.svmdbgExecutable
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let input = Pipe()
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let outText = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, outText, errText)
    }

    @Test("check refuses README.md with one line naming it (exit 2)")
    func readme() throws {
        let path = RepositoryPaths.root.appendingPathComponent("README.md").path
        let result = try Self.run(["check", path])
        #expect(result.status == 2)
        #expect(result.err.hasPrefix("svmdbg: \(path): is not a "))
        #expect(result.err.split(separator: "\n").count == 1)
    }

    @Test("check refuses an Intel VMX excerpt: the model is SVM-only (exit 2); stats counts its exits")
    func vmx() throws {
        let path = RepositoryPaths.trace("excerpts/vmx-io-loop-nested-state.txt").path
        let check = try Self.run(["check", path])
        #expect(check.status == 2)
        #expect(check.err.contains("this is an Intel VMX trace"))
        #expect(check.err.contains("SVM-only"))
        let stats = try Self.run(["stats", path])
        #expect(stats.status == 0)
        #expect(stats.out.contains("IO_INSTRUCTION"))
    }

    @Test("kvm_exit events read but none replayable: exit 2, or 1 with --strict")
    func noneReplayable() throws {
        let text = "          svmlab-384     [000] d..1.     4.501767: kvm_exit: vcpu 0 reason frobnicate now\n"
            + "          svmlab-384     [000] d..1.     4.501768: kvm_entry: vcpu 0, rip 0x1000\n"
        let plain = try Self.run(["check", "-"], stdin: text)
        #expect(plain.status == 2)
        #expect(plain.err.contains("1 kvm_exit events read, none could be replayed"))
        #expect(plain.out.contains("exits read but not replayed"))
        let strict = try Self.run(["check", "--strict", "-"], stdin: text)
        #expect(strict.status == 1)
    }
}
