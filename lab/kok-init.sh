#!/bin/busybox sh
# svmdbg lab, KVM-on-KVM mode: /init of L0's initramfs. Loads kvm_amd nested=1, starts
# Debian's QEMU with -enable-kvm to run L1 (a Debian kernel whose /init is kok-l1-init.sh),
# and answers L1's control lines on a QEMU pipe chardev: on "ready NAME" it clears and starts
# every tracer of today's lab (tracefs trace, trace_pipe of instance "pipe", perf record),
# on "end NAME" it stops them, runs trace-cmd extract and sends every artifact base64-framed
# to the virtio-serial port "lab" (the second UART is the fallback); lab/run-kok splits them.
# L1's own artifacts (its kvm:* trace ...) are forwarded as they come, framed the same way.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
. /lab/config
echo "svmlab-init: loading modules" > /dev/console
W=/tmp/w
mkdir -p $W
for m in $MODULES; do
	args=""
	[ "$m" = kvm-amd ] && args="nested=1"
	if ! insmod /lib/lab-modules/$m.ko $args 2> $W/insmod.err; then
		echo "insmod $m failed: $(cat $W/insmod.err)" >> $W/tools.txt
	fi
done
# virtio-serial (modular on 6.1): give its port a moment to appear
for i in 1 2 3 4 5 6 7 8 9 10; do ls /sys/class/virtio-ports/*/name > /dev/null 2>&1 && break; sleep 0.2; done
OUT=/dev/ttyS1
for d in /sys/class/virtio-ports/*; do
	[ -f "$d/name" ] && [ "$(cat "$d/name")" = lab ] && OUT=/dev/$(basename "$d")
done
[ "$OUT" = /dev/ttyS1 ] && stty -F $OUT raw -echo 2>/dev/null
exec 5> $OUT  # a virtio port opens once: every write to the host goes through fd 5
T=/sys/kernel/tracing
P=$T/instances/pipe
W=/tmp/w
mkdir -p $W

emit() { # emit NAME FILE
	{ echo "=====SVMLAB-BEGIN $1====="; base64 "$2"; echo "=====SVMLAB-END $1====="; } >&5
}

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
	echo "l1_qemu: $(qemu-system-x86_64 --version 2>&1 | head -1)"
	cat $W/tools.txt 2>/dev/null
} > $W/tools-head.txt
emit capture-tools-guest.txt $W/tools-head.txt

: > $W/empty
mount --bind $W/empty /proc/kallsyms 2>/dev/null
mkdir -p $W/no-events
for d in $T/events/*/; do
	case "$(basename "$d")" in kvm|ftrace) ;; *) mount --bind $W/no-events "$d" 2>/dev/null ;; esac
done
: > $W/empty-printk
mount --bind $W/empty-printk $T/printk_formats 2>/dev/null
echo "$BUFFER_KB" > $T/buffer_size_kb
mkdir -p $P
echo "$BUFFER_KB" > $P/buffer_size_kb
echo 0 > $T/tracing_on
echo 0 > $P/tracing_on

mkfifo $W/l1p.in $W/l1p.out
echo "svmlab-init: starting L1 (QEMU -enable-kvm -cpu $L1_CPU)" > /dev/console
timeout -s KILL $L1_LIMIT qemu-system-x86_64 -enable-kvm -cpu "$L1_CPU" -smp $L1_SMP -machine pc -m 256M \
	-nodefaults -display none -no-reboot -name kok-l1,debug-threads=on -L /usr/share/qemu \
	-kernel /l1/bzImage -initrd /l1/initrd.gz \
	-append "console=ttyS0 loglevel=4 panic=-1 $L1_APPEND" \
	-serial file:$W/l1-console.log -chardev pipe,id=ctl,path=$W/l1p -serial chardev:ctl \
	> $W/l1-qemu.out 2>&1 &
qemu_pid=$!
exec 3< $W/l1p.out
exec 4> $W/l1p.in

name="" perf_pid="" pipe_pid="" cap_pid="" active=0 hung=0
mkdir -p /tmp/cap
# start_capture: CAPTURE_CMD ({out}: output prefix, {cmd}: a command lasting exactly the
# scenario's window) in the background; returns once that command runs (svmdbg capture starts
# its COMMAND only when it records) or the capture gave up
start_capture() {
	[ -n "$CAPTURE_CMD" ] || return 0
	out=/tmp/cap/$name
	rm -f $out.* $W/cap-ready $W/cap-stop
	wcmd="sh -c 'touch $W/cap-ready; while [ ! -e $W/cap-stop ]; do sleep 0.1; done'"
	cmd=$(printf '%s' "$CAPTURE_CMD" | sed "s|{out}|$out|g; s|{cmd}|$wcmd|g")
	echo "svmlab-init: capture $name: $cmd" > /dev/console
	echo 1 > $T/tracing_on
	sh -c "$cmd" > $out.capture-cmd.log 2>&1 &
	cap_pid=$!
	for i in $(seq 1 1200); do
		[ -e $W/cap-ready ] && break
		kill -0 $cap_pid 2>/dev/null || break
		sleep 0.1
	done
	[ -e $W/cap-ready ] || echo "capture $name: its command never started" >> $out.capture-cmd.log
}
# stop_capture: end the window's command, wait for the capture, send what it wrote
stop_capture() {
	[ -n "$cap_pid" ] || return 0
	touch $W/cap-stop
	wait $cap_pid
	echo "exit status $?" >> $out.capture-cmd.log
	cap_pid=""
	for f in $out.*; do
		[ -f "$f" ] && emit "$name.${f#$out.}" "$f"
	done
	rm -f $out.*
}
stop_and_emit() { # stop_and_emit: stop L0's tracers, send the scenario's L0 artifacts
	t1=$(date +%s)
	stop_capture
	echo 0 > $T/tracing_on; echo 0 > $P/tracing_on
	touch $W/stop
	perf_rc=none
	if [ -n "$perf_pid" ]; then wait $perf_pid; perf_rc=$?; perf_pid=""; fi
	sleep 0.3
	tc_rc=none
	if [ "$CAPTURE_ONLY" != 1 ]; then
	kill $pipe_pid 2>/dev/null
	wait $pipe_pid 2>/dev/null
	cp $T/trace $s.trace
	( cd $W && trace-cmd extract -o $s.dat > $s.tc.err 2>&1 )
	tc_rc=$?
	emit $name.trace $s.trace
	emit $name.pipe $s.pipe
	fi
	[ -f $s.dat ] && emit $name.dat $s.dat
	[ -f $s.perf.data ] && emit $name.perf.data $s.perf.data
	{
		echo "== $name: L0 window seconds=$((t1 - t0)), perf record rc=$perf_rc, trace-cmd extract rc=$tc_rc, trace lines=$(cat $s.trace 2>/dev/null | wc -l)"
		sed 's/^/  perf: /' $s.perf.err 2>/dev/null
		grep -v '^CPU[0-9]* data recorded' $s.tc.err 2>/dev/null | sed 's/^/  trace-cmd: /'
	} > $s.log
	emit $name.log $s.log
	echo "=====SVMLAB-STATUS $name seconds=$((t1 - t0))=====" >&5
	rm -f $s.*
	active=0
}
# L1's own artifacts (framed like ours) go straight through to the host; a scenario whose end
# L1 does not report within SCN_LIMIT seconds (a hung L1) is stopped, sent, and ends the run.
while :; do
	if ! read -t 10 -r line <&3; then
		kill -0 $qemu_pid 2>/dev/null || break
		if [ $active = 1 ] && [ $(( $(date +%s) - t0 )) -gt $SCN_LIMIT ]; then
			echo "svmlab-init: L1 did not end $name within ${SCN_LIMIT}s: stopping it" > /dev/console
			stop_and_emit
			hung=1
			kill -9 $qemu_pid
			break
		fi
		continue
	fi
	case "$line" in
	=====KOK-CTL\ ready\ *)
		name=${line#=====KOK-CTL ready }; name=${name%%=*}
		s=$W/$name
		echo "svmlab-init: scenario $name" > /dev/console
		echo 0 > $T/tracing_on; echo 0 > $P/tracing_on
		echo > $T/trace; echo > $P/trace
		rm -f $W/stop $W/perf-ready
		[ "$CAPTURE_ONLY" = 1 ] || start_capture
		if [ "$CAPTURE_ONLY" != 1 ]; then
		echo 1 > $T/events/kvm/enable; echo 1 > $P/events/kvm/enable
		cat $P/trace_pipe > $s.pipe &
		pipe_pid=$!
		fi
		if [ "$PERF" = 1 ]; then
			# perf enables its events before it starts the workload: the workload's first
			# step says perf records; a large buffer keeps it from losing events.
			perf record -q -m 2048 -e 'kvm:*' -a -o $s.perf.data -- \
				sh -c "touch $W/perf-ready; while [ ! -e $W/stop ]; do sleep 0.1; done" 2> $s.perf.err &
			perf_pid=$!
			for i in $(seq 1 300); do [ -e $W/perf-ready ] && break; sleep 0.1; done
		fi
		if [ "$CAPTURE_ONLY" = 1 ]; then start_capture; else echo 1 > $P/tracing_on; echo 1 > $T/tracing_on; fi
		t0=$(date +%s)
		active=1
		echo go >&4
		;;
	=====KOK-CTL\ end\ *)
		stop_and_emit
		echo go >&4
		;;
	=====KOK-CTL\ finished=====*)
		break
		;;
	*)
		printf '%s\n' "$line" >&5
		;;
	esac
done
wait $qemu_pid
echo "l1 qemu exit status $? (hung=$hung)" >> $W/l1-qemu.out
emit l1-console.log $W/l1-console.log
emit l1-qemu.out $W/l1-qemu.out
dmesg > $W/dmesg.txt
emit dmesg.txt $W/dmesg.txt
echo "=====SVMLAB-FINISHED=====" >&5
sync
poweroff -f
