import Foundation

/// Writes a file atomically: a temporary file in the same folder, then `link(2)` or
/// `rename(2)`. Never replaces an existing file unless asked to, never writes through a
/// symbolic link, and never leaves the temporary file behind.
///
/// - A directory as target is refused (with or without `overwrite`).
/// - A symbolic link as target counts as an existing file: refused without `overwrite`;
///   with it the *link itself* is replaced by the new file (`rename` acts on the link), so
///   the file the link points to is never touched.
/// - Without `overwrite` the new file is published with `link(2)`, which fails if the name
///   exists, so a file that appears meanwhile is not clobbered either.
enum AtomicFile {
    /// Why a write failed, naming the path.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Writes `text` to `path`; returns the absolute path written.
    static func write(_ text: String, to path: String, overwrite: Bool) throws -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let target = url.path
        var info = stat()
        if lstat(target, &info) == 0 {
            let type = info.st_mode & S_IFMT
            if type == S_IFDIR { throw Failure(description: "\(target): is a directory") }
            if !overwrite {
                let what = type == S_IFLNK ? "exists (a symbolic link)" : "exists"
                throw Failure(description: "\(target): \(what); use --force to replace it")
            }
            if type != S_IFREG && type != S_IFLNK {
                throw Failure(description: "\(target): is not a regular file; refusing to replace it")
            }
        }
        let folder = url.deletingLastPathComponent().path
        var template = Array("\(folder)/.\(url.lastPathComponent).svmdbg-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { buffer -> Int32 in
            guard let base = buffer.baseAddress else { return -1 }
            return mkstemp(base)
        }
        guard descriptor >= 0 else {
            throw Failure(description: "\(target): cannot create a file in \(folder): \(errnoText())")
        }
        let temporary = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var published = false
        defer { if !published { unlink(temporary) } }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 {
                let reason = errnoText()
                close(descriptor)
                throw Failure(description: "\(target): write failed: \(reason)")
            }
            written += count
        }
        // mkstemp creates 0600; give the file the mode a new file would get (0666 & ~umask).
        let mask = umask(0)
        umask(mask)
        fchmod(descriptor, 0o666 & ~mask)
        let synced = fsync(descriptor) == 0 || errno == EINVAL
        let syncReason = errnoText()
        close(descriptor)
        guard synced else { throw Failure(description: "\(target): write failed: \(syncReason)") }
        if overwrite {
            guard rename(temporary, target) == 0 else {
                throw Failure(description: "\(target): rename failed: \(errnoText())")
            }
        } else if link(temporary, target) == 0 {
            unlink(temporary)
        } else {
            let code = errno
            if code == EEXIST { throw Failure(description: "\(target): exists; use --force to replace it") }
            // Some file systems have no hard links: check, then rename.
            guard code == EPERM || code == ENOTSUP || code == EOPNOTSUPP || code == EXDEV else {
                throw Failure(description: "\(target): cannot create: \(errnoText(code))")
            }
            if lstat(target, &info) == 0 { throw Failure(description: "\(target): exists; use --force to replace it") }
            guard rename(temporary, target) == 0 else {
                throw Failure(description: "\(target): rename failed: \(errnoText())")
            }
        }
        published = true
        return target
    }

    /// Lowercase `strerror` text for `code` (default: the current `errno`).
    private static func errnoText(_ code: Int32 = errno) -> String {
        guard let message = strerror(code) else { return "error \(code)" }
        let text = String(cString: message)
        return text.prefix(1).lowercased() + text.dropFirst()
    }
}
