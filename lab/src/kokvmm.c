/* svmdbg lab, KVM-on-KVM mode: the VMM ("kokvmm") that runs inside L1 on L1's own
 * /dev/kvm. It reads one scenario file (lab/scenarios-kvm/NAME.scn), creates a VM with the
 * in-kernel irqchip (PIC, IOAPIC, LAPICs; no PIT), KOK_RAM_SIZE of RAM, and N vCPUs, each
 * started in 64-bit mode at CPL 0 in the embedded L2 image with its own op list, and
 * services the vCPUs' port and MMIO exits (reads return 0). It prints one summary line per
 * vCPU and a result line, and exits 0 when every vCPU reported its end, 2 at the time
 * limit, 1 on an error.
 *
 * usage: kokvmm SCENARIO.scn [--timeout SECONDS] [--list-ops] */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kok.h"

extern const unsigned char kok_blob[], kok_blob_end[];

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "kokvmm: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	printf("result error\n");
	fflush(stdout);
	_exit(1);
}

static const struct { const char *name; int code, nargs; } OPS[] = {
	{"cpuid", KOK_OP_CPUID, 2}, {"rdmsr", KOK_OP_RDMSR, 1}, {"wrmsr", KOK_OP_WRMSR, 2},
	{"outb", KOK_OP_OUTB, 2}, {"outw", KOK_OP_OUTW, 2}, {"outl", KOK_OP_OUTL, 2},
	{"inb", KOK_OP_INB, 1}, {"outsb", KOK_OP_OUTSB, 2}, {"mmio_read", KOK_OP_MMIO_READ, 1},
	{"mmio_write", KOK_OP_MMIO_WRITE, 2}, {"touch", KOK_OP_TOUCH, 2}, {"ud2", KOK_OP_UD2, 0},
	{"int3", KOK_OP_INT3, 0}, {"div0", KOK_OP_DIV0, 0}, {"vmmcall", KOK_OP_VMMCALL, 1},
	{"rdtscp", KOK_OP_RDTSCP, 0}, {"wbinvd", KOK_OP_WBINVD, 0}, {"xgetbv", KOK_OP_XGETBV, 1},
	{"xsetbv", KOK_OP_XSETBV, 2}, {"apic_on", KOK_OP_APIC_ON, 0}, {"timer", KOK_OP_TIMER, 2},
	{"ipi", KOK_OP_IPI, 2}, {"self_ipi", KOK_OP_SELF_IPI, 1}, {"nmi", KOK_OP_NMI, 1},
	{"wait_irq", KOK_OP_WAIT_IRQ, 1}, {"wait_nmi", KOK_OP_WAIT_NMI, 1},
	{"init_sipi", KOK_OP_INIT_SIPI, 2}, {"park", KOK_OP_PARK, 0}, {"set_flag", KOK_OP_SET_FLAG, 1},
	{"wait_flag", KOK_OP_WAIT_FLAG, 1}, {"hlt", KOK_OP_HLT, 0},
};
#define NOPS (int)(sizeof(OPS) / sizeof(OPS[0]))

struct vcpu_state {
	int index, fd;
	pthread_t thread;
	struct kvm_run *run;
	unsigned long io_exits, mmio_exits, other_exits;
	const char *end; /* "done", "sipi", "shutdown", "error" */
	char detail[160];
};

static int kvm_fd, vm_fd, nvcpus = 1, mmap_size;
static uint8_t *mem;
static struct kvm_cpuid2 *cpuid;
static struct vcpu_state vcpus[KOK_MAX_VCPUS];
static int n_ops[KOK_MAX_VCPUS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int finished;

static uint64_t num(const char *s, const char *file, int line)
{
	char *end;
	errno = 0;
	uint64_t v = strtoull(s, &end, 0);
	if (errno || end == s || *end) die("%s:%d: not a number: '%s'", file, line, s);
	return v;
}

static void parse(const char *path, int *timeout)
{
	FILE *f = fopen(path, "r");
	if (!f) die("cannot open %s: %s", path, strerror(errno));
	char buf[512];
	int line = 0;
	while (fgets(buf, sizeof(buf), f)) {
		line++;
		char *h = strchr(buf, '#');
		if (h) *h = 0;
		char *w[8];
		int n = 0;
		for (char *t = strtok(buf, " \t\r\n="); t && n < 8; t = strtok(NULL, " \t\r\n=")) w[n++] = t;
		if (n == 0) continue;
		if (!strcmp(w[0], "vcpus") && n == 2) {
			nvcpus = (int)num(w[1], path, line);
			if (nvcpus < 1 || nvcpus > KOK_MAX_VCPUS) die("%s:%d: vcpus must be 1..%d", path, line, KOK_MAX_VCPUS);
		} else if (!strcmp(w[0], "timeout") && n == 2) {
			if (*timeout == 0) *timeout = (int)num(w[1], path, line);
		} else if (!strcmp(w[0], "op")) {
			if (n < 3) die("%s:%d: op needs a vCPU and a name", path, line);
			int cpu = (int)num(w[1], path, line);
			if (cpu < 0 || cpu >= KOK_MAX_VCPUS) die("%s:%d: vCPU %d out of range", path, line, cpu);
			int k;
			for (k = 0; k < NOPS && strcmp(OPS[k].name, w[2]); k++)
				;
			if (k == NOPS) die("%s:%d: unknown op '%s' (kokvmm --list-ops)", path, line, w[2]);
			if (n - 3 != OPS[k].nargs) die("%s:%d: op %s takes %d argument(s)", path, line, w[2], OPS[k].nargs);
			if (n_ops[cpu] >= KOK_MAX_OPS - 1) die("%s:%d: too many ops for vCPU %d", path, line, cpu);
			struct kok_op *op = (struct kok_op *)(mem + KOK_OPS + (uint64_t)cpu * KOK_OPS_STRIDE) + n_ops[cpu]++;
			op->code = (unsigned)OPS[k].code;
			if (n > 3) op->a = num(w[3], path, line);
			if (n > 4) op->b = num(w[4], path, line);
			if (op->code == KOK_OP_TOUCH && (op->a < KOK_TOUCH_BASE || op->a + op->b * 4096 > KOK_RAM_SIZE))
				die("%s:%d: touch range outside 0x%x..0x%llx", path, line, KOK_TOUCH_BASE, KOK_RAM_SIZE);
		} else if (!strcmp(w[0], "id") || !strcmp(w[0], "description") || !strcmp(w[0], "expect")) {
			continue;
		} else {
			die("%s:%d: unknown key '%s'", path, line, w[0]);
		}
	}
	fclose(f);
	for (int c = nvcpus; c < KOK_MAX_VCPUS; c++)
		if (n_ops[c]) die("%s: ops for vCPU %d but vcpus = %d", path, c, nvcpus);
}

static void finish(struct vcpu_state *v, const char *end)
{
	pthread_mutex_lock(&lock);
	v->end = end;
	finished++;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu_state *v = arg;
	struct kvm_run *run = v->run;
	for (;;) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) continue;
			snprintf(v->detail, sizeof(v->detail), "KVM_RUN: %s", strerror(errno));
			finish(v, "error");
			return NULL;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO: {
			v->io_exits++;
			uint8_t *d = (uint8_t *)run + run->io.data_offset;
			if (run->io.direction == KVM_EXIT_IO_IN) memset(d, 0, (size_t)run->io.size * run->io.count);
			if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == KOK_PORT_DONE) {
				finish(v, "done");
				return NULL;
			}
			if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == KOK_PORT_SIPI) {
				finish(v, "sipi");
				return NULL;
			}
			break;
		}
		case KVM_EXIT_MMIO:
			v->mmio_exits++;
			if (!run->mmio.is_write) memset(run->mmio.data, 0, sizeof(run->mmio.data));
			break;
		case KVM_EXIT_SHUTDOWN:
			finish(v, "shutdown");
			return NULL;
		default:
			v->other_exits++;
			snprintf(v->detail, sizeof(v->detail), "unexpected exit reason %u", run->exit_reason);
			finish(v, "error");
			return NULL;
		}
	}
}

static void setup_vcpu(int i)
{
	struct vcpu_state *v = &vcpus[i];
	v->index = i;
	v->fd = ioctl(vm_fd, KVM_CREATE_VCPU, i);
	if (v->fd < 0) die("KVM_CREATE_VCPU %d: %s", i, strerror(errno));
	if (ioctl(v->fd, KVM_SET_CPUID2, cpuid) < 0) die("KVM_SET_CPUID2: %s", strerror(errno));
	v->run = mmap(NULL, (size_t)mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) die("mmap kvm_run: %s", strerror(errno));
	struct kvm_sregs sregs;
	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0) die("KVM_GET_SREGS: %s", strerror(errno));
	struct kvm_segment code = {.base = 0, .limit = 0xffffffff, .selector = 0x08, .type = 11, .present = 1, .s = 1, .l = 1, .g = 1};
	struct kvm_segment data = {.base = 0, .limit = 0xffffffff, .selector = 0x10, .type = 3, .present = 1, .db = 1, .s = 1, .g = 1};
	sregs.cs = code;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.tr = (struct kvm_segment){.base = 0, .limit = 0x67, .selector = 0, .type = 11, .present = 1};
	sregs.gdt.base = KOK_GDT;
	sregs.gdt.limit = 3 * 8 - 1;
	sregs.cr0 = 0x80050033; /* PG WP NE ET MP PE */
	sregs.cr3 = KOK_PML4;
	sregs.cr4 = 0x620;      /* OSXMMEXCPT OSFXSR PAE */
	sregs.efer = 0x500;     /* LMA LME */
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0) die("KVM_SET_SREGS: %s", strerror(errno));
	struct kvm_regs regs = {.rip = KOK_CODE, .rflags = 2, .rdi = (uint64_t)i,
		.rsp = KOK_STACKS + (uint64_t)(i + 1) * KOK_STACK_SIZE};
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0) die("KVM_SET_REGS: %s", strerror(errno));
	/* With the in-kernel LAPIC only vCPU 0 starts runnable; the others would wait for INIT/SIPI. */
	struct kvm_mp_state mp = {.mp_state = KVM_MP_STATE_RUNNABLE};
	if (ioctl(v->fd, KVM_SET_MP_STATE, &mp) < 0) die("KVM_SET_MP_STATE: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	int timeout = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--timeout") && i + 1 < argc) timeout = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--list-ops")) {
			for (int k = 0; k < NOPS; k++) printf("%s (%d argument%s)\n", OPS[k].name, OPS[k].nargs, OPS[k].nargs == 1 ? "" : "s");
			return 0;
		} else if (argv[i][0] != '-' && !path) path = argv[i];
		else die("usage: kokvmm SCENARIO.scn [--timeout SECONDS] [--list-ops]");
	}
	if (!path) die("usage: kokvmm SCENARIO.scn [--timeout SECONDS] [--list-ops]");
	mem = mmap(NULL, KOK_RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED) die("mmap: %s", strerror(errno));
	parse(path, &timeout);
	if (timeout <= 0) timeout = 20;

	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0) die("/dev/kvm: %s", strerror(errno));
	vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm_fd < 0) die("KVM_CREATE_VM: %s", strerror(errno));
	if (ioctl(vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) die("KVM_CREATE_IRQCHIP: %s", strerror(errno));
	struct kvm_userspace_memory_region region = {.slot = 0, .guest_phys_addr = 0, .memory_size = KOK_RAM_SIZE, .userspace_addr = (uint64_t)mem};
	if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) die("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));

	size_t blob = (size_t)(kok_blob_end - kok_blob);
	if (KOK_CODE + blob > KOK_FLAGS) die("L2 image too large (%zu bytes)", blob);
	memcpy(mem + KOK_CODE, kok_blob, blob);
	uint64_t *gdt = (uint64_t *)(mem + KOK_GDT);
	gdt[1] = 0x00209a0000000000ull; /* 64-bit code, DPL 0 */
	gdt[2] = 0x00cf92000000ffffull; /* data */
	/* Identity page tables: 4 GiB of 2 MiB pages (the MMIO hole at 0xd0000000 included). */
	uint64_t *pml4 = (uint64_t *)(mem + KOK_PML4), *pdpt = (uint64_t *)(mem + KOK_PDPT);
	pml4[0] = KOK_PDPT | 3;
	for (int g = 0; g < 4; g++) {
		pdpt[g] = (KOK_PD + (uint64_t)g * 0x1000) | 3;
		uint64_t *pd = (uint64_t *)(mem + KOK_PD + (uint64_t)g * 0x1000);
		for (int i = 0; i < 512; i++) pd[i] = (((uint64_t)g << 30) + ((uint64_t)i << 21)) | 0x83;
	}
	/* SIPI trampoline (real mode): mov al,1; out 0xf1,al; cli; hlt; jmp $-2 */
	static const uint8_t tramp[] = {0xb0, 0x01, 0xe6, KOK_PORT_SIPI, 0xfa, 0xf4, 0xeb, 0xfd};
	memcpy(mem + KOK_SIPI_PAGE, tramp, sizeof(tramp));

	int nent = 256;
	cpuid = calloc(1, sizeof(*cpuid) + (size_t)nent * sizeof(struct kvm_cpuid_entry2));
	cpuid->nent = (uint32_t)nent;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0) die("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
	mmap_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	for (int i = 0; i < nvcpus; i++) setup_vcpu(i);

	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < nvcpus; i++)
		if (pthread_create(&vcpus[i].thread, NULL, vcpu_thread, &vcpus[i])) die("pthread_create failed");
	struct timespec deadline = t0;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout;
	int timed_out = 0;
	pthread_mutex_lock(&lock);
	while (finished < nvcpus && !timed_out)
		if (pthread_cond_timedwait(&cond, &lock, &deadline) == ETIMEDOUT) timed_out = 1;
	pthread_mutex_unlock(&lock);
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	const char *result = "done";
	for (int i = 0; i < nvcpus; i++) {
		struct vcpu_state *v = &vcpus[i];
		const char *end = v->end ? v->end : "running";
		printf("vcpu %d: end %s, io_exits %lu, mmio_exits %lu%s%s\n", i, end, v->io_exits, v->mmio_exits,
		       v->detail[0] ? ", " : "", v->detail);
		if (strcmp(end, "done") && strcmp(end, "sipi")) result = timed_out ? "timeout" : "error";
	}
	printf("seconds %.3f\n", (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	printf("result %s\n", result);
	fflush(stdout);
	_exit(!strcmp(result, "done") ? 0 : timed_out ? 2 : 1);
}
