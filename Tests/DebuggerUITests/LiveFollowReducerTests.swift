import DebuggerUI
import Testing

/// The selection of a live trace (`--follow`, `--pipe`) as `less +F` moves it: onto the newest
/// exit while it is on the last one, nowhere otherwise.
@Suite struct LiveFollowReducerTests {
    static func info(_ exits: Int, notice: String? = nil, serial: Int = 0) -> SessionInfo {
        SessionInfo(
            traceName: "growing.trace", profile: "6.12", availableProfiles: ["6.12"], exitCount: exits,
            counts: VerdictCounts(match: exits, mismatch: 0, undetermined: 0, notModelled: 0),
            progress: IndexingProgress(bytesDone: 1, bytesTotal: 1, isFinished: true),
            live: LiveStatus(kind: .file, lines: exits * 3, notice: notice, noticeSerial: serial))
    }

    static func locates(_ effects: [Effect]) -> [LocateRequest] {
        effects.compactMap { if case .locate(let request) = $0 { return request } else { return nil } }
    }

    @Test("nothing selected: the newest exit is selected; on the last exit new ones are followed; elsewhere the selection stays")
    func follows() throws {
        var state = AppState(size: Size(columns: 120, rows: 40), glyphs: .unicode)
        // First exits: the last one is asked for.
        let first = Self.locates(state.reduce(.indexProgressed(Self.info(3))))
        #expect(first.count == 1 && first[0].after == nil && first[0].direction == .backward && first[0].purpose == .edge)
        _ = state.reduce(.located(first[0], ExitNumber(2)))
        #expect(state.selected == ExitNumber(2))

        // Two more exits while #2 (the last) is selected: the next exit after #2 is a new one, so it follows.
        let grow = Self.locates(state.reduce(.indexProgressed(Self.info(5))))
        #expect(grow.count == 1 && grow[0].after == ExitNumber(2) && grow[0].purpose == .follow(before: 3))
        let toEnd = Self.locates(state.reduce(.located(grow[0], ExitNumber(3))))
        #expect(toEnd.count == 1 && toEnd[0].purpose == .edge && toEnd[0].direction == .backward)
        _ = state.reduce(.located(toEnd[0], ExitNumber(4)))
        #expect(state.selected == ExitNumber(4))

        // Not on the last: the next exit after the selection is an old one, nothing moves.
        _ = state.reduce(.located(LocateRequest(predicate: .any, after: nil, direction: .forward, purpose: .edge), ExitNumber(1)))
        #expect(state.selected == ExitNumber(1))
        let stay = Self.locates(state.reduce(.indexProgressed(Self.info(7))))
        #expect(stay.count == 1)
        #expect(Self.locates(state.reduce(.located(stay[0], ExitNumber(2)))).isEmpty)
        #expect(state.selected == ExitNumber(1))
    }

    @Test("a notice (truncated, ended) is shown once; a shrunk trace drops the selection and asks for the newest exit")
    func noticesAndRestart() {
        var state = AppState(size: Size(columns: 120, rows: 40), glyphs: .unicode)
        _ = state.reduce(.indexProgressed(Self.info(5)))
        _ = state.reduce(.located(LocateRequest(predicate: .any, after: nil, direction: .backward, purpose: .edge), ExitNumber(4)))
        let restart = Self.locates(state.reduce(.indexProgressed(Self.info(2, notice: "growing.trace was truncated: reading it again from the start", serial: 1))))
        #expect(state.message?.text == "growing.trace was truncated: reading it again from the start")
        #expect(state.selected == nil)
        #expect(restart.count == 1 && restart[0].purpose == .edge && restart[0].direction == .backward)
        state.message = nil
        _ = state.reduce(.indexProgressed(Self.info(3, notice: "growing.trace was truncated: reading it again from the start", serial: 1)))
        #expect(state.message == nil)  // the same notice is not shown again
    }
}
