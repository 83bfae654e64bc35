#!/bin/sh
# Launches the debugger N times in a real terminal (tmux, 120x40) and counts the launches
# that are still on the loading screen ("indexing…" / "no exits yet") after WAIT seconds.
# A lost wake-up between the background replay and the UI loop shows up as such a launch.
#
#   scripts/tui-launch-loop.sh [N=200] [TRACE=traces/6.12/msr-prot.trace] [WAIT=5]
#
# Prints one line per stuck launch and a summary; exits 1 when any launch got stuck.
set -u
N=${1:-200}
TRACE=${2:-traces/6.12/msr-prot.trace}
WAIT=${3:-5}
BIN=${SVMDBG:-$(dirname "$0")/../.build/debug/svmdbg}
stuck=0
SOCK=
cleanup() { [ -n "$SOCK" ] && tmux -L "$SOCK" kill-server 2>/dev/null; }
trap cleanup EXIT INT TERM
for i in $(seq 1 "$N"); do
    # A server of its own per launch: reusing a socket races with the previous server's exit.
    SOCK=svmdbg-loop-$$-$i
    tmux -L "$SOCK" new-session -d -x 120 -y 40 env LANG=C.UTF-8 LC_ALL=C.UTF-8 "$BIN" "$TRACE"
    ready=0
    # 20 looks per second until the status bar shows the exit count of a finished replay.
    tries=$((WAIT * 20))
    while [ "$tries" -gt 0 ]; do
        screen=$(tmux -L "$SOCK" capture-pane -p 2>/dev/null)
        case "$screen" in
        *"no exits yet"*|*"indexing"*|"") ;;
        *"#0/"*) ready=1; break ;;
        esac
        sleep 0.05
        tries=$((tries - 1))
    done
    if [ "$ready" -eq 0 ]; then
        stuck=$((stuck + 1))
        echo "launch $i: still loading after ${WAIT}s: $(printf '%s\n' "$screen" | grep -m1 -e indexing -e 'no exits' -e profile)"
    fi
    cleanup
    SOCK=
done
echo "$N launches of $TRACE: $stuck stuck on the loading screen"
[ "$stuck" -eq 0 ]
