package interop

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// forkHarness dlopens the library, initialises it, and forks while a
// parent thread keeps calling into the module. In each child, within one
// second (alarm): C_GetSlotList and C_GetInfo must return
// CKR_CRYPTOKI_NOT_INITIALIZED, C_Initialize must be refused with
// CKR_GENERAL_ERROR (docs/fork-safety.md), C_Finalize must return
// CKR_CRYPTOKI_NOT_INITIALIZED. Exit codes: 0 ok, 14+128 / SIGALRM = hang.
const forkHarness = `
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "craton_pkcs11.h"

static CK_FUNCTION_LIST_PTR f;
static volatile int stop;

static void *busy(void *arg) {
	(void)arg;
	while (!stop) {
		CK_ULONG n = 0;
		CK_INFO info;
		if (f->C_GetSlotList(CK_FALSE, NULL_PTR, &n) != CKR_OK || f->C_GetInfo(&info) != CKR_OK) {
			fprintf(stderr, "parent thread: call failed\n");
			exit(20);
		}
	}
	return NULL;
}

static int child(void) {
	CK_ULONG n = 0;
	CK_INFO info;
	CK_RV rv;
	alarm(1);
	if ((rv = f->C_GetSlotList(CK_FALSE, NULL_PTR, &n)) != CKR_CRYPTOKI_NOT_INITIALIZED) return 10;
	if ((rv = f->C_GetInfo(&info)) != CKR_CRYPTOKI_NOT_INITIALIZED) return 11;
	if ((rv = f->C_Initialize(NULL_PTR)) != CKR_GENERAL_ERROR) return 12;
	if ((rv = f->C_GetSlotList(CK_FALSE, NULL_PTR, &n)) != CKR_CRYPTOKI_NOT_INITIALIZED) return 13;
	if ((rv = f->C_Finalize(NULL_PTR)) != CKR_CRYPTOKI_NOT_INITIALIZED) return 14;
	return 0;
}

int main(int argc, char **argv) {
	void *h;
	CK_C_GetFunctionList gfl;
	CK_C_INITIALIZE_ARGS args;
	CK_ULONG n = 0;
	pthread_t th;
	int i, rounds = argc > 2 ? atoi(argv[2]) : 20;
	if (!(h = dlopen(argv[1], RTLD_NOW))) { fprintf(stderr, "%s\n", dlerror()); return 2; }
	gfl = (CK_C_GetFunctionList)dlsym(h, "C_GetFunctionList");
	if (!gfl || gfl(&f) != CKR_OK) return 3;
	memset(&args, 0, sizeof args);
	args.flags = CKF_OS_LOCKING_OK;
	if (f->C_Initialize(&args) != CKR_OK) return 4;
	if (f->C_GetSlotList(CK_FALSE, NULL_PTR, &n) != CKR_OK || n < 1) return 5;
	pthread_create(&th, NULL, busy, NULL);
	for (i = 0; i < rounds; i++) {
		int st;
		pid_t pid = fork();
		if (pid < 0) return 6;
		if (pid == 0) _exit(child());
		if (waitpid(pid, &st, 0) != pid) return 7;
		if (WIFSIGNALED(st)) { fprintf(stderr, "child %d killed by signal %d (%s)\n", i, WTERMSIG(st), WTERMSIG(st) == SIGALRM ? "hang" : "crash"); return 8; }
		if (WEXITSTATUS(st) != 0) { fprintf(stderr, "child %d exited %d\n", i, WEXITSTATUS(st)); return 9; }
	}
	stop = 1;
	pthread_join(th, NULL);
	if (f->C_GetSlotList(CK_FALSE, NULL_PTR, &n) != CKR_OK) return 15;
	if (f->C_Finalize(NULL_PTR) != CKR_OK) return 16;
	printf("ok %d forks\n", rounds);
	return 0;
}
`

// compileC builds a C test program against the vendored headers.
func compileC(t *testing.T, name, src string) string {
	t.Helper()
	gcc := needTool(t, "gcc")
	dir := t.TempDir()
	c := filepath.Join(dir, name+".c")
	if err := os.WriteFile(c, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, name)
	inc := filepath.Join(repoRoot(), "capi", "include")
	out, err := exec.Command(gcc, "-Wall", "-Werror", "-O1", "-I", inc, "-o", bin, c, "-ldl", "-lpthread").CombinedOutput()
	if err != nil {
		t.Fatalf("gcc %s: %v\n%s", name, err, out)
	}
	return bin
}

func TestForkChildGetsNotInitialized(t *testing.T) {
	bin := compileC(t, "forkharness", forkHarness)
	s := newToken(t)
	out, err := s.run(2*time.Minute, nil, bin, libPath, "25")
	if err != nil {
		t.Fatalf("fork harness: %v\n%s", err, out)
	}
	mustContain(t, out, "ok 25 forks", "C_Initialize refused in a forked child")
}

// pkcs11-tool --test-fork calls C_Initialize in the child: it must not
// hang. The refusal makes the child (and so pkcs11-tool) exit with an
// error, which is the documented behaviour (docs/fork-safety.md).
func TestToolTestForkDoesNotHang(t *testing.T) {
	s := newToken(t)
	out, err := s.tryTool("--test-fork")
	if err != nil && strings.Contains(err.Error(), "timed out") {
		t.Fatalf("pkcs11-tool --test-fork hung:\n%s", out)
	}
	mustContain(t, out, "Calling C_Initialize in forked child", "C_Initialize refused in a forked child")
}
