/* svmdbg lab: the userspace VMM ("svmlab"). Runs inside the emulated machine on top of
 * the kernel under test (L0). It reads one scenario file, creates a VM with LAB_RAM_SIZE
 * of RAM, starts the embedded L1 image in 64-bit mode at CPL 0, services L1's marker
 * and result ports, and writes the scenario manifest (OUT.json) from L1's log.
 *
 * usage: svmlab SCENARIO.scn -o OUTPREFIX [--qemu-cpu STRING] [--timeout SECONDS]
 * exit status: 0 scenario finished as expected, 2 stopped by its time limit, 1 otherwise. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <cpuid.h>

#include "lab.h"

struct lab_prog_def { const char *name; uint64_t entry; };
struct lab_step_def { const char *prog; unsigned step; uint64_t rip; unsigned len; const char *insn; };
#include "l1_steps.h"

extern const unsigned char l1_blob[], l1_blob_end[];

#define NPROGS (sizeof(LAB_PROGS) / sizeof(LAB_PROGS[0]))
#define NSTEPS (sizeof(LAB_STEPS) / sizeof(LAB_STEPS[0]))

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "svmlab: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

/* ---- intercept and exit names (APM vol 2, appendix B, table B-1; appendix C) ---- */
static const char *W3_NAMES[32] = {
	"intr", "nmi", "smi", "init", "vintr", "cr0_sel_write", "idtr_read", "gdtr_read",
	"ldtr_read", "tr_read", "idtr_write", "gdtr_write", "ldtr_write", "tr_write", "rdtsc", "rdpmc",
	"pushf", "popf", "cpuid", "rsm", "iret", "intn", "invd", "pause",
	"hlt", "invlpg", "invlpga", "ioio", "msr", "task_switch", "ferr_freeze", "shutdown"};
static const char *W4_NAMES[32] = {
	"vmrun", "vmmcall", "vmload", "vmsave", "stgi", "clgi", "skinit", "rdtscp",
	"icebp", "wbinvd", "monitor", "mwait", "mwait_cond", "xsetbv", "rdpru", "efer_write",
	"cr0_write_trap", "cr1_write_trap", "cr2_write_trap", "cr3_write_trap", "cr4_write_trap",
	"cr5_write_trap", "cr6_write_trap", "cr7_write_trap", "cr8_write_trap", "cr9_write_trap",
	"cr10_write_trap", "cr11_write_trap", "cr12_write_trap", "cr13_write_trap", "cr14_write_trap",
	"cr15_write_trap"};
static const char *W5_NAMES[32] = {"invlpgb", "invlpgb_illegal", "invpcid", "mcommit", "tlbsync", "bus_lock"};
static const char *EXC_NAMES[32] = {
	"DE", "DB", "NMI", "BP", "OF", "BR", "UD", "NM", "DF", "09", "TS", "NP", "SS", "GP", "PF", "15",
	"MF", "AC", "MC", "XF", "VE", "CP", "22", "23", "24", "25", "26", "27", "HV", "VC", "SX", "31"};

static const char *intercept_name(int word, int bit, char *buf)
{
	switch (word) {
	case 0: sprintf(buf, bit < 16 ? "cr%d_read" : "cr%d_write", bit & 15); return buf;
	case 1: sprintf(buf, bit < 16 ? "dr%d_read" : "dr%d_write", bit & 15); return buf;
	case 2: sprintf(buf, "excp_%s", EXC_NAMES[bit]); return buf;
	case 3: return W3_NAMES[bit];
	case 4: return W4_NAMES[bit];
	default:
		if (W5_NAMES[bit]) return W5_NAMES[bit];
		sprintf(buf, "w5_bit%d", bit);
		return buf;
	}
}

static int intercept_lookup(const char *name, int *word, uint32_t *mask)
{
	char buf[32];
	for (int w = 0; w < 6; w++)
		for (int b = 0; b < 32; b++) {
			const char *n = intercept_name(w, b, buf);
			if (n && strcmp(n, name) == 0) {
				*word = w;
				*mask = 1u << b;
				return 1;
			}
		}
	return 0;
}

static const char *exit_name(uint64_t code, char *buf)
{
	if (code == 0xffffffffffffffffull) return "err(VMEXIT_INVALID)";
	if (code == 0xffffffffull) return "err(VMEXIT_INVALID, 32-bit)";
	if (code == 0xfffffffffffffffeull) return "busy";
	if (code < 0x10) { sprintf(buf, "read_cr%d", (int)code); return buf; }
	if (code < 0x20) { sprintf(buf, "write_cr%d", (int)code - 0x10); return buf; }
	if (code < 0x30) { sprintf(buf, "read_dr%d", (int)code - 0x20); return buf; }
	if (code < 0x40) { sprintf(buf, "write_dr%d", (int)code - 0x30); return buf; }
	if (code < 0x60) { sprintf(buf, "excp_%s", EXC_NAMES[code - 0x40]); return buf; }
	if (code < 0x80) {
		static const char *n[32] = {"intr", "nmi", "smi", "init", "vintr", "cr0_sel_write", "idtr_read",
			"gdtr_read", "ldtr_read", "tr_read", "idtr_write", "gdtr_write", "ldtr_write", "tr_write",
			"rdtsc", "rdpmc", "pushf", "popf", "cpuid", "rsm", "iret", "swint", "invd", "pause", "hlt",
			"invlpg", "invlpga", "ioio", "msr", "task_switch", "ferr_freeze", "shutdown"};
		return n[code - 0x60];
	}
	if (code < 0x90) {
		static const char *n[16] = {"vmrun", "vmmcall", "vmload", "vmsave", "stgi", "clgi", "skinit",
			"rdtscp", "icebp", "wbinvd", "monitor", "mwait", "mwait_cond", "xsetbv", "rdpru", "efer_write_trap"};
		return n[code - 0x80];
	}
	if (code >= 0x90 && code < 0xa0) { sprintf(buf, "cr%d_write_trap", (int)code - 0x90); return buf; }
	if (code == 0xa0) return "invlpgb";
	if (code == 0xa1) return "invlpgb_illegal";
	if (code == 0xa2) return "invpcid";
	if (code == 0xa3) return "mcommit";
	if (code == 0xa4) return "tlbsync";
	if (code == 0xa5) return "bus_lock";
	if (code == 0x400) return "npf";
	if (code == 0x401) return "avic_incomplete_ipi";
	if (code == 0x402) return "avic_unaccelerated_access";
	if (code == 0x403) return "vmgexit";
	sprintf(buf, "0x%llx", (unsigned long long)code);
	return buf;
}

/* ---- scenario file: `key = value` lines, `#` comments, repeated keys append ---- */
struct scenario {
	char name[128], description[1024], program[64], initial_why[LAB_WHY_LEN], expect[1024], livelock[64];
	int id, flow, l1_insn, l1_bad, npt, cpl, v_intr_masking, max_exits, timeout;
	uint32_t intercept[6];
	uint64_t msr_read[32], msr_write[32], io_ports[64], mem_addr[16], mem_val[16], peeks[LAB_MAX_PEEKS];
	int n_msr_read, n_msr_write, n_io, n_mem, n_peeks;
	struct lab_action actions[LAB_MAX_ACTIONS];
	int n_actions;
	struct lab_inject inject[LAB_MAX_INJECT];
	int n_inject;
	struct lab_attempt attempts[LAB_MAX_ATTEMPTS];
	int n_attempts;
	char expect_result[32];
};

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t') s++;
	char *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r')) *--e = 0;
	return s;
}

static uint64_t num(const char *s, const char *ctx)
{
	char *end;
	errno = 0;
	uint64_t v = strtoull(s, &end, 0);
	if (errno || end == s || (*end && *end != ' ' && *end != '\t'))
		die("%s: not a number: '%s'", ctx, s);
	return v;
}

static int split_words(char *s, char **out, int max)
{
	int n = 0;
	for (char *t = strtok(s, " \t"); t && n < max; t = strtok(NULL, " \t")) out[n++] = t;
	return n;
}

static void copy_why(char *dst, const char *src)
{
	snprintf(dst, LAB_WHY_LEN, "%s", src);
}


/* Splits the first three blank-separated words of `val` into t[0..2] (NUL-terminating each
 * in place) and returns the rest of the line, for "STEP A B WHY..." scenario keys. */
static char *split_three(char *val, char *t[3])
{
	char *p = val;
	for (int i = 0; i < 3; i++) {
		while (*p == ' ' || *p == '\t') p++;
		t[i] = p;
		while (*p && *p != ' ' && *p != '\t') p++;
		if (*p) *p++ = 0;
	}
	return p;
}

static void parse_scenario(const char *path, struct scenario *sc)
{
	FILE *f = fopen(path, "r");
	if (!f) die("cannot open %s: %s", path, strerror(errno));
	memset(sc, 0, sizeof(*sc));
	const char *base = strrchr(path, '/');
	snprintf(sc->name, sizeof(sc->name), "%s", base ? base + 1 : path);
	char *dot = strrchr(sc->name, '.');
	if (dot) *dot = 0;
	strcpy(sc->program, "hlt");
	strcpy(sc->initial_why, "initial");
	strcpy(sc->expect_result, "done");
	sc->max_exits = 64;
	sc->timeout = 20;
	sc->id = -1;
	char line[2048];
	int lineno = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char *s = trim(line);
		if (!*s || *s == '#') continue;
		char *eq = strchr(s, '=');
		if (!eq) die("%s:%d: expected key = value", path, lineno);
		*eq = 0;
		char *key = trim(s), *val = trim(eq + 1);
		char ctx[300];
		snprintf(ctx, sizeof(ctx), "%s:%d", path, lineno);
		char *w[64];
		if (!strcmp(key, "name")) snprintf(sc->name, sizeof(sc->name), "%s", val);
		else if (!strcmp(key, "id")) sc->id = (int)num(val, ctx);
		else if (!strcmp(key, "description")) {
			size_t l = strlen(sc->description);
			snprintf(sc->description + l, sizeof(sc->description) - l, "%s%s", l ? " " : "", val);
		} else if (!strcmp(key, "expect")) {
			size_t l = strlen(sc->expect);
			snprintf(sc->expect + l, sizeof(sc->expect) - l, "%s%s", l ? " " : "", val);
		} else if (!strcmp(key, "program")) snprintf(sc->program, sizeof(sc->program), "%s", val);
		else if (!strcmp(key, "initial_why")) copy_why(sc->initial_why, val);
		else if (!strcmp(key, "livelock")) snprintf(sc->livelock, sizeof(sc->livelock), "%s", val);
		else if (!strcmp(key, "expect_result")) snprintf(sc->expect_result, sizeof(sc->expect_result), "%s", val);
		else if (!strcmp(key, "flow")) {
			if (!strcmp(val, "l2")) sc->flow = LAB_FLOW_L2;
			else if (!strcmp(val, "l1-vmrun")) { sc->flow = LAB_FLOW_L1_INSN; sc->l1_insn = LAB_INSN_VMRUN; }
			else if (!strcmp(val, "l1-vmload")) { sc->flow = LAB_FLOW_L1_INSN; sc->l1_insn = LAB_INSN_VMLOAD; }
			else if (!strcmp(val, "l1-vmsave")) { sc->flow = LAB_FLOW_L1_INSN; sc->l1_insn = LAB_INSN_VMSAVE; }
			else die("%s: flow must be l2, l1-vmrun, l1-vmload or l1-vmsave", ctx);
		} else if (!strcmp(key, "bad")) {
			if (!strcmp(val, "misaligned")) sc->l1_bad = LAB_BAD_MISALIGNED;
			else if (!strcmp(val, "illegal")) sc->l1_bad = LAB_BAD_ILLEGAL;
			else if (!strcmp(val, "unbacked")) sc->l1_bad = LAB_BAD_UNBACKED;
			else die("%s: bad must be misaligned, illegal or unbacked", ctx);
		} else if (!strcmp(key, "npt")) {
			if (!strcmp(val, "off")) sc->npt = LAB_NPT_OFF;
			else if (!strcmp(val, "identity")) sc->npt = LAB_NPT_IDENTITY;
			else if (!strcmp(val, "holes")) sc->npt = LAB_NPT_HOLES;
			else if (!strcmp(val, "remap")) sc->npt = LAB_NPT_REMAP;
			else die("%s: npt must be off, identity, holes or remap", ctx);
		} else if (!strcmp(key, "cpl")) {
			sc->cpl = (int)num(val, ctx);
			if (sc->cpl != 0 && sc->cpl != 3) die("%s: cpl must be 0 or 3", ctx);
		} else if (!strcmp(key, "v_intr_masking")) sc->v_intr_masking = (int)num(val, ctx);
		else if (!strcmp(key, "max_exits")) sc->max_exits = (int)num(val, ctx);
		else if (!strcmp(key, "timeout")) sc->timeout = (int)num(val, ctx);
		else if (!strcmp(key, "intercepts")) {
			int n = split_words(val, w, 64);
			for (int i = 0; i < n; i++) {
				int word; uint32_t mask;
				if (!intercept_lookup(w[i], &word, &mask)) die("%s: unknown intercept '%s'", ctx, w[i]);
				sc->intercept[word] |= mask;
			}
		} else if (!strcmp(key, "msr_read") || !strcmp(key, "msr_write") || !strcmp(key, "io_ports") || !strcmp(key, "peek")) {
			int n = split_words(val, w, 64);
			for (int i = 0; i < n; i++) {
				uint64_t v = num(w[i], ctx);
				if (key[0] == 'p') { if (sc->n_peeks < LAB_MAX_PEEKS) sc->peeks[sc->n_peeks++] = v; }
				else if (key[0] == 'i') { if (sc->n_io < 64) sc->io_ports[sc->n_io++] = v; }
				else if (key[4] == 'r') { if (sc->n_msr_read < 32) sc->msr_read[sc->n_msr_read++] = v; }
				else if (sc->n_msr_write < 32) sc->msr_write[sc->n_msr_write++] = v;
			}
		} else if (!strcmp(key, "mem")) {
			if (split_words(val, w, 2) != 2 || sc->n_mem >= 16) die("%s: mem = ADDR VALUE", ctx);
			sc->mem_addr[sc->n_mem] = num(w[0], ctx);
			sc->mem_val[sc->n_mem++] = num(w[1], ctx);
		} else if (!strcmp(key, "action")) {
			/* action = STEP set|clear INTERCEPT WHY... */
			char *t[3];
			char *p = split_three(val, t);
			if (sc->n_actions >= LAB_MAX_ACTIONS) die("%s: too many actions", ctx);
			struct lab_action *a = &sc->actions[sc->n_actions++];
			a->step = (uint32_t)num(t[0], ctx);
			if (!strcmp(t[1], "set")) a->op = LAB_ACT_SET;
			else if (!strcmp(t[1], "clear")) a->op = LAB_ACT_CLEAR;
			else die("%s: action verb must be set or clear", ctx);
			int word; uint32_t mask;
			if (!intercept_lookup(t[2], &word, &mask)) die("%s: unknown intercept '%s'", ctx, t[2]);
			a->word = (uint32_t)word;
			a->mask = mask;
			copy_why(a->why, trim(p));
		} else if (!strcmp(key, "inject")) {
			/* inject = STEP EVENTINJ ERRORCODE WHY... */
			char *t[3];
			char *p = split_three(val, t);
			if (sc->n_inject >= LAB_MAX_INJECT) die("%s: too many injections", ctx);
			struct lab_inject *in = &sc->inject[sc->n_inject++];
			in->step = (uint32_t)num(t[0], ctx);
			in->event_inj = (uint32_t)num(t[1], ctx);
			in->err = (uint32_t)num(t[2], ctx);
			copy_why(in->why, trim(p));
		} else if (!strcmp(key, "attempt")) {
			/* attempt = WHY ; OFFSET/WIDTH set|clear|put VALUE ; ... */
			if (sc->n_attempts >= LAB_MAX_ATTEMPTS) die("%s: too many attempts", ctx);
			struct lab_attempt *a = &sc->attempts[sc->n_attempts++];
			char *save = NULL;
			char *part = strtok_r(val, ";", &save);
			if (!part) die("%s: attempt = WHY ; POKE ...", ctx);
			copy_why(a->why, trim(part));
			while ((part = strtok_r(NULL, ";", &save))) {
				char *pw[3];
				if (split_words(trim(part), pw, 3) != 3 || a->n_pokes >= LAB_MAX_POKES)
					die("%s: poke = OFFSET/WIDTH set|clear|put VALUE", ctx);
				struct lab_poke *pk = &a->pokes[a->n_pokes++];
				char *slash = strchr(pw[0], '/');
				if (!slash) die("%s: poke offset needs /WIDTH", ctx);
				*slash = 0;
				pk->offset = (uint32_t)num(pw[0], ctx);
				pk->width = (uint32_t)num(slash + 1, ctx);
				if (pk->offset + pk->width / 8 > 4096 || (pk->width != 8 && pk->width != 16 && pk->width != 32 && pk->width != 64))
					die("%s: bad poke offset/width", ctx);
				if (!strcmp(pw[1], "set")) pk->op = LAB_POKE_SET;
				else if (!strcmp(pw[1], "clear")) pk->op = LAB_POKE_CLEAR;
				else if (!strcmp(pw[1], "put")) pk->op = LAB_POKE_PUT;
				else die("%s: poke verb must be set, clear or put", ctx);
				pk->value = num(pw[2], ctx);
			}
		} else die("%s: unknown key '%s'", ctx, key);
	}
	fclose(f);
}

/* ---- JSON helpers ---- */
static FILE *J;
static void jstr(const char *s)
{
	fputc('"', J);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') fprintf(J, "\\%c", c);
		else if (c < 0x20) fprintf(J, "\\u%04x", c);
		else fputc(c, J);
	}
	fputc('"', J);
}
static void jhex(uint64_t v) { fprintf(J, "\"0x%llx\"", (unsigned long long)v); }
static void jhex8(uint32_t v) { fprintf(J, "\"0x%08x\"", v); }

static void read_param(const char *mod, const char *p, char *out, size_t n)
{
	char path[256];
	snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s", mod, p);
	out[0] = 0;
	FILE *f = fopen(path, "r");
	if (!f) return;
	if (fgets(out, (int)n, f)) out[strcspn(out, "\n")] = 0;
	fclose(f);
}

/* ---- run state ---- */
struct uexit { char kind[8]; uint16_t port; uint8_t dir, size; uint32_t count; uint64_t value, addr; };
#define MAX_UEXITS 4096
static struct uexit uexits[MAX_UEXITS];
static unsigned n_uexits, total_uexits;
static volatile sig_atomic_t timed_out;
static void on_alarm(int sig) { (void)sig; timed_out = 1; }

static void vmcb_words(FILE *j, const uint32_t w[6])
{
	(void)j;
	char buf[32];
	fprintf(J, "{\"intercept_cr\": "); jhex8(w[0]);
	fprintf(J, ", \"intercept_dr\": "); jhex8(w[1]);
	fprintf(J, ", \"intercept_exceptions\": "); jhex8(w[2]);
	fprintf(J, ", \"intercept_word3\": "); jhex8(w[3]);
	fprintf(J, ", \"intercept_word4\": "); jhex8(w[4]);
	fprintf(J, ", \"intercept_word5\": "); jhex8(w[5]);
	fprintf(J, ", \"names\": [");
	int first = 1;
	for (int k = 0; k < 6; k++)
		for (int b = 0; b < 32; b++)
			if (w[k] & (1u << b)) {
				fprintf(J, "%s", first ? "" : ", ");
				jstr(intercept_name(k, b, buf));
				first = 0;
			}
	fprintf(J, "]}");
}

int main(int argc, char **argv)
{
	const char *scn_path = NULL, *out = NULL, *qemu_cpu = "unknown";
	int timeout_override = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc) out = argv[++i];
		else if (!strcmp(argv[i], "--qemu-cpu") && i + 1 < argc) qemu_cpu = argv[++i];
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) timeout_override = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--list-programs")) {
			for (size_t k = 0; k < NPROGS; k++) printf("%s 0x%llx\n", LAB_PROGS[k].name, (unsigned long long)LAB_PROGS[k].entry);
			return 0;
		} else if (argv[i][0] != '-' && !scn_path) scn_path = argv[i];
		else die("usage: svmlab SCENARIO.scn -o OUTPREFIX [--qemu-cpu STRING] [--timeout SECONDS]");
	}
	if (!scn_path || !out) die("usage: svmlab SCENARIO.scn -o OUTPREFIX [--qemu-cpu STRING] [--timeout SECONDS]");
	static struct scenario sc;
	parse_scenario(scn_path, &sc);
	if (timeout_override > 0) sc.timeout = timeout_override;
	int prog = -1;
	for (size_t k = 0; k < NPROGS; k++)
		if (!strcmp(LAB_PROGS[k].name, sc.program)) prog = (int)k;
	if (prog < 0) die("%s: unknown L2 program '%s' (see --list-programs)", scn_path, sc.program);

	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) die("/dev/kvm: %s", strerror(errno));
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) die("KVM_CREATE_VM: %s", strerror(errno));
	uint8_t *mem = mmap(NULL, LAB_RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED) die("mmap: %s", strerror(errno));
	struct kvm_userspace_memory_region region = {.slot = 0, .guest_phys_addr = 0, .memory_size = LAB_RAM_SIZE, .userspace_addr = (uint64_t)mem};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) die("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));

	/* L1 image, identity page tables (1 GiB of 2 MiB pages, U=1), permission maps, config. */
	size_t blob = (size_t)(l1_blob_end - l1_blob);
	if (LAB_L1_BASE + blob > LAB_L1_STACK_TOP - 0x4000) die("L1 image too large (%zu bytes)", blob);
	memcpy(mem + LAB_L1_BASE, l1_blob, blob);
	uint64_t *pml4 = (uint64_t *)(mem + 0x1000), *pdpt = (uint64_t *)(mem + 0x2000), *pd = (uint64_t *)(mem + 0x3000);
	pml4[0] = 0x2000 | 7;
	pdpt[0] = 0x3000 | 7;
	for (int i = 0; i < 512; i++) pd[i] = ((uint64_t)i << 21) | 0x87;
	/* MSR permission map (APM vol 2, "MSR Intercepts"): 2 bits per MSR, read then write,
	 * ranges 0-0x1fff at byte 0, 0xc0000000-0xc0001fff at 0x800, 0xc0010000-0xc0011fff at 0x1000. */
	for (int rw = 0; rw < 2; rw++) {
		int n = rw ? sc.n_msr_write : sc.n_msr_read;
		for (int i = 0; i < n; i++) {
			uint64_t msr = rw ? sc.msr_write[i] : sc.msr_read[i];
			uint64_t base;
			if (msr < 0x2000) base = 0;
			else if (msr >= 0xc0000000 && msr < 0xc0002000) base = 0x800 * 8, msr -= 0xc0000000;
			else if (msr >= 0xc0010000 && msr < 0xc0012000) base = 0x1000 * 8, msr -= 0xc0010000;
			else die("MSR 0x%llx is outside the MSR permission map", (unsigned long long)msr);
			uint64_t bit = base + msr * 2 + (uint64_t)rw;
			mem[LAB_MSRPM + bit / 8] |= (uint8_t)(1u << (bit % 8));
		}
	}
	/* I/O permission map (APM vol 2, "I/O Permissions Map"): one bit per port, 12 KiB. */
	for (int i = 0; i < sc.n_io; i++) {
		if (sc.io_ports[i] >= 0x18000) die("port 0x%llx is outside the I/O permission map", (unsigned long long)sc.io_ports[i]);
		mem[LAB_IOPM + sc.io_ports[i] / 8] |= (uint8_t)(1u << (sc.io_ports[i] % 8));
	}
	for (int i = 0; i < sc.n_mem; i++) {
		if (sc.mem_addr[i] + 8 > LAB_RAM_SIZE) die("mem address 0x%llx outside RAM", (unsigned long long)sc.mem_addr[i]);
		memcpy(mem + sc.mem_addr[i], &sc.mem_val[i], 8);
	}
	struct lab_config *cfg = (struct lab_config *)(mem + LAB_CONFIG);
	cfg->magic = LAB_CONFIG_MAGIC;
	cfg->scenario_id = (uint32_t)sc.id;
	cfg->flow = (uint32_t)sc.flow;
	cfg->l1_insn = (uint32_t)sc.l1_insn;
	cfg->l1_bad = (uint32_t)sc.l1_bad;
	cfg->l2_entry = LAB_PROGS[prog].entry;
	memcpy(cfg->intercept, sc.intercept, sizeof(cfg->intercept));
	cfg->npt_layout = (uint32_t)sc.npt;
	cfg->nested_ctl = sc.npt ? 1 : 0;
	cfg->cpl = (uint32_t)sc.cpl;
	cfg->v_intr_masking = (uint32_t)sc.v_intr_masking;
	cfg->max_exits = (uint32_t)sc.max_exits;
	memcpy(cfg->initial_why, sc.initial_why, LAB_WHY_LEN);
	cfg->n_peeks = (uint32_t)sc.n_peeks;
	memcpy(cfg->peeks, sc.peeks, sizeof(cfg->peeks));
	for (size_t k = 0; k < NSTEPS; k++)
		if (!strcmp(LAB_STEPS[k].prog, sc.program) && cfg->n_steps < LAB_MAX_STEPS) {
			struct lab_step *st = &cfg->steps[cfg->n_steps++];
			st->rip = LAB_STEPS[k].rip;
			st->step = LAB_STEPS[k].step;
			st->len = LAB_STEPS[k].len;
		}
	cfg->n_actions = (uint32_t)sc.n_actions;
	memcpy(cfg->actions, sc.actions, sizeof(sc.actions));
	cfg->n_inject = (uint32_t)sc.n_inject;
	memcpy(cfg->inject, sc.inject, sizeof(sc.inject));
	cfg->n_attempts = (uint32_t)sc.n_attempts;
	memcpy(cfg->attempts, sc.attempts, sizeof(sc.attempts));

	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0) die("KVM_CREATE_VCPU: %s", strerror(errno));
	int nent = 256;
	struct kvm_cpuid2 *cpuid = calloc(1, sizeof(*cpuid) + (size_t)nent * sizeof(struct kvm_cpuid_entry2));
	cpuid->nent = (uint32_t)nent;
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) < 0) die("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
	if (ioctl(vcpu, KVM_SET_CPUID2, cpuid) < 0) die("KVM_SET_CPUID2: %s", strerror(errno));
	int mmap_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	struct kvm_run *run = mmap(NULL, (size_t)mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED) die("mmap kvm_run: %s", strerror(errno));

	struct kvm_sregs sregs;
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) die("KVM_GET_SREGS: %s", strerror(errno));
	struct kvm_segment code = {.base = 0, .limit = 0xffffffff, .selector = 0x08, .type = 11, .present = 1, .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1};
	struct kvm_segment data = {.base = 0, .limit = 0xffffffff, .selector = 0x10, .type = 3, .present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1};
	sregs.cs = code;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.tr = (struct kvm_segment){.base = 0, .limit = 0x67, .selector = 0, .type = 11, .present = 1, .s = 0};
	sregs.cr0 = 0x80050033; /* PG WP NE ET MP PE */
	sregs.cr3 = LAB_PML4;
	sregs.cr4 = 0x620;      /* OSXMMEXCPT OSFXSR PAE */
	sregs.efer = 0x500;     /* LMA LME */
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0) die("KVM_SET_SREGS: %s", strerror(errno));
	struct kvm_regs regs = {.rip = LAB_L1_BASE, .rflags = 2, .rsp = LAB_L1_STACK_TOP};
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0) die("KVM_SET_REGS: %s", strerror(errno));

	struct sigaction sa = {.sa_handler = on_alarm};
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {.it_value = {.tv_sec = sc.timeout}};
	setitimer(ITIMER_REAL, &it, NULL);

	const char *result = NULL;
	char result_buf[64];
	uint32_t done_status = 0;
	unsigned last_exit_reason = 0;
	while (!result) {
		if (timed_out) { result = "timeout"; break; }
		int r = ioctl(vcpu, KVM_RUN, 0);
		if (r < 0) {
			if (errno == EINTR) continue;
			snprintf(result_buf, sizeof(result_buf), "kvm-run-error-%d", errno);
			result = result_buf;
			break;
		}
		last_exit_reason = run->exit_reason;
		total_uexits++;
		struct uexit *u = n_uexits < MAX_UEXITS ? &uexits[n_uexits++] : NULL;
		switch (run->exit_reason) {
		case KVM_EXIT_IO: {
			uint8_t *d = (uint8_t *)run + run->io.data_offset;
			uint64_t v = 0;
			if (run->io.direction == KVM_EXIT_IO_OUT) memcpy(&v, d, run->io.size > 8 ? 8 : run->io.size);
			else memset(d, 0, (size_t)run->io.size * run->io.count);
			if (u) {
				strcpy(u->kind, run->io.port == LAB_PORT_MARK ? "mark" : run->io.port == LAB_PORT_DONE ? "done" : "other");
				u->port = run->io.port;
				u->dir = run->io.direction;
				u->size = run->io.size;
				u->count = run->io.count;
				u->value = v;
			}
			if (run->io.port == LAB_PORT_DONE && run->io.direction == KVM_EXIT_IO_OUT) {
				done_status = (uint32_t)v;
				result = done_status == LAB_DONE_OK ? "done" : "l1-failed";
			}
			break;
		}
		case KVM_EXIT_MMIO:
			if (u) {
				strcpy(u->kind, "mmio");
				u->addr = run->mmio.phys_addr;
				u->size = (uint8_t)run->mmio.len;
				u->dir = run->mmio.is_write;
				memcpy(&u->value, run->mmio.data, run->mmio.len > 8 ? 8 : run->mmio.len);
			}
			if (!run->mmio.is_write) memset(run->mmio.data, 0, sizeof(run->mmio.data));
			break;
		case KVM_EXIT_HLT: result = "hlt"; break;
		case KVM_EXIT_SHUTDOWN: result = "shutdown"; break;
		case KVM_EXIT_FAIL_ENTRY:
			snprintf(result_buf, sizeof(result_buf), "fail-entry-0x%llx", (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			result = result_buf;
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			snprintf(result_buf, sizeof(result_buf), "internal-error-%u", run->internal.suberror);
			result = result_buf;
			break;
		default:
			snprintf(result_buf, sizeof(result_buf), "exit-%u", run->exit_reason);
			result = result_buf;
		}
		if (u && run->exit_reason != KVM_EXIT_IO && run->exit_reason != KVM_EXIT_MMIO) {
			snprintf(u->kind, sizeof(u->kind), "exit");
			u->value = run->exit_reason;
		}
	}
	ioctl(vcpu, KVM_GET_REGS, &regs);

	/* ---- manifest ---- */
	char path[1024];
	snprintf(path, sizeof(path), "%s.json", out);
	J = fopen(path, "w");
	if (!J) die("%s: %s", path, strerror(errno));
	struct utsname un;
	uname(&un);
	char pv[64];
	char buf[64];
	fprintf(J, "{\n  \"scenario\": "); jstr(sc.name);
	fprintf(J, ",\n  \"scenario_id\": %d", sc.id);
	fprintf(J, ",\n  \"description\": "); jstr(sc.description);
	fprintf(J, ",\n  \"kernel\": "); jstr(un.release);
	static const char *params[] = {"nested", "npt", "nrips", "vgif", "vls", "avic", "lbrv", "tsc_scaling", "intercept_smi", "vnmi"};
	fprintf(J, ",\n  \"l0\": {\"kvm_amd_params\": {");
	int first = 1;
	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		read_param("kvm_amd", params[i], pv, sizeof(pv));
		if (!pv[0]) continue;
		fprintf(J, "%s", first ? "" : ", ");
		jstr(params[i]); fprintf(J, ": "); jstr(pv);
		first = 0;
	}
	unsigned a, b, c, d;
	__cpuid(0x8000000a, a, b, c, d);
	fprintf(J, "}, \"host_cpuid_8000000a\": {\"eax\": "); jhex(a);
	fprintf(J, ", \"ebx\": "); jhex(b);
	fprintf(J, ", \"edx\": "); jhex(d);
	/* CPUID Fn8000_000A_EDX[28] SVME_ADDR_CHK (APM vol 3, appendix E). */
	fprintf(J, "}, \"svme_addr_chk\": %s, \"qemu_cpu\": ", (d >> 28) & 1 ? "true" : "false");
	jstr(qemu_cpu);
	fprintf(J, ", \"hardware\": ");
	jstr("QEMU TCG (emulated AMD CPU, no nrip-save); TCG raises #GP for VMRUN/VMLOAD/VMSAVE with RAX not 4K-aligned or >= 2^phys_bits BEFORE checking the intercept");
	fprintf(J, "},\n  \"l1\": {\n    \"mode\": \"64-bit long mode, CPL0, paging identity-mapped 1 GiB, IF=0\",\n");
	uint32_t e1c = 0, e1d = 0, ea = 0, eb = 0, ed = 0, maxphy = 0, extmax = 0;
	for (uint32_t i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
		if (e->function == 0x80000001) e1c = e->ecx, e1d = e->edx;
		if (e->function == 0x8000000a) ea = e->eax, eb = e->ebx, ed = e->edx;
		if (e->function == 0x80000008) maxphy = e->eax & 0xff;
		if (e->function == 0x80000000) extmax = e->eax;
	}
	fprintf(J, "    \"guest_cpuid\": {\"80000001_ecx\": "); jhex(e1c);
	/* EDX: LM (bit 29), NX (20), FFXSR (25), which decide EFER's validity (APM vol 3, E.4.2). */
	fprintf(J, ", \"80000001_edx\": "); jhex(e1d);
	fprintf(J, ", \"svm\": %s, \"8000000a_eax\": ", (e1c >> 2) & 1 ? "true" : "false"); jhex(ea);
	fprintf(J, ", \"8000000a_ebx\": "); jhex(eb);
	fprintf(J, ", \"8000000a_edx\": "); jhex(ed);
	fprintf(J, ", \"maxphyaddr\": %u, \"ext_max\": ", maxphy); jhex(extmax);
	fprintf(J, "},\n    \"memory\": {\"size\": "); jhex(LAB_RAM_SIZE);
	fprintf(J, ", \"hsave_pa\": "); jhex(LAB_HSAVE);
	fprintf(J, ", \"vmcb12_pa\": "); jhex(LAB_VMCB12);
	fprintf(J, ", \"vmcb_aux_pa\": "); jhex(LAB_VMCB_AUX);
	fprintf(J, ", \"vmcb_aux2_pa\": "); jhex(LAB_VMCB_AUX2);
	fprintf(J, ", \"msrpm_pa\": "); jhex(LAB_MSRPM);
	fprintf(J, ", \"iopm_pa\": "); jhex(LAB_IOPM);
	fprintf(J, ", \"npt_pa\": "); jhex(LAB_NPT);
	fprintf(J, ", \"l2_code\": ");
	static const char *npt_desc[] = {"same identity map as L1 (no nested NPT unless stated)",
		"nested paging on: L1 NPT identity-maps 1 GiB", "nested paging on: L1 NPT leaves 0x70000 unmapped and 0x71000 read-only",
		"nested paging on: L1 NPT maps L2 GPA 0x70000 to L1 GPA 0x72000"};
	jstr(npt_desc[sc.npt]);
	fprintf(J, "},\n    \"bad_rax\": {\"misaligned_off\": "); jhex(LAB_BAD_MISALIGNED_OFF);
	fprintf(J, ", \"illegal_gpa\": "); jhex(LAB_BAD_ILLEGAL_GPA);
	fprintf(J, ", \"unbacked_gpa\": "); jhex(LAB_BAD_UNBACKED_GPA);
	fprintf(J, "},\n    \"msrpm_intercepts\": [");
	/* one entry per MSR, read/write flags merged */
	uint64_t msrs[64]; int nm = 0;
	for (int i = 0; i < sc.n_msr_read; i++) msrs[nm++] = sc.msr_read[i];
	for (int i = 0; i < sc.n_msr_write; i++) {
		int dup = 0;
		for (int k = 0; k < nm; k++) dup |= msrs[k] == sc.msr_write[i];
		if (!dup) msrs[nm++] = sc.msr_write[i];
	}
	for (int i = 0; i < nm; i++) {
		int rd = 0, wr = 0;
		for (int k = 0; k < sc.n_msr_read; k++) rd |= sc.msr_read[k] == msrs[i];
		for (int k = 0; k < sc.n_msr_write; k++) wr |= sc.msr_write[k] == msrs[i];
		fprintf(J, "%s{\"msr\": ", i ? ", " : ""); jhex(msrs[i]);
		fprintf(J, ", \"read\": %s, \"write\": %s}", rd ? "true" : "false", wr ? "true" : "false");
	}
	fprintf(J, "],\n    \"iopm_intercepts\": [");
	for (int i = 0; i < sc.n_io; i++) { fprintf(J, "%s{\"port\": ", i ? ", " : ""); jhex(sc.io_ports[i]); fprintf(J, "}"); }
	fprintf(J, "],\n");

	/* events from L1's log */
	struct lab_log *log = (struct lab_log *)(mem + LAB_LOG);
	int magic_ok = log->magic == LAB_LOG_MAGIC;
	uint32_t count = magic_ok ? log->count : 0;
	uint32_t maxev = (uint32_t)(sizeof(log->ev) / sizeof(log->ev[0]));
	if (count > maxev) count = maxev;
	uint32_t final_words[6];
	memcpy(final_words, sc.intercept, sizeof(final_words));
	for (uint32_t i = 0; i < count; i++)
		if (log->ev[i].kind == LAB_EV_CONFIG) {
			struct lab_event *e = &log->ev[i];
			final_words[0] = (uint32_t)e->v[0]; final_words[1] = (uint32_t)(e->v[0] >> 32);
			final_words[2] = (uint32_t)e->v[1]; final_words[3] = (uint32_t)(e->v[1] >> 32);
			final_words[4] = (uint32_t)e->v[2]; final_words[5] = (uint32_t)(e->v[2] >> 32);
		}
	fprintf(J, "    \"vmcb12_final\": ");
	vmcb_words(J, final_words);
	fprintf(J, "\n  },\n  \"l2_program\": {\"id\": %d, \"name\": ", prog);
	jstr(sc.program);
	fprintf(J, ", \"cpl\": %d, \"steps\": [", sc.cpl);
	first = 1;
	for (size_t k = 0; k < NSTEPS; k++)
		if (!strcmp(LAB_STEPS[k].prog, sc.program)) {
			fprintf(J, "%s\n    {\"step\": %u, \"rip\": ", first ? "" : ",", LAB_STEPS[k].step);
			jhex(LAB_STEPS[k].rip);
			fprintf(J, ", \"insn\": "); jstr(LAB_STEPS[k].insn);
			fprintf(J, ", \"len\": %u}", LAB_STEPS[k].len);
			first = 0;
		}
	fprintf(J, "]},\n  \"scenario_config\": {\"flow\": ");
	static const char *flows[] = {"l2", "l1-vmrun", "l1-vmload", "l1-vmsave"};
	jstr(sc.flow == LAB_FLOW_L2 ? flows[0] : flows[1 + sc.l1_insn]);
	fprintf(J, ", \"npt\": ");
	static const char *npts[] = {"off", "identity", "holes", "remap"};
	jstr(npts[sc.npt]);
	fprintf(J, ", \"l2_cpl\": %d, \"max_exits\": %d, \"timeout_seconds\": %d", sc.cpl, sc.max_exits, sc.timeout);
	fprintf(J, ", \"expect\": "); jstr(sc.expect);
	fprintf(J, ", \"livelock_on\": "); jstr(sc.livelock);
	fprintf(J, ", \"event_inj\": [");
	for (int i = 0; i < sc.n_inject; i++) {
		fprintf(J, "%s{\"after_step\": %u, \"event_inj\": ", i ? ", " : "", sc.inject[i].step); jhex(sc.inject[i].event_inj);
		fprintf(J, ", \"error_code\": "); jhex(sc.inject[i].err);
		fprintf(J, ", \"why\": "); jstr(sc.inject[i].why); fprintf(J, "}");
	}
	fprintf(J, "], \"vmrun_attempts\": [");
	for (int i = 0; i < sc.n_attempts; i++) {
		fprintf(J, "%s{\"why\": ", i ? ", " : ""); jstr(sc.attempts[i].why);
		fprintf(J, ", \"pokes\": [");
		for (uint32_t k = 0; k < sc.attempts[i].n_pokes; k++) {
			struct lab_poke *p = &sc.attempts[i].pokes[k];
			static const char *ops[] = {"set", "clear", "put"};
			fprintf(J, "%s{\"offset\": ", k ? ", " : ""); jhex(p->offset);
			fprintf(J, ", \"width\": %u, \"op\": \"%s\", \"value\": ", p->width, ops[p->op]); jhex(p->value);
			fprintf(J, "}");
		}
		fprintf(J, "]}");
	}
	fprintf(J, "]},\n  \"observed\": {\n    \"mailbox_magic_ok\": %s,\n    \"l1_status\": ", magic_ok ? "true" : "false");
	jhex(magic_ok ? log->status : 0);
	fprintf(J, ",\n    \"events\": [");
	for (uint32_t i = 0; i < count; i++) {
		struct lab_event *e = &log->ev[i];
		char text[sizeof(e->text) + 1];
		memcpy(text, (const char *)e->text, sizeof(e->text));
		text[sizeof(e->text)] = 0;
		fprintf(J, "%s\n      {\"idx\": %u, \"kind\": ", i ? "," : "", i);
		switch (e->kind) {
		case LAB_EV_NOTE:
			fprintf(J, "\"note\", \"step\": %u, \"what\": ", e->step); jstr(text);
			fprintf(J, ", \"v0\": "); jhex(e->v[0]);
			fprintf(J, ", \"v1\": "); jhex(e->v[1]);
			fprintf(J, ", \"v2\": "); jhex(e->v[2]);
			break;
		case LAB_EV_CONFIG: {
			uint32_t w[6] = {(uint32_t)e->v[0], (uint32_t)(e->v[0] >> 32), (uint32_t)e->v[1], (uint32_t)(e->v[1] >> 32), (uint32_t)e->v[2], (uint32_t)(e->v[2] >> 32)};
			fprintf(J, "\"l1_config\", \"step\": %u, \"why\": ", e->step); jstr(text);
			fprintf(J, ", \"vmcb12\": "); vmcb_words(J, w);
			fprintf(J, ", \"nested_ctl\": "); jhex(e->v[3]);
			fprintf(J, ", \"event_inj\": "); jhex(e->v[4]);
			fprintf(J, ", \"event_inj_err\": "); jhex(e->v[5]);
			break;
		}
		case LAB_EV_VMRUN:
			fprintf(J, "\"l1_vmrun\", \"step\": %u, \"rax\": ", e->step); jhex(e->v[0]);
			fprintf(J, ", \"what\": "); jstr(text);
			break;
		case LAB_EV_VMEXIT:
			fprintf(J, "\"l1_saw_vmexit\", \"l2_step\": %u, \"exit_code\": ", e->step); jhex(e->v[0]);
			fprintf(J, ", \"exit_name\": "); jstr(exit_name(e->v[0], buf));
			fprintf(J, ", \"exit_info_1\": "); jhex(e->v[1]);
			fprintf(J, ", \"exit_info_2\": "); jhex(e->v[2]);
			fprintf(J, ", \"exit_int_info\": "); jhex(e->v[3]);
			fprintf(J, ", \"exit_int_info_err\": "); jhex(e->v[4]);
			fprintf(J, ", \"l2_rip\": "); jhex(e->v[5]);
			fprintf(J, ", \"next_rip\": "); jhex(e->v[6]);
			break;
		case LAB_EV_EXCEPTION:
			fprintf(J, "\"exception\", \"context\": \"%s\", \"step\": %u, \"vector\": %llu, \"name\": ",
				e->v[5] ? "L2" : "L1", e->step, (unsigned long long)e->v[0]);
			jstr(e->v[0] < 32 ? EXC_NAMES[e->v[0]] : "INTn");
			fprintf(J, ", \"error_code\": "); jhex(e->v[1]);
			fprintf(J, ", \"rip\": "); jhex(e->v[2]);
			fprintf(J, ", \"insn_len\": %llu, \"cr2\": ", (unsigned long long)e->v[4]); jhex(e->v[3]);
			fprintf(J, ", \"injected\": %s", e->v[6] ? "true" : "false");
			break;
		default:
			fprintf(J, "\"unknown\", \"raw_kind\": %u", e->kind);
		}
		fprintf(J, "}");
	}
	fprintf(J, "\n    ],\n    \"userspace_exits\": [");
	for (unsigned i = 0; i < n_uexits; i++) {
		struct uexit *u = &uexits[i];
		fprintf(J, "%s\n    ", i ? "," : "");
		if (!strcmp(u->kind, "mmio")) {
			fprintf(J, "{\"exit\": \"mmio\", \"addr\": "); jhex(u->addr);
			fprintf(J, ", \"dir\": \"%s\", \"size\": %u, \"value\": ", u->dir ? "write" : "read", u->size); jhex(u->value);
			fprintf(J, "}");
		} else if (!strcmp(u->kind, "exit")) {
			fprintf(J, "{\"exit\": \"other\", \"exit_reason\": %llu}", (unsigned long long)u->value);
		} else {
			fprintf(J, "{\"exit\": \"io\", \"kind\": \"%s\", \"port\": ", u->kind); jhex(u->port);
			fprintf(J, ", \"dir\": \"%s\", \"size\": %u, \"count\": %u, \"value\": ", u->dir ? "out" : "in", u->size, u->count); jhex(u->value);
			fprintf(J, "}");
		}
	}
	fprintf(J, "\n    ],\n    \"userspace_exit_count\": %u,\n    \"userspace_exits_truncated\": %s,\n    \"result\": ", total_uexits, total_uexits > n_uexits ? "true" : "false");
	jstr(result);
	fprintf(J, ",\n    \"done_status\": "); jhex(done_status);
	fprintf(J, ",\n    \"last_exit_reason\": %u,\n    \"l1_final_rip\": ", last_exit_reason); jhex(regs.rip);
	fprintf(J, ",\n    \"l1_text\": \"\"\n  }\n}\n");
	fclose(J);
	printf("svmlab: %s: result %s, %u L1 events, %u userspace exits\n", sc.name, result, count, total_uexits);
	if (!strcmp(result, "timeout")) return 2;
	return strcmp(result, sc.expect_result) == 0 ? 0 : 1;
}
