import Foundation
import DebuggerUI

/// Computes a profile diff (`D`) on a thread of its own, so the UI keeps taking keys; wakes
/// the terminal when done.
final class ProfileDiffJob: @unchecked Sendable {
    /// The profile compared with.
    let profile: String
    private let done = NSCondition()
    private var result: (list: ProfileDiffList?, Void)?
    private var taken = false

    init(session: any DebugSession, against profile: String, wake: @escaping @Sendable () -> Void) {
        self.profile = profile
        let thread = Thread { [self] in
            let list = session.profileDiff(against: profile)
            done.lock()
            result = (list, ())
            done.broadcast()
            done.unlock()
            wake()
        }
        thread.name = "svmdbg profile diff"
        thread.start()
    }

    /// The result once, when it is ready.
    func take() -> (list: ProfileDiffList?, Void)? {
        done.lock()
        defer { done.unlock() }
        guard let result, !taken else { return nil }
        taken = true
        return result
    }

    /// Blocks until the diff is computed.
    func wait() {
        done.lock()
        while result == nil { done.wait() }
        done.unlock()
    }
}
