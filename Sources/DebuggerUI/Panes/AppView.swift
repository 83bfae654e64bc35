/// Renders the whole screen for a state: every pane in its layout slot, then overlays.
public enum AppView {
    /// The frame for `state`.
    public static func render(_ state: AppState) -> Screen {
        var screen = Screen(size: state.size)
        let layout = state.layout
        ExitListPane.render(state, in: layout.exitList, into: &screen)
        RateStrip.render(state, in: layout.rateStrip, into: &screen)
        DecisionPathPane.render(state, in: layout.decision, into: &screen)
        RegistersPane.render(state, in: layout.registers, into: &screen)
        VMCBPane.render(state, in: layout.vmcb, into: &screen)
        for x in layout.separators {
            screen.fill(Rect(x: x, y: layout.detailArea.y, width: 1, height: layout.detailArea.height), with: state.glyphs.vertical, style: .dim)
        }
        RawLinesPane.render(state, in: layout.rawLines, into: &screen)
        StatusBar.render(state, in: layout.statusBar, into: &screen)
        PromptLine.render(state, in: layout.promptLine, into: &screen)
        switch state.overlay {
        case .none: break
        case .help(let scroll): HelpOverlay.render(state, scroll: scroll, into: &screen)
        case .bookmarks(let cursor): BookmarksOverlay.render(state, cursor: cursor, into: &screen)
        case .facts(let cursor): FactsOverlay.render(state, cursor: cursor, into: &screen)
        case .profileDiff(let cursor): ProfileDiffOverlay.render(state, cursor: cursor, into: &screen)
        case .breakpoints(let cursor): BreakpointsOverlay.render(state, cursor: cursor, into: &screen)
        case .summary(let cursor): SummaryOverlay.render(state, cursor: cursor, into: &screen)
        }
        return screen
    }
}
