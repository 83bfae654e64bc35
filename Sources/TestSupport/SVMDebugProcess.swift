import Foundation

/// One run of the built `svmdbg` executable: exit status and what it wrote.
package struct SVMDebugRun: Sendable {
    /// The exit status.
    package var status: Int32
    /// Standard output, byte for byte.
    package var stdoutBytes: [UInt8]
    /// Standard error, byte for byte.
    package var stderrBytes: [UInt8]
    /// Standard output as UTF-8 text.
    package var stdout: String { String(decoding: stdoutBytes, as: UTF8.self) }
    /// Standard error as UTF-8 text.
    package var stderr: String { String(decoding: stderrBytes, as: UTF8.self) }
}

/// Runs the built `svmdbg` (``RepositoryPaths/svmdbgExecutable``) with `arguments` and waits
/// for it. Standard output and error are drained concurrently, so large outputs cannot block
/// the child.
package func runSVMDebug(_ arguments: [String]) throws -> SVMDebugRun {
    let process = Process()
    process.executableURL = RepositoryPaths.svmdbgExecutable
    process.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    final class Box: @unchecked Sendable { var data = Data() }  // written by the reader thread before it signals
    let errors = Box()
    let done = DispatchSemaphore(value: 0)
    let handle = err.fileHandleForReading
    Thread {
        errors.data = handle.readDataToEndOfFile()
        done.signal()
    }.start()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    done.wait()
    process.waitUntilExit()
    return SVMDebugRun(status: process.terminationStatus, stdoutBytes: Array(stdout), stderrBytes: Array(errors.data))
}
