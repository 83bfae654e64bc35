import Foundation

/// Writes a file atomically: a temporary file in the same folder, then `rename(2)`.
/// Never replaces an existing file unless asked to.
enum AtomicFile {
    /// Why a write failed, naming the path.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Writes `text` to `path`; returns the absolute path written.
    static func write(_ text: String, to path: String, overwrite: Bool) throws -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let target = url.path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory) {
            if isDirectory.boolValue { throw Failure(description: "\(target): is a directory") }
            if !overwrite { throw Failure(description: "\(target): exists; use --force to overwrite it") }
        }
        let folder = url.deletingLastPathComponent().path
        var template = Array("\(folder)/.\(url.lastPathComponent).svmdbg-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else {
            throw Failure(description: "\(target): cannot create a file in \(folder): \(String(cString: strerror(errno)))")
        }
        let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            if count <= 0 {
                let reason = String(cString: strerror(errno))
                close(descriptor)
                unlink(temporary)
                throw Failure(description: "\(target): write failed: \(reason)")
            }
            written += count
        }
        fchmod(descriptor, 0o644)
        fsync(descriptor)
        close(descriptor)
        if !overwrite, FileManager.default.fileExists(atPath: target) {
            unlink(temporary)
            throw Failure(description: "\(target): exists; use --force to overwrite it")
        }
        guard rename(temporary, target) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw Failure(description: "\(target): rename failed: \(reason)")
        }
        return target
    }
}
