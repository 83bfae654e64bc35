import NestedSVM
import Replay
import DebuggerUI

/// What a changed fact is cited as in the facts pane and in exports.
let debuggerFactSource = "set in the debugger"

extension ReplaySession {
    /// The host facts of the finished replay.
    public var hostFacts: [HostFactRow] { result.map(HostFactRow.rows(of:)) ?? [] }

    /// The same trace replayed in the background with one host fact changed.
    public func replaying(hostFact key: String, value: Bool?) -> (any DebugSession)? {
        guard let result else { return nil }
        var options = result.options
        options.host = HostFactKey.setting(key, to: value, in: options.host, source: debuggerFactSource)
        let session = ReplaySession.replaying(result.trace, options: options, traceName: traceName, availableProfiles: availableProfiles)
        _ = session.waitUntilFinished(timeout: .milliseconds(300))
        return session
    }

    /// The `--facts` files of the finished replay (scanned once per replay, then cached).
    public func factsFiles() -> [FactsFileUse] {
        guard let result, !result.options.facts.isEmpty else { return [] }
        return cachedFactsFiles { FactsFileUse.of(result) }
    }

    /// The diff of the finished replay against `profile`.
    public func profileDiff(against profile: String) -> ProfileDiffList? {
        guard let result, let other = KernelProfile(named: profile) else { return nil }
        return ProfileDiffList.compute(result, against: other)
    }
}

extension LiveReplaySession {
    /// The host facts of the replay so far.
    public var hostFacts: [HostFactRow] { result.map(HostFactRow.rows(of:)) ?? [] }

    /// Replays what was read with one host fact changed, in place; reading goes on.
    public func replaying(hostFact key: String, value: Bool?) -> (any DebugSession)? {
        var options = self.options
        options.host = HostFactKey.setting(key, to: value, in: options.host, source: debuggerFactSource)
        reconfigure(options)
        _ = waitUntilIdle(timeout: .milliseconds(300))
        return self
    }

    /// The `--facts` files of the replay so far.
    public func factsFiles() -> [FactsFileUse] { shownSession?.factsFiles() ?? [] }

    /// The diff of what was read so far against `profile`.
    public func profileDiff(against profile: String) -> ProfileDiffList? {
        guard let result, let other = KernelProfile(named: profile) else { return nil }
        return ProfileDiffList.compute(result, against: other)
    }
}
