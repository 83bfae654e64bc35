import Foundation
import TestSupport
import Testing

@Suite struct TraceFilesTests {
    @Test("the repository ships the real traces the tests use")
    func shipped() {
        #expect(FileManager.default.fileExists(atPath: RepositoryPaths.trace("6.12/minimal.trace").path))
        #expect(FileManager.default.fileExists(atPath: RepositoryPaths.trace("6.1/vmmcall.trace.xz").path))
    }
}
