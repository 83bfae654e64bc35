/// Something the user asks for; keys map to commands through `KeyMap`.
public enum Command: Sendable, Hashable, CaseIterable {
    /// Select the next exit (in the current filter).
    case nextExit
    /// Select the previous exit.
    case previousExit
    /// Select the next mismatching exit.
    case nextMismatch
    /// Select the previous mismatching exit.
    case previousMismatch
    /// Select the next exit on the selected exit's vCPU.
    case nextExitOnVCPU
    /// Select the previous exit on the selected exit's vCPU.
    case previousExitOnVCPU
    /// Show only the selected exit's vCPU, or every vCPU again.
    case toggleVCPUFilter
    /// Select the first exit.
    case firstExit
    /// Select the last exit.
    case lastExit
    /// Move the selection one page down.
    case pageDown
    /// Move the selection one page up.
    case pageUp
    /// Move the selection half a page down (C-d, as in less and vi).
    case halfPageDown
    /// Move the selection half a page up (C-u).
    case halfPageUp
    /// Prompt for an exit number (`#12`, `12`) or a timestamp (`22.046641`) and go there.
    case goTo
    /// Prompt for a regex and search forward.
    case searchForward
    /// Prompt for a regex and search backward.
    case searchBackward
    /// Repeat the last search in its direction.
    case repeatSearch
    /// Repeat the last search in the opposite direction.
    case repeatSearchReversed
    /// Prompt for a filter.
    case filter
    /// Remove the filter.
    case clearFilter
    /// Prompt for a breakpoint.
    case addBreakpoint
    /// Remove every breakpoint.
    case clearBreakpoints
    /// Go forward to the next breakpoint hit.
    case continueForward
    /// Go backward to the previous breakpoint hit.
    case continueBackward
    /// Bookmark the selected exit, or remove its bookmark.
    case toggleBookmark
    /// Open the bookmark list.
    case listBookmarks
    /// Prompt for a kernel profile and re-replay with it.
    case switchProfile
    /// Prompt for a file and export the mismatches to it.
    case exportMismatches
    /// Write the selected exit as a `decide` scenario to a new file (never replacing one).
    case exportSelectedScenario
    /// Switch the decision path between one line per step and the full explanation.
    case toggleFullDecisionPath
    /// In the compact layout, show VMCB12 instead of the registers beside the decision path, or back.
    case swapSidePane
    /// Let the focused pane fill the screen, or go back to every pane.
    case toggleZoom
    /// Focus the next pane.
    case focusNext
    /// Focus the previous pane.
    case focusPrevious
    /// Open or close the help overlay.
    case help
    /// Quit, restoring the terminal.
    case quit
    /// Close the overlay or prompt; clear the message.
    case cancel
    /// Scroll the focused pane or overlay down one line.
    case scrollDown
    /// Scroll the focused pane or overlay up one line.
    case scrollUp
    /// Scroll the focused pane or overlay down one page.
    case scrollPageDown
    /// Scroll the focused pane or overlay up one page.
    case scrollPageUp
    /// Scroll the focused pane down half a page.
    case scrollHalfPageDown
    /// Scroll the focused pane up half a page.
    case scrollHalfPageUp
    /// Accept the prompt's input.
    case submit
    /// Delete the character before the prompt's cursor.
    case deleteBackward
    /// Delete the word before the prompt's cursor.
    case deleteWordBackward
    /// Delete the prompt's whole input.
    case clearInput
    /// Show the previous (older) entry of the prompt's history.
    case historyPrevious
    /// Show the next (newer) entry of the prompt's history.
    case historyNext
    /// Complete the word before the prompt's cursor.
    case complete
    /// Jump to the bookmark under the cursor.
    case jumpToBookmark
    /// Delete the bookmark under the cursor.
    case deleteBookmark
    /// Open the host facts and profile pane.
    case showHostFacts
    /// Cycle the host fact under the cursor (as the trace shows → 1 → 0) and replay.
    case cycleHostFact
    /// Ask for a profile and list the exits whose decision differs from this one's.
    case diffProfiles
    /// Jump to the changed exit under the cursor of the diff list.
    case jumpToDiffExit
    /// Open the breakpoint list (`info breakpoints`).
    case listBreakpoints
    /// Enable or disable the breakpoint under the cursor.
    case toggleBreakpointEnabled
    /// Delete the breakpoint under the cursor.
    case deleteBreakpoint
    /// Prompt for a note on the selected exit (or the bookmark under the cursor).
    case annotate
    /// Wrap long lines in the panes, or cut them at the pane's edge.
    case toggleWrap
    /// Open the per-reason summary (the `stats` table).
    case showSummary
    /// Sort the summary by the next column.
    case nextSortColumn
    /// Reverse the summary's order.
    case reverseSort
    /// Show the exits of the summary row under the cursor (filter by its reason and level).
    case filterToSummaryRow
}
