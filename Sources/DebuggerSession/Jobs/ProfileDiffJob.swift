import DebuggerUI
import Synchronization

/// Computes a profile diff (`D`) in a ``BackgroundTask``, so the UI keeps taking keys; wakes
/// the terminal when done.
final class ProfileDiffJob: Sendable {
    /// The profile compared with.
    let profile: String
    /// The diff once computed (`.some(nil)`: nothing to compare), and whether it was taken.
    private let result = Mutex<(list: ProfileDiffList??, taken: Bool)>((nil, false))
    private let task: BackgroundTask

    init(session: any DebugSession, against profile: String, wake: @escaping @Sendable () -> Void) {
        self.profile = profile
        task = BackgroundTask(name: "svmdbg profile diff")
        task.start { [self] in
            let list = session.profileDiff(against: profile)
            result.withLock { $0.list = .some(list) }
            wake()
        }
    }

    /// The result once, when it is ready.
    func take() -> (list: ProfileDiffList?, Void)? {
        result.withLock { result in
            guard case .some(let list) = result.list, !result.taken else { return nil }
            result.taken = true
            return (list, ())
        }
    }

    /// Blocks until the diff is computed.
    func wait() { task.wait() }
}
