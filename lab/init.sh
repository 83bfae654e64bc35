#!/bin/busybox sh
# svmdbg lab: /init of the initramfs. Loads kvm_amd nested=1, runs every scenario in
# /lab/config under tracefs, trace_pipe, trace-cmd and perf, and writes every artifact
# base64-framed to the second serial port (/dev/ttyS1); lab/run splits them.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
. /lab/config
# results go to the virtio-serial port named "lab" (fast); the second UART is the fallback
OUT=/dev/ttyS1
for d in /sys/class/virtio-ports/*; do
	[ -f "$d/name" ] && [ "$(cat "$d/name")" = lab ] && OUT=/dev/$(basename "$d")
done
[ "$OUT" = /dev/ttyS1 ] && stty -F $OUT raw -echo 2>/dev/null
T=/sys/kernel/tracing
W=/tmp/w
mkdir -p $W /tmp/cap

emit() { # emit NAME FILE
	{ echo "=====SVMLAB-BEGIN $1====="; base64 "$2"; echo "=====SVMLAB-END $1====="; } > $OUT
}
emit_text() { # emit_text NAME TEXT...
	n=$1; shift
	printf '%s\n' "$@" > $W/emit.txt
	emit "$n" $W/emit.txt
}

echo "svmlab-init: loading modules" > /dev/console
for m in $MODULES; do
	args=""
	[ "$m" = kvm-amd ] && args="nested=1"
	if ! insmod /lib/lab-modules/$m.ko $args 2> $W/insmod.err; then
		echo "insmod $m failed: $(cat $W/insmod.err)" >> $W/tools.txt
	fi
done
{
	echo "uname: $(uname -a)"
	echo "cmdline: $(cat /proc/cmdline)"
	echo "cpu_flags: $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2)"
	echo "model_name: $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2)"
	for f in /sys/module/kvm_amd/parameters/* /sys/module/kvm/parameters/*; do
		[ -f "$f" ] && echo "param $f=$(cat $f)"
	done
	ls -l /dev/kvm
	echo "trace_clock: $(cat $T/trace_clock)"
} > $W/env.txt 2>&1
emit env.txt $W/env.txt
: > $W/formats.txt
for f in $T/events/kvm/*/format; do
	echo "== $f" >> $W/formats.txt
	cat $f >> $W/formats.txt
done
emit kvm-event-formats.txt $W/formats.txt
{
	echo "trace-cmd: $(trace-cmd --version 2>&1 | grep -m1 version)"
	echo "perf: $(perf --version 2>&1)"
	cat $W/tools.txt 2>/dev/null
} > $W/tools-head.txt
emit capture-tools-guest.txt $W/tools-head.txt

# trace-cmd extract copies /proc/kallsyms into trace.dat; hide it (tens of MB per file).
: > $W/empty
mount --bind $W/empty /proc/kallsyms 2>/dev/null
# trace.dat carries the format of every event of every system (1600+, ~90 KB per file);
# only kvm events are recorded, so hide the other systems' directories from trace-cmd.
mkdir -p $W/no-events
for d in $T/events/*/; do
	case "$(basename "$d")" in kvm|ftrace) ;; *) mount --bind $W/no-events "$d" 2>/dev/null ;; esac
done
: > $W/empty-printk
mount --bind $W/empty-printk $T/printk_formats 2>/dev/null
echo "$BUFFER_KB" > $T/buffer_size_kb
mkdir -p $T/instances/pipe
P=$T/instances/pipe
echo "$BUFFER_KB" > $P/buffer_size_kb
echo 0 > $T/tracing_on
echo 0 > $P/tracing_on
echo 1 > $T/events/kvm/enable
echo 1 > $P/events/kvm/enable

for name in $SCENARIOS; do
	scn=/lab/scenarios/$name.scn
	vmm_timeout=$(sed -n 's/^[ \t]*timeout[ \t]*=[ \t]*\([0-9]*\).*/\1/p' $scn | tail -1)
	[ -n "$TIMEOUT" ] && vmm_timeout=$TIMEOUT
	[ -z "$vmm_timeout" ] && vmm_timeout=20
	hard=$((vmm_timeout + 30))
	s=$W/$name
	rm -f $W/$name.*
	echo "svmlab-init: scenario $name" > /dev/console
	rc=255; t0=$(date +%s); t1=$t0
	vmm="/bin/svmlab $scn --qemu-cpu $QEMU_CPU --timeout $vmm_timeout"
	if [ "$CAPTURE_ONLY" != 1 ]; then
	echo 0 > $T/tracing_on; echo 0 > $P/tracing_on
	echo > $T/trace; echo > $P/trace
	# trace-cmd extract leaves the top-level events disabled: enable them for every scenario
	echo 1 > $T/events/kvm/enable; echo 1 > $P/events/kvm/enable
	cat $P/trace_pipe > $s.pipe &
	pipe_pid=$!
	echo 1 > $P/tracing_on; echo 1 > $T/tracing_on
	t0=$(date +%s)
	if [ "$PERF" = 0 ]; then
		sh -c "timeout -s KILL $hard $vmm -o $s > $s.vmm.out 2>&1; echo \$? > $s.rc"
		perf_rc=none
	else
		perf record -q $PERF_OPTS -e 'kvm:*' -a -o $s.perf.data -- \
			sh -c "timeout -s KILL $hard $vmm -o $s > $s.vmm.out 2>&1; echo \$? > $s.rc" 2> $s.perf.err
		perf_rc=$?
	fi
	t1=$(date +%s)
	echo 0 > $T/tracing_on; echo 0 > $P/tracing_on
	sleep 0.3
	kill $pipe_pid 2>/dev/null
	wait $pipe_pid 2>/dev/null
	rc=$(cat $s.rc 2>/dev/null || echo 255)
	cp $T/trace $s.trace
	( cd $W && trace-cmd extract -o $s.dat > $s.tc.err 2>&1 )
	tc_rc=$?
	if [ "$rc" = 2 ]; then
		# stopped by its time limit (livelock): cap the text forms here, keep .dat whole
		for f in $s.trace $s.pipe; do
			n=$(wc -l < $f)
			if [ "$n" -gt $((CAP_HEAD + CAP_TAIL)) ]; then
				head -n $CAP_HEAD $f > $f.cap
				echo "# [svmlab] $((n - CAP_HEAD - CAP_TAIL)) of $n lines omitted here (trace capped at first $CAP_HEAD + last $CAP_TAIL lines)" >> $f.cap
				tail -n $CAP_TAIL $f >> $f.cap
				mv $f.cap $f
			fi
		done
	fi
	emit $name.trace $s.trace
	emit $name.pipe $s.pipe
	[ -f $s.dat ] && emit $name.dat $s.dat
	[ -f $s.perf.data ] && emit $name.perf.data $s.perf.data
	[ -f $s.json ] && emit $name.json $s.json
	{
		echo "== $name: svmlab rc=$rc, perf record rc=$perf_rc, trace-cmd extract rc=$tc_rc, seconds=$((t1 - t0))"
		sed 's/^/  svmlab: /' $s.vmm.out 2>/dev/null
		sed 's/^/  perf: /' $s.perf.err 2>/dev/null
		grep -v '^CPU0 data recorded' $s.tc.err 2>/dev/null | sed 's/^/  trace-cmd: /'
	} > $s.log
	emit $name.log $s.log
	fi
	if [ -n "$CAPTURE_CMD" ]; then
		[ "$CAPTURE_ONLY" = 1 ] && t0=$(date +%s)
		out=/tmp/cap/$name
		cvmm="$vmm -o $out.capture"
		cmd=$(printf '%s' "$CAPTURE_CMD" | sed "s|{out}|$out|g; s|{vmm}|$cvmm|g")
		echo > $T/trace; echo 1 > $T/tracing_on
		echo "svmlab-init: capture $name: $cmd" > /dev/console
		timeout -s KILL $((hard + 30)) sh -c "$cmd" > $out.capture-cmd.log 2>&1
		crc=$?
		echo "exit status $crc" >> $out.capture-cmd.log
		# --capture-only: the scenario's status is the capture command's (svmdbg capture
		# returns its COMMAND's exit status)
		[ "$CAPTURE_ONLY" = 1 ] && { rc=$crc; t1=$(date +%s); }
		for f in $out.*; do
			[ -f "$f" ] && emit "$name.${f#$out.}" "$f"
		done
		rm -f $out.*
		echo 0 > $T/tracing_on
	fi
	echo "=====SVMLAB-STATUS $name rc=$rc seconds=$((t1 - t0))=====" > $OUT
	rm -f $W/$name.*
done
dmesg > $W/dmesg.txt
emit dmesg.txt $W/dmesg.txt
echo "=====SVMLAB-FINISHED=====" > $OUT
sync
poweroff -f
