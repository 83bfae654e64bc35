#!/bin/busybox sh
# svmdbg lab, KVM-on-KVM mode: /init of L1's initramfs. L1 is a Debian kernel running under
# QEMU with -enable-kvm inside L0. Loads kvm and kvm_amd, then per scenario: tells L0 it is
# ready on /dev/ttyS1 and waits for L0's "go" (L0 starts its own tracing), traces its own
# kvm:* events while kokvmm runs the scenario's L2 program, tells L0 the end and waits for
# "go" again (L0 stopped tracing), and only then sends its trace, so the transfer stays out of
# L0's trace. Every artifact is framed with =====SVMLAB-BEGIN/END NAME===== lines, base64.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || mount -t debugfs debugfs /sys/kernel/debug
. /lab/config
T=/sys/kernel/tracing
[ -d $T/events ] || T=/sys/kernel/debug/tracing
W=/tmp/w
mkdir -p $W
C=/dev/ttyS1
stty -F $C raw -echo 2>/dev/null

emit() { # emit NAME FILE
	{ echo "=====SVMLAB-BEGIN $1====="; base64 "$2"; echo "=====SVMLAB-END $1====="; } > $C
}
ctl() { # ctl WORDS...: a control line to L0, then wait for its one-line answer
	echo "=====KOK-CTL $*=====" > $C
	read -r answer < $C
}

for m in $MODULES; do
	args=""
	[ "$m" = kvm-amd ] && args="$KVM_AMD_PARAMS"
	insmod /lib/lab-modules/$m.ko $args 2>> $W/insmod.err
done
{
	echo "uname: $(uname -a)"
	echo "cmdline: $(cat /proc/cmdline)"
	echo "cpu_flags: $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2)"
	echo "model_name: $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2)"
	echo "cpus: $(grep -c ^processor /proc/cpuinfo)"
	for f in /sys/module/kvm_amd/parameters/* /sys/module/kvm/parameters/*; do
		[ -f "$f" ] && echo "param $f=$(cat $f)"
	done
	ls -l /dev/kvm
	cat $W/insmod.err 2>/dev/null
} > $W/env.txt 2>&1
emit l1-env.txt $W/env.txt
echo "$BUFFER_KB" > $T/buffer_size_kb
echo 0 > $T/tracing_on
echo 1 > $T/events/kvm/enable

for name in $SCENARIOS; do
	scn=/lab/scenarios/$name.scn
	echo > $T/trace
	ctl ready $name
	echo 1 > $T/tracing_on
	t0=$(date +%s)
	t=$VMM_TIMEOUT
	[ -n "$t" ] || t=$(sed -n 's/^[ \t]*timeout[ \t]*=[ \t]*\([0-9]*\).*/\1/p' $scn | tail -1)
	[ -n "$t" ] || t=20
	timeout -s KILL $((t + 20)) /bin/kokvmm $scn --timeout $t > $W/$name.vmm.log 2>&1
	rc=$?
	t1=$(date +%s)
	echo 0 > $T/tracing_on
	ctl end $name
	echo "rc $rc" >> $W/$name.vmm.log
	echo "l1_seconds $((t1 - t0))" >> $W/$name.vmm.log
	cp $T/trace $W/$name.l1.trace
	gzip -1 $W/$name.l1.trace
	emit $name.l1.trace.gz $W/$name.l1.trace.gz
	emit $name.vmm.log $W/$name.vmm.log
	rm -f $W/$name.*
done
dmesg > $W/dmesg.txt
emit l1-dmesg.txt $W/dmesg.txt
echo "=====KOK-CTL finished=====" > $C
sync
poweroff -f
