#!/bin/sh
# Runs inside the lab VM (L0) as lab/run's capture command, for lab/capture-open-check:
# `svmdbg capture --open` in a tmux pane while the scenario's VMM runs, the pane captured
# while it runs and after, then `q`. usage: capture-open-guest.sh OUT VMM-COMMAND...
# Leaves OUT.open.trace (the capture), OUT.screen-N.txt, OUT.screen-final.txt,
# OUT.open-stderr.txt, OUT.open-status (svmdbg's exit status) and OUT.check.txt.
out="$1"; shift
mkdir -p /dev/pts
grep -q ' /dev/pts ' /proc/mounts || mount -t devpts devpts /dev/pts
mkdir -p /tmp/terminfo && tar xf /extra/capture-open-terminfo.tar -C /tmp/terminfo
mkdir -p /usr/lib/locale && tar xf /extra/capture-open-locale.tar -C /usr/lib/locale
export TERMINFO=/tmp/terminfo TERM=tmux-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 HOME=/tmp TMUX_TMPDIR=/tmp
tmux=/extra/tmux svmdbg=/extra/svmdbg-r
start=$(date +%s)
$tmux -u new-session -d -s open -x 120 -y 40 \
	"$svmdbg capture --open -o $out.open.trace 2> $out.open-stderr.txt; echo \$? > $out.open-status" \
	|| { echo "tmux did not start" > $out.check.txt; "$@"; exit 1; }
# Wait until the capture records (its stderr says so) and the debugger drew its screen.
i=0
while [ $i -lt 900 ] && [ ! -f $out.open-status ] && ! grep -q 'recording into' $out.open-stderr.txt 2>/dev/null; do sleep 0.2; i=$((i + 1)); done
sleep 3
$tmux capture-pane -p -t open > $out.screen-0.txt
echo "debugger up after $(( $(date +%s) - start )) s" > $out.check.txt
"$@" &
vmm=$!
n=1
while kill -0 $vmm 2>/dev/null; do
	sleep 1
	$tmux capture-pane -p -t open > $out.screen-$n.txt
	n=$((n + 1))
done
wait $vmm
vrc=$?
echo "vmm exit status $vrc after $(( $(date +%s) - start )) s, $n screens while it ran" >> $out.check.txt
# Let the last exits show up, then capture the final screen and quit with q.
sleep 4
$tmux capture-pane -p -t open > $out.screen-final.txt
$tmux send-keys -t open q
i=0
while [ $i -lt 300 ] && $tmux has-session -t open 2>/dev/null; do sleep 0.2; i=$((i + 1)); done
if $tmux has-session -t open 2>/dev/null; then
	echo "debugger still running 60 s after q" >> $out.check.txt
	$tmux capture-pane -p -t open > $out.screen-stuck.txt
	$tmux kill-server
fi
echo "svmdbg exit status $(cat $out.open-status 2>/dev/null || echo none), trace $(wc -c < $out.open.trace 2>/dev/null || echo 0) bytes" >> $out.check.txt
ls /sys/kernel/tracing/instances/ >> $out.check.txt 2>&1
grep svmdbg /sys/kernel/tracing/dynamic_events >> $out.check.txt 2>&1 || echo "no svmdbg probes left in dynamic_events" >> $out.check.txt
exit $vrc
