import Replay

/// The reducer: the only code that changes `AppState`. It never does I/O; it returns
/// `Effect`s and gets their results back as `Action`s.
extension AppState {
    /// Applies one action and returns what the runtime must do next.
    public mutating func reduce(_ action: Action) -> [Effect] {
        switch action {
        case .keyPressed(let key):
            return handle(key)
        case .resized(let newSize):
            size = newSize
            clampScrolls()
            return []
        case .indexProgressed(let info):
            let grew = info.exitCount > session.exitCount
            let before = session.exitCount
            let notice = info.live.flatMap { $0.noticeSerial != session.live?.noticeSerial ? $0.notice : nil }
            session = info
            if let notice { message = Message(notice) }
            if info.live != nil, info.exitCount < before {
                // The input started over (truncated, replaced): the newest exit of the new one.
                selected = nil
                anchor = nil
                return locate(filter.predicate, from: nil, .backward, purpose: .edge)
            }
            if info.live != nil, grew {
                // Like `less +F`: the newest exit, and after it each new one while the selection is there.
                guard let selected else { return locate(filter.predicate, from: nil, .backward, purpose: .edge) }
                return [.locate(LocateRequest(predicate: filter.predicate, after: selected, direction: .forward, purpose: .follow(before: before)))]
            }
            // New exits may be the first ones, or the first ones that pass the filter.
            if selected == nil, grew { return reselect() }
            return []
        case .sessionReplaced(let info):
            let old = session.profile
            session = info
            continuing = nil
            message = Message(info.progress.isFinished
                ? "replayed with profile \(info.profile) (was \(old)): \(info.counts.mismatch) mismatches"
                : "replaying with profile \(info.profile) (was \(old))…")
            return reselect()
        case .profileSwitchFailed(let profile, let reason):
            message = Message("profile \(profile) failed: \(reason)", isError: true)
            return []
        case .located(let request, let exit):
            return located(request, exit)
        case .timeLocated(let timestamp, let exit):
            guard let exit else {
                message = Message("no exit at or after \(timestamp)", isError: true)
                return []
            }
            return goTo(exit)
        case .viewLoaded(let data):
            view = data
            if let first = data.rows.first { anchor = .top(first.number) }
            clampScrolls()
            if case .bookmarks(let cursor) = overlay { overlay = .bookmarks(cursor: min(cursor, max(0, bookmarks.count - 1))) }
            if case .summary(let cursor) = overlay, let rows = data.summary?.rows.count {
                overlay = .summary(cursor: min(cursor, max(0, rows - 1)))
            }
            return []
        case .exportFinished(let result):
            switch result {
            case .written(let path, let count):
                message = Message("wrote \(count) mismatch\(count == 1 ? "" : "es") to \(path)")
            case .wroteExit(let path, let exit):
                message = Message("wrote exit \(exit) as a decide scenario to \(path) (svmdbg decide \(path))")
            case .fileExists(let path):
                message = nil
                prompt = Prompt(kind: .confirmOverwrite(path: path))
            case .failed(let path, let reason):
                message = Message("export to \(path) failed: \(reason)", isError: true)
            }
            return []
        case .searchUpdated(let update):
            return searchUpdated(update)
        case .continueUpdated(let update):
            return continueUpdated(update)
        case .notesLoaded(let saved, let note):
            bookmarks = Array(Set(bookmarks + saved.bookmarks + Array(saved.notes.keys))).sorted()
            notes.merge(saved.notes) { _, loaded in loaded }
            for b in saved.breakpoints where !breakpoints.contains(where: { $0.predicate == b.predicate }) {
                var added = b
                added.number = b.number >= nextBreakpointNumber ? b.number : nextBreakpointNumber
                breakpoints.append(added)
                nextBreakpointNumber = added.number + 1
            }
            if let note { message = note }
            return []
        case .notesNotSaved(let reason):
            message = Message(reason, isError: true)
            return []
        case .mouse(let event):
            return mouse(event)
        case .interrupted:
            isQuitting = true
            return [.quit]
        case .hostFactChanged(let info, let key, let value):
            session = info
            let now = info.hostFacts.first { $0.key == key }
            let shown = value.map { $0 ? "1" : "0" } ?? "as the trace shows (\(now?.value ?? "unknown"))"
            message = Message(info.progress.isFinished
                ? "\(key)=\(shown): replayed, \(info.counts.mismatch) mismatches"
                : "\(key)=\(shown): replaying…")
            profileDiff = nil  // it described the old facts
            return reselect()
        case .hostFactFailed(let reason):
            message = Message(reason, isError: true)
            return []
        case .profileDiffFinished(let list, let against):
            profileDiffRunning = nil
            guard let list else {
                message = Message("no replay to compare with \(against) yet", isError: true)
                return []
            }
            guard list.first == session.profile else {
                message = Message("the profile changed while comparing with \(against): D compares again")
                return []
            }
            profileDiff = list
            message = Message("\(list.first) vs \(list.second): \(list.rows.count) of \(list.exits) exits decided differently")
            if !list.rows.isEmpty { overlay = .profileDiff(cursor: 0) }
            return []
        }
    }

    // MARK: Search

    private mutating func startSearch(_ query: TextQuery, _ direction: Direction) -> [Effect] {
        guard session.exitCount > 0 else { return [] }
        search = RunningSearch(query: query, direction: direction, progress: SearchUpdate(scanned: 0, total: session.exitCount))
        return [.search(SearchRequest(predicate: searchPredicate(query), after: selected, direction: direction))]
    }

    private mutating func searchUpdated(_ update: SearchUpdate) -> [Effect] {
        guard var running = search else { return [] }  // cancelled meanwhile
        let firstSight = running.progress.found == nil && update.found != nil
        running.progress = update
        search = update.isFinished ? nil : running
        if firstSight, let found = update.found { select(found) }
        guard update.isFinished else { return [] }
        let way = running.direction == .forward ? "forward" : "backward"
        guard let found = update.found, let matches = update.matches, let rank = update.rank else {
            let filtered = filter.isEmpty ? "" : " (filter: \(filter))"
            message = Message("not found \(way): \(running.query.pattern) in \(update.total) exits\(filtered)", isError: true)
            return []
        }
        var text = "/\(running.query.pattern): match \(rank) of \(matches) at \(found)"
        if update.wrapped { text += running.direction == .forward ? " (search wrapped to the top)" : " (search wrapped to the bottom)" }
        message = Message(text)
        return []
    }

    // MARK: Keys

    private mutating func handle(_ key: Key) -> [Effect] {
        let scope = keyScope
        let command = keyMap.command(for: key, in: scope)
        // In the prompt a message lists completions: it stays until the next key.
        if scope != .prompt || command != .complete { message = nil }
        if let command { return perform(command) }
        if scope == .prompt, case .character(let c) = key { prompt?.text.append(c) }
        return []
    }

    private mutating func perform(_ command: Command) -> [Effect] {
        switch command {
        case .nextExit: return step(.forward, steps: 1)
        case .previousExit: return step(.backward, steps: 1)
        case .pageDown: return step(.forward, steps: max(1, layout.listRows - 1))
        case .pageUp: return step(.backward, steps: max(1, layout.listRows - 1))
        case .halfPageDown: return step(.forward, steps: max(1, layout.listRows / 2))
        case .halfPageUp: return step(.backward, steps: max(1, layout.listRows / 2))
        case .nextMismatch: return locate(mismatchPredicate, from: selected, .forward, purpose: .mismatch)
        case .previousMismatch: return locate(mismatchPredicate, from: selected, .backward, purpose: .mismatch)
        case .nextExitOnVCPU, .previousExitOnVCPU:
            guard let vcpu = view.selectedRow?.vcpu else {
                message = Message("the selected exit's vCPU is not known", isError: true)
                return []
            }
            let direction: Direction = command == .nextExitOnVCPU ? .forward : .backward
            return locate(conjoin(filter.predicate, .vcpu(vcpu)), from: selected, direction, purpose: .move)
        case .toggleVCPUFilter:
            if filter.vcpu != nil {
                filter.vcpu = nil
                message = Message(filter.isEmpty ? "every vCPU shown" : "every vCPU shown; filter: \(filter)")
                return reselect()
            }
            guard let vcpu = view.selectedRow?.vcpu else {
                message = Message("the selected exit's vCPU is not known", isError: true)
                return []
            }
            filter.vcpu = vcpu
            message = Message("only vCPU \(vcpu) shown (V shows every vCPU)")
            return reselect()
        case .firstExit: return locate(filter.predicate, from: nil, .forward, purpose: .edge)
        case .lastExit: return locate(filter.predicate, from: nil, .backward, purpose: .edge)
        case .goTo: prompt = Prompt(kind: .goTo)
        case .searchForward: prompt = Prompt(kind: .search(.forward))
        case .searchBackward: prompt = Prompt(kind: .search(.backward))
        case .repeatSearch, .repeatSearchReversed:
            guard let last = lastSearch else {
                message = Message("no previous search (/ or \\ starts one)", isError: true)
                return []
            }
            let direction = command == .repeatSearch ? last.direction : last.direction.reversed
            return startSearch(last.query, direction)
        case .filter: prompt = Prompt(kind: .filter)  // the current filter is one Up away
        case .clearFilter:
            guard !filter.isEmpty else {
                message = Message("no filter set")
                return []
            }
            filter = ExitFilter()
            message = Message("filter cleared")
            return reselect()
        case .addBreakpoint: prompt = Prompt(kind: .breakpoint)
        case .clearBreakpoints:
            message = Message(breakpoints.isEmpty ? "no breakpoints set" : "deleted \(breakpoints.count) breakpoint(s)")
            breakpoints = []
            if case .breakpoints = overlay { overlay = .none }
        case .continueForward, .continueBackward:
            let enabled = breakpoints.filter(\.isEnabled)
            guard !enabled.isEmpty else {
                message = Message(breakpoints.isEmpty ? "no breakpoints (b sets one)" : "every breakpoint is disabled (B lists them)", isError: true)
                return []
            }
            guard let selected else { return [] }
            let direction: Direction = command == .continueForward ? .forward : .backward
            let request = ContinueRequest(
                breakpoints: enabled.map { var b = $0; b.predicate = conjoin(filter.predicate, b.predicate); return b },
                after: selected, direction: direction)
            continuing = RunningContinue(direction: direction, progress: ContinueUpdate(scanned: 0, total: 0))
            return [.continueTo(request)]
        case .listBreakpoints:
            guard !breakpoints.isEmpty else {
                message = Message("no breakpoints (b sets one)")
                return []
            }
            overlay = .breakpoints(cursor: 0)
        case .toggleBreakpointEnabled:
            guard case .breakpoints(let cursor) = overlay, breakpoints.indices.contains(cursor) else { return [] }
            breakpoints[cursor].isEnabled.toggle()
            let b = breakpoints[cursor]
            message = Message("breakpoint \(b.number) \(b.isEnabled ? "enabled" : "disabled")")
        case .deleteBreakpoint:
            guard case .breakpoints(let cursor) = overlay, breakpoints.indices.contains(cursor) else { return [] }
            let removed = breakpoints.remove(at: cursor)
            message = Message("deleted breakpoint \(removed.number): \(removed.text)")
            overlay = breakpoints.isEmpty ? .none : .breakpoints(cursor: min(cursor, breakpoints.count - 1))
        case .annotate:
            var exit = selected
            if case .bookmarks(let cursor) = overlay, bookmarks.indices.contains(cursor) { exit = bookmarks[cursor] }
            guard let exit else { return [] }
            prompt = Prompt(kind: .note(exit), text: notes[exit] ?? "")
        case .toggleWrap:
            wrapsLines.toggle()
            clampScrolls()
            message = Message(wrapsLines ? "long lines wrap (w cuts them)" : "long lines cut at the pane's edge (w wraps them)")
        case .showSummary:
            overlay = .summary(cursor: 0)
        case .nextSortColumn:
            let all = SummarySort.Column.allCases
            let next = all[((all.firstIndex(of: summarySort.column) ?? 0) + 1) % all.count]
            summarySort = SummarySort(column: next, descending: next != .reason)
            overlay = .summary(cursor: 0)
        case .reverseSort:
            summarySort.descending.toggle()
            overlay = .summary(cursor: 0)
        case .filterToSummaryRow:
            guard case .summary(let cursor) = overlay, let summary = view.summary else { return [] }
            let rows = summary.sorted(summarySort)
            guard rows.indices.contains(cursor) else { return [] }
            let row = rows[cursor]
            var newFilter = ExitFilter(reason: row.reason)
            if row.level == "L1" { newFilter.level = .l1 } else if row.level == "L2" { newFilter.level = .l2 }
            filter = newFilter
            overlay = .none
            message = Message("filter: \(newFilter) (\(row.count) exit\(row.count == 1 ? "" : "s"); F clears it)")
            return [.locate(LocateRequest(predicate: filter.predicate, after: nil, direction: .forward, purpose: .reselect(fallback: true)))]
        case .toggleBookmark:
            guard let selected else { return [] }
            if let index = bookmarks.firstIndex(of: selected) {
                bookmarks.remove(at: index)
                message = Message("removed bookmark \(selected)" + (notes.removeValue(forKey: selected) != nil ? " and its note" : ""))
            } else {
                bookmarks.append(selected)
                bookmarks.sort()
                message = Message("bookmarked \(selected)")
            }
        case .listBookmarks:
            guard !bookmarks.isEmpty else {
                message = Message("no bookmarks (m sets one)")
                return []
            }
            let cursor = selected.flatMap { s in bookmarks.lastIndex(where: { $0 <= s }) } ?? 0
            overlay = .bookmarks(cursor: cursor)
        case .switchProfile: prompt = Prompt(kind: .profile)
        case .exportMismatches: prompt = Prompt(kind: .exportPath)
        case .exportSelectedScenario:
            guard let selected else {
                message = Message("no exit selected; nothing exported", isError: true)
                return []
            }
            let base = (session.traceName.split(separator: "/").last.map(String.init) ?? "trace")
            let path = "\(base).exit-\(selected.rawValue).scenario"
            message = Message("exporting exit \(selected) to \(path)…")
            return [.export(ExportRequest(path: path, format: .scenario, overwrite: false, exit: selected))]
        case .toggleFullDecisionPath:
            showsFullDecisionPath.toggle()
            scroll[.decision] = 0
        case .swapSidePane:
            guard layout.isCompact else {
                message = Message("registers and VMCB12 are both on screen at this size")
                return []
            }
            compactSide = compactSide == .vmcb ? .registers : .vmcb
            if focus == .registers || focus == .vmcb { focus = compactSide }
        case .toggleZoom:
            isZoomed.toggle()
            clampScrolls()
        case .focusNext: moveFocus(by: 1)
        case .focusPrevious: moveFocus(by: -1)
        case .help: overlay = .help(scroll: 0)
        case .quit:
            isQuitting = true
            return [.quit]
        case .cancel:
            if let running = continuing, prompt == nil, overlay == .none {
                continuing = nil
                let p = running.progress
                let percent = p.total > 0 ? p.scanned * 100 / p.total : 0
                message = Message("continue stopped at \(percent)% (\(p.scanned) exits looked at); no breakpoint hit")
                return [.cancelContinue]
            }
            if let running = search, prompt == nil, overlay == .none {
                search = nil
                let percent = running.progress.total > 0 ? running.progress.scanned * 100 / running.progress.total : 0
                message = Message("search cancelled at \(percent)%" + (running.progress.found.map { "; \($0) matched" } ?? ""))
                return [.cancelSearch]
            }
            cancel()
        case .scrollDown: scrollBy(1)
        case .scrollUp: scrollBy(-1)
        case .scrollPageDown: scrollBy(max(1, pageHeight - 1))
        case .scrollPageUp: scrollBy(-max(1, pageHeight - 1))
        case .scrollHalfPageDown: scrollBy(max(1, pageHeight / 2))
        case .scrollHalfPageUp: scrollBy(-max(1, pageHeight / 2))
        case .submit: return submitPrompt()
        case .deleteBackward:
            if prompt?.text.isEmpty == false { prompt?.text.removeLast() }
        case .deleteWordBackward: prompt?.deleteWordBackward()
        case .clearInput: prompt?.text = ""
        case .historyPrevious: recall(older: true)
        case .historyNext: recall(older: false)
        case .complete: complete()
        case .showHostFacts:
            overlay = .facts(cursor: 0)
        case .cycleHostFact:
            guard case .facts(let cursor) = overlay, session.hostFacts.indices.contains(cursor) else { return [] }
            let row = session.hostFacts[cursor]
            guard row.isToggle else {
                message = Message("\(row.key) is a number: give it with --host \(row.key)=N", isError: true)
                return []
            }
            guard session.progress.isFinished else {
                message = Message("the trace is still loading; change facts when it is ready", isError: true)
                return []
            }
            return [.setHostFact(row.key, HostFactKey.next(after: row))]
        case .diffProfiles:
            prompt = Prompt(kind: .diffProfile)
        case .jumpToDiffExit:
            guard case .profileDiff(let cursor) = overlay, let rows = profileDiff?.rows, rows.indices.contains(cursor) else { return [] }
            overlay = .none
            return goTo(rows[cursor].exit)
        case .jumpToBookmark:
            guard case .bookmarks(let cursor) = overlay, bookmarks.indices.contains(cursor) else { return [] }
            overlay = .none
            return goTo(bookmarks[cursor])
        case .deleteBookmark:
            guard case .bookmarks(let cursor) = overlay, bookmarks.indices.contains(cursor) else { return [] }
            let removed = bookmarks.remove(at: cursor)
            message = Message("removed bookmark \(removed)" + (notes.removeValue(forKey: removed) != nil ? " and its note" : ""))
            overlay = bookmarks.isEmpty ? .none : .bookmarks(cursor: min(cursor, bookmarks.count - 1))
        }
        return []
    }

    private mutating func cancel() {
        if let open = prompt {
            prompt = nil
            if case .confirmOverwrite(let path) = open.kind { message = Message("export cancelled; \(path) left as it was") }
            return
        }
        switch overlay {
        case .help, .bookmarks, .facts, .profileDiff, .breakpoints, .summary:
            overlay = .none
        case .none:
            if focus != .exitList { focus = .exitList }
        }
    }

    private mutating func moveFocus(by delta: Int) {
        let all = Focus.allCases
        guard let index = all.firstIndex(of: focus) else { return }
        focus = all[(index + delta + all.count) % all.count]
        if focus == .registers || focus == .vmcb { compactSide = focus }
    }

    // MARK: Prompts

    /// Up/Down in the prompt: steps through its history; past the newest entry the text
    /// typed before is back.
    private mutating func recall(older: Bool) {
        guard var open = prompt, let kind = open.kind.history else { return }
        let entries = promptHistory[kind] ?? []
        let current = open.historyPosition
        let next: Int?
        if older {
            next = min((current ?? -1) + 1, entries.count - 1)
            guard let n = next, n >= 0 else { return }
        } else {
            guard let current else { return }
            next = current == 0 ? nil : current - 1
        }
        if current == nil { open.draft = open.text }
        open.historyPosition = next
        open.text = next.map { entries[entries.count - 1 - $0] } ?? open.draft
        prompt = open
    }

    /// Tab in the prompt: completes the last word from the words this prompt accepts; with
    /// several candidates, extends to their common prefix and lists them.
    private mutating func complete() {
        guard var open = prompt else { return }
        let candidates = PromptCompletion.candidates(for: open.kind, text: open.text, session: session)
        let word = PromptCompletion.lastWord(of: open.text)
        let matching = candidates.filter { $0.lowercased().hasPrefix(word.lowercased()) }
        guard !matching.isEmpty else {
            message = Message(candidates.isEmpty ? "nothing to complete here" : "no completion for '\(word)'", isError: true)
            return
        }
        let base = String(open.text.dropLast(word.count))
        if matching.count == 1 {
            open.text = base + matching[0] + " "
        } else {
            let common = PromptCompletion.commonPrefix(matching)
            if common.count > word.count { open.text = base + common }
            message = Message(matching.prefix(12).joined(separator: "  ") + (matching.count > 12 ? "  …" : ""))
        }
        prompt = open
    }

    private mutating func remember(_ text: String, in kind: PromptKind) {
        guard let history = kind.history, !text.isEmpty else { return }
        var entries = promptHistory[history] ?? []
        entries.removeAll { $0 == text }
        entries.append(text)
        if entries.count > PromptHistory.limit { entries.removeFirst(entries.count - PromptHistory.limit) }
        promptHistory[history] = entries
    }

    private mutating func submitPrompt() -> [Effect] {
        guard let open = prompt else { return [] }
        prompt = nil
        let text = open.text.trimmedOfSpaces
        remember(text, in: open.kind)
        switch open.kind {
        case .goTo:
            if text.contains(".") || text.hasPrefix("@") {
                guard let timestamp = TimeText.timestamp(text) else {
                    message = Message("not a timestamp: '\(text)' (e.g. 22.046641, or @ticks)", isError: true)
                    return []
                }
                return [.locateTime(timestamp)]
            }
            let digits = text.hasPrefix("#") ? String(text.dropFirst()) : text
            guard let n = Int(digits), n >= 0 else {
                message = Message("not an exit number: '\(text)' (e.g. #12)", isError: true)
                return []
            }
            guard session.exitCount > 0 else { return [] }
            if n >= session.exitCount { message = Message("only \(session.exitCount) exits indexed; going to the last") }
            return goTo(ExitNumber(min(n, session.exitCount - 1)))
        case .search(let direction):
            let query: TextQuery
            if text.isEmpty {
                guard let last = lastSearch else { return [] }
                query = last.query
            } else {
                do {
                    _ = try Regex(text)
                } catch {
                    message = Message("bad regex: \(text)", isError: true)
                    return []
                }
                // Smart case: a capital letter in the pattern makes the search case-sensitive.
                query = TextQuery(pattern: text, caseSensitive: text.contains(where: \.isUppercase))
            }
            lastSearch = LastSearch(query: query, direction: direction)
            return startSearch(query, direction)
        case .filter:
            guard !text.isEmpty else {
                filter = ExitFilter()
                return reselect()
            }
            switch PredicateParser.filter(text) {
            case .success(let newFilter):
                filter = newFilter
                message = Message("filter: \(newFilter)")
                return reselect()
            case .failure(let failure):
                message = Message(failure.message, isError: true)
            }
        case .breakpoint:
            if breakpointCommand(text) { return [] }
            switch PredicateParser.breakpoint(text) {
            case .success(var breakpoint):
                if let existing = breakpoints.first(where: { $0.predicate == breakpoint.predicate }) {
                    message = Message("breakpoint \(existing.number) is already \(existing.text)")
                } else {
                    breakpoint.number = nextBreakpointNumber
                    nextBreakpointNumber += 1
                    breakpoints.append(breakpoint)
                    message = Message("Breakpoint \(breakpoint.number): \(breakpoint) (c / C continue, B lists)")
                }
            case .failure(let failure):
                message = Message(failure.message, isError: true)
            }
        case .diffProfile:
            guard !text.isEmpty else { return [] }
            guard session.availableProfiles.contains(text) else {
                message = Message("unknown profile '\(text)'; known: \(session.availableProfiles.joined(separator: ", "))", isError: true)
                return []
            }
            if text == session.profile {
                message = Message("\(text) is the profile replayed: pick another to compare with", isError: true)
                return []
            }
            if let list = profileDiff, list.second == text, list.first == session.profile {
                overlay = .profileDiff(cursor: 0)
                return []
            }
            profileDiffRunning = text
            message = Message("comparing \(session.profile) with \(text)…")
            return [.profileDiff(text)]
        case .note(let exit):
            if text.isEmpty {
                message = Message(notes.removeValue(forKey: exit) == nil ? "no note on \(exit)" : "removed the note on \(exit)")
            } else {
                notes[exit] = text
                if !bookmarks.contains(exit) {
                    bookmarks.append(exit)
                    bookmarks.sort()
                }
                message = Message("note on \(exit): \(text)")
            }
        case .profile:
            guard !text.isEmpty else { return [] }
            if text == session.profile {
                message = Message("already replayed with profile \(text)")
            } else if session.availableProfiles.contains(text) {
                message = Message("replaying with profile \(text)…")
                return [.switchProfile(text)]
            } else {
                let known = session.availableProfiles.joined(separator: ", ")
                message = Message("unknown profile '\(text)'; known: \(known)", isError: true)
            }
        case .exportPath:
            guard !text.isEmpty else {
                message = Message("no file name given; nothing exported", isError: true)
                return []
            }
            guard let format = ExportRequest.format(forPath: text) else {
                message = Message("name the file .jsonl, .csv, .md, .trace or .scenario to pick the format", isError: true)
                return []
            }
            message = Message("exporting to \(text)…")
            return [.export(ExportRequest(path: text, format: format, overwrite: false))]
        case .confirmOverwrite(let path):
            if ["y", "yes"].contains(text.lowercased()), let format = ExportRequest.format(forPath: path) {
                message = Message("exporting to \(path)…")
                return [.export(ExportRequest(path: path, format: format, overwrite: true))]
            }
            message = Message("export cancelled; \(path) left as it was")
        }
        return []
    }

    /// `delete [N…]`, `enable N…`, `disable N…` typed at the breakpoint prompt, as in gdb;
    /// false when the text is a condition.
    private mutating func breakpointCommand(_ text: String) -> Bool {
        let words = text.split(separator: " ").map(String.init)
        guard let verb = words.first?.lowercased(), ["delete", "d", "enable", "disable"].contains(verb) else { return false }
        var numbers: [Int] = []
        for word in words.dropFirst() {
            guard let n = Int(word.hasPrefix("#") ? String(word.dropFirst()) : word) else {
                message = Message("\(verb) takes breakpoint numbers, not '\(word)'", isError: true)
                return true
            }
            numbers.append(n)
        }
        if numbers.isEmpty {
            guard verb == "delete" || verb == "d" else {
                message = Message("\(verb) which breakpoint? (e.g. \(verb) 2)", isError: true)
                return true
            }
            message = Message(breakpoints.isEmpty ? "no breakpoints set" : "deleted \(breakpoints.count) breakpoint(s)")
            breakpoints = []
            return true
        }
        let unknown = numbers.filter { n in !breakpoints.contains { $0.number == n } }
        guard unknown.isEmpty else {
            message = Message("no breakpoint number \(unknown.map(String.init).joined(separator: ", "))", isError: true)
            return true
        }
        switch verb {
        case "enable", "disable":
            for i in breakpoints.indices where numbers.contains(breakpoints[i].number) { breakpoints[i].isEnabled = verb == "enable" }
            message = Message("\(verb)d breakpoint\(numbers.count == 1 ? "" : "s") \(numbers.map(String.init).joined(separator: ", "))")
        default:
            breakpoints.removeAll { numbers.contains($0.number) }
            message = Message("deleted breakpoint\(numbers.count == 1 ? "" : "s") \(numbers.map(String.init).joined(separator: ", "))")
        }
        return true
    }

    // MARK: Continue

    private mutating func continueUpdated(_ update: ContinueUpdate) -> [Effect] {
        guard var running = continuing else { return [] }  // stopped meanwhile
        running.progress = update
        continuing = update.isFinished ? nil : running
        guard update.isFinished else { return [] }
        guard let hit = update.hit else {
            message = Message("no breakpoint hit \(running.direction == .forward ? "forward" : "backward")")
            return []
        }
        var texts: [String] = []
        for i in breakpoints.indices where update.numbers.contains(breakpoints[i].number) {
            breakpoints[i].hits += 1
            texts.append(breakpoints[i].text)
        }
        let numbers = update.numbers.map(String.init).joined(separator: ", ")
        message = Message("Breakpoint\(update.numbers.count == 1 ? "" : "s") \(numbers), exit \(hit) (\(texts.joined(separator: "; ")))")
        select(hit)
        return []
    }

    // MARK: Mouse

    private mutating func mouse(_ event: MouseEvent) -> [Effect] {
        guard prompt == nil else { return [] }
        if overlay != .none {
            // The wheel moves the overlay's cursor; a click outside closes it.
            switch event.kind {
            case .wheelUp: scrollBy(-3)
            case .wheelDown: scrollBy(3)
            case .click: break
            }
            return []
        }
        let layout = self.layout
        let panes: [Focus] = [.exitList, .decision, .registers, .vmcb, .rawLines]
        guard let pane = panes.first(where: { layout.rect(of: $0).contains(x: event.x, y: event.y) }) else { return [] }
        switch event.kind {
        case .click:
            focus = pane
            if pane == .registers || pane == .vmcb { compactSide = pane }
            if pane == .exitList {
                let row = event.y - layout.exitList.y - 1
                if view.rows.indices.contains(row) { select(view.rows[row].number) }
            }
            return []
        case .wheelUp, .wheelDown:
            let delta = event.kind == .wheelDown ? 3 : -3
            if pane == .exitList { return step(delta > 0 ? .forward : .backward, steps: abs(delta)) }
            scroll[pane] = (scroll[pane] ?? 0) + delta
            clampScrolls()
            return []
        }
    }

    // MARK: Navigation

    private var mismatchPredicate: ExitPredicate { conjoin(filter.predicate, .verdict(.mismatch)) }
    private func searchPredicate(_ query: TextQuery) -> ExitPredicate { conjoin(filter.predicate, .text(query)) }

    private func conjoin(_ a: ExitPredicate, _ b: ExitPredicate) -> ExitPredicate {
        if a == .any { return b }
        return .all([a, b])
    }

    private func step(_ direction: Direction, steps: Int) -> [Effect] {
        guard let selected else { return [] }
        return [.locate(LocateRequest(predicate: filter.predicate, after: selected, direction: direction, steps: steps, purpose: .move))]
    }

    private func locate(_ predicate: ExitPredicate, from: ExitNumber?, _ direction: Direction, purpose: LocatePurpose) -> [Effect] {
        if from == nil, purpose != .edge { return [] }
        return [.locate(LocateRequest(predicate: predicate, after: from, direction: direction, purpose: purpose))]
    }

    /// Selects `exit` if the filter lets it through, else the next exit that does.
    private mutating func goTo(_ exit: ExitNumber) -> [Effect] {
        let after = exit.rawValue == 0 ? nil : ExitNumber(exit.rawValue - 1)
        return [.locate(LocateRequest(predicate: filter.predicate, after: after, direction: .forward, purpose: .goTo(exit)))]
    }

    /// Keeps the selection valid: the selected exit if it still matches, else the next
    /// matching one, else the previous one.
    private func reselect() -> [Effect] {
        let after = selected.flatMap { $0.rawValue == 0 ? nil : ExitNumber($0.rawValue - 1) }
        return [.locate(LocateRequest(predicate: filter.predicate, after: after, direction: .forward, purpose: .reselect(fallback: false)))]
    }

    private mutating func located(_ request: LocateRequest, _ exit: ExitNumber?) -> [Effect] {
        if case .follow(let before) = request.purpose {
            // The next exit after the selection is a new one: the selection was the last.
            guard let exit, exit.rawValue >= before else { return [] }
            return locate(filter.predicate, from: nil, .backward, purpose: .edge)
        }
        let way = request.direction == .forward ? "forward" : "backward"
        guard let exit else {
            switch request.purpose {
            case .move, .edge, .follow:
                break
            case .mismatch:
                message = Message("no mismatch \(way) of \(selected?.description ?? "here")")
            case .search:
                let pattern = lastSearch?.query.pattern ?? ""
                message = Message("not found \(way): \(pattern)", isError: true)
            case .breakpoint:
                message = Message("no breakpoint hit \(way)")
            case .goTo(let asked):
                message = Message("no exit at or after \(asked) passes the filter (\(filter))", isError: true)
            case .reselect(let fallback):
                if !fallback {
                    return [.locate(LocateRequest(predicate: filter.predicate, after: selected, direction: .backward, purpose: .reselect(fallback: true)))]
                }
                selected = nil
                anchor = nil
                if !filter.isEmpty { message = Message("no exit passes the filter (\(filter)); F clears it", isError: true) }
            }
            return []
        }
        switch request.purpose {
        case .goTo(let asked) where asked != exit:
            message = Message("\(asked) is hidden by the filter; showing \(exit)")
        case .breakpoint:
            message = Message("breakpoint hit at \(exit)")  // continues run as `ContinueJob`s now
        case .reselect:
            if selected != exit { anchor = .top(exit) }
        case .move, .edge, .mismatch, .search, .goTo, .follow:
            break
        }
        select(exit)
        return []
    }

    private mutating func select(_ exit: ExitNumber) {
        if selected != exit { scroll = [:] }
        selected = exit
        let rows = view.rows
        if let first = rows.first?.number, let last = rows.last?.number {
            if exit < first {
                anchor = .top(exit)
            } else if exit > last {
                anchor = .bottom(exit)
            } else if anchor == nil {
                anchor = .top(first)
            }
        } else {
            anchor = .top(exit)
        }
    }

    // MARK: Scrolling

    private var pageHeight: Int {
        switch overlay {
        case .help, .bookmarks, .facts, .profileDiff, .breakpoints, .summary: return max(1, size.rows - 6)
        case .none: return max(1, layout.rect(of: focus).height - 1)
        }
    }

    private mutating func scrollBy(_ delta: Int) {
        switch overlay {
        case .help(let offset):
            overlay = .help(scroll: max(0, min(offset + delta, HelpOverlay.maxScroll(self))))
        case .bookmarks(let cursor):
            overlay = .bookmarks(cursor: max(0, min(cursor + delta, bookmarks.count - 1)))
        case .facts(let cursor):
            overlay = .facts(cursor: max(0, min(cursor + delta, session.hostFacts.count - 1)))
        case .profileDiff(let cursor):
            overlay = .profileDiff(cursor: max(0, min(cursor + delta, (profileDiff?.rows.count ?? 1) - 1)))
        case .breakpoints(let cursor):
            overlay = .breakpoints(cursor: max(0, min(cursor + delta, breakpoints.count - 1)))
        case .summary(let cursor):
            overlay = .summary(cursor: max(0, min(cursor + delta, (view.summary?.rows.count ?? 1) - 1)))
        case .none:
            guard focus != .exitList else { return }
            scroll[focus] = (scroll[focus] ?? 0) + delta
            clampScrolls()
        }
    }

    /// Clamps every scroll offset to its pane's content at the current size.
    mutating func clampScrolls() {
        for pane in Array(scroll.keys) {
            let limit = maxScroll(of: pane)
            scroll[pane] = max(0, min(scroll[pane] ?? 0, limit))
        }
        if case .help(let offset) = overlay { overlay = .help(scroll: max(0, min(offset, HelpOverlay.maxScroll(self)))) }
    }

    /// The largest useful scroll offset of a detail pane.
    public func maxScroll(of pane: Focus) -> Int {
        let rect = layout.rect(of: pane)
        let visible = max(0, rect.height - 1)
        let total: Int
        switch pane {
        case .exitList: return 0
        case .decision: total = DecisionPathPane.lines(for: self, width: lineWidth(rect.width)).count
        case .registers: total = RegistersPane.lines(for: self, width: lineWidth(rect.width)).count
        case .vmcb: total = VMCBPane.lines(for: self, width: lineWidth(rect.width)).count
        case .rawLines: total = view.detail?.rawLines.count ?? 0
        }
        return max(0, total - visible)
    }
}
