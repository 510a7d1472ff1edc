// A stand-in for libcuda.so.1 that lets the CudaFake*Test classes exercise the Java bindings (every
// downcall's signature, argument marshalling, copies, logs, releases) on machines without a GPU. It is
// not CUDA: "device" memory is host malloc, tracked per allocation so copies and launches outside one
// fail instead of corrupting memory.
// cuLaunchKernel: with a launch hook set (fake_set_launch_hook; FakeCuda sets one for every test), it
// hands the module's PTX, the entry, the grid and the raw kernelParams to the hook, which is Java
// (PtxLaunchHook: an FFM upcall running the REAL PTX in PtxInterpreter) and returns its result. So the
// tests run every kernel through the real PTX and the real parameter ABI. Without a hook (by hand, e.g.
// the bench recipe in docs/performance.md) it runs only the sgd and nag EXACT kernels, in C (built with
// -ffp-contract=off, so each op rounds once, as the IR says), and returns 801 for every other kernel;
// CudaFakeDriverTest checks that C path against the evaluator.
// By hand: gcc -O1 -ffp-contract=off -shared -fPIC -o /tmp/fake/libcuda.so.1 fake_libcuda.c
//          LD_LIBRARY_PATH=/tmp/fake ./nag4j bench-device --backend cuda:0 ...
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
typedef int CUresult;
static int verbose = 0;
// Names every code FAKE_ERROR_<code>, except 900 and up, which it "does not know" (as a real driver may not).
CUresult cuGetErrorName(CUresult e, const char **s) {
    static char buf[64];
    if (e >= 900) { *s = NULL; return 1; }
    snprintf(buf, 64, "FAKE_ERROR_%d", e); *s = buf; return 0;
}
static CUresult initResult = 0; // what cuInit returns, set by tests: a driver that is there but unusable
void fake_set_init_result(int rc) { initResult = rc; }
CUresult cuInit(unsigned f) { verbose = getenv("FAKE_CUDA_VERBOSE") != NULL; return f != 0 ? 1 : initResult; }
CUresult cuDriverGetVersion(int *v) { *v = 12080; return 0; }
CUresult cuDeviceGetCount(int *c) { *c = 1; return 0; }
CUresult cuDeviceGet(int *d, int o) { if (o != 0) return 101; *d = 0; return 0; }
CUresult cuDeviceGetName(char *n, int len, int d) { snprintf(n, len, "Fake GPU"); return 0; }
CUresult cuDeviceTotalMem_v2(size_t *b, int d) { *b = (size_t)1 << 30; return 0; }
CUresult cuDeviceGetAttribute(int *v, int a, int d) { *v = a == 16 ? 132 : a == 75 ? 9 : a == 76 ? 0 : -1; return *v < 0 ? 1 : 0; }
static int ctxRefs = 0;
CUresult cuDevicePrimaryCtxRetain(void **c, int d) { ctxRefs++; *c = (void *)0x1000; return 0; }
CUresult cuDevicePrimaryCtxRelease_v2(int d) { if (ctxRefs <= 0) return 201; ctxRefs--; if (verbose) fprintf(stderr, "fake: ctx refs %d\n", ctxRefs); return 0; }
CUresult cuCtxSetCurrent(void *c) { return c == (void *)0x1000 ? 0 : 201; }
static long live = 0; // live allocations of any kind
long fake_live(void) { return live; }
int fake_ctx_refs(void) { return ctxRefs; }
CUresult cuModuleLoadDataEx(void **m, const void *image, unsigned n, int *opts, void **vals) {
    char *err = NULL, *info = NULL; size_t errN = 0, infoN = 0;
    for (unsigned i = 0; i < n; i++) {
        switch (opts[i]) {
            case 3: info = vals[i]; break;
            case 4: infoN = (size_t)vals[i]; break;
            case 5: err = vals[i]; break;
            case 6: errN = (size_t)vals[i]; break;
            case 12: if ((size_t)vals[i] > 1) return 1; break; // CU_JIT_LOG_VERBOSE: an int, 0 or 1
            default: return 1; // an option the stand-in does not know: the test should learn of it
        }
    }
    if (strstr(image, "FAKE_JIT_FAIL")) { if (err && errN > 20) snprintf(err, errN, "fake ptxas error: line 1"); return 218; }
    if (info && infoN > 20) snprintf(info, infoN, "fake info: %zu bytes", strlen(image));
    *m = strdup(image); live++; return 0;
}
typedef struct { char *text; char name[128]; int nIn, nScalar; } Fn;
CUresult cuModuleGetFunction(void **f, void *m, const char *name) {
    char pat[160]; snprintf(pat, sizeof pat, ".entry %s(", name);
    if (!strstr(m, pat)) return 500;
    Fn *fn = calloc(1, sizeof(Fn)); fn->text = m; snprintf(fn->name, 128, "%s", name);
    for (char *p = strstr(m, ".param .u64 p_in"); p; p = strstr(p + 1, ".param .u64 p_in")) fn->nIn++;
    for (char *p = strstr(m, ".param .f32 p_s"); p; p = strstr(p + 1, ".param .f32 p_s")) fn->nScalar++;
    *f = fn; return 0; // leaked per module: fine for a test stub
}
CUresult cuModuleUnload(void *m) { free(m); live--; return 0; }
/* Device allocations, address -> size, so the launch hook can bound each pointer argument to its
   allocation and copies out of range fail (1, INVALID_VALUE) rather than corrupt the heap. */
static struct { uint64_t p, b; } *allocs;
static int nallocs, capallocs;
/* The allocation holding [p, p + b): its index, or -1. */
static int alloc_of(uint64_t p, uint64_t b) {
    for (int i = 0; i < nallocs; i++) if (p >= allocs[i].p && p - allocs[i].p < allocs[i].b && b <= allocs[i].b - (p - allocs[i].p)) return i;
    return -1;
}
/* For the launch hook: the base and size of the allocation holding address p; 0 if none does. */
int fake_alloc_lookup(uint64_t p, uint64_t *base, uint64_t *size) {
    int i = alloc_of(p, 1);
    if (i < 0) return 0;
    *base = allocs[i].p; *size = allocs[i].b; return 1;
}
CUresult cuMemAlloc_v2(uint64_t *p, size_t b) {
    if (b == 0) return 1;
    if (nallocs == capallocs) {
        capallocs = capallocs ? 2 * capallocs : 64;
        allocs = realloc(allocs, capallocs * sizeof *allocs);
    }
    // 256-byte aligned as cuMemAlloc's are, with at least 256 unused bytes after each allocation, so an
    // access just past one lands in no allocation (and fails the launch) rather than in the next.
    void *m = NULL;
    if (posix_memalign(&m, 256, ((b + 255) & ~(size_t)255) + 256)) return 2;
    allocs[nallocs].p = *p = (uint64_t)(uintptr_t)m; allocs[nallocs].b = b; nallocs++;
    live++; return 0;
}
CUresult cuMemFree_v2(uint64_t p) {
    for (int i = 0; i < nallocs; i++) if (allocs[i].p == p) {
        allocs[i] = allocs[--nallocs]; free((void *)(uintptr_t)p); live--; return 0;
    }
    return 1; // not an allocation's base (or freed twice)
}
CUresult cuMemcpyHtoD_v2(uint64_t d, const void *s, size_t b) { if (alloc_of(d, b) < 0) return 1; memcpy((void *)(uintptr_t)d, s, b); return 0; }
CUresult cuMemcpyDtoH_v2(void *d, uint64_t s, size_t b) { if (alloc_of(s, b) < 0) return 1; memcpy(d, (void *)(uintptr_t)s, b); return 0; }
CUresult cuMemcpyHtoDAsync_v2(uint64_t d, const void *s, size_t b, void *st) { if (!st) return 400; return cuMemcpyHtoD_v2(d, s, b); }
CUresult cuMemcpyDtoHAsync_v2(void *d, uint64_t s, size_t b, void *st) { if (!st) return 400; return cuMemcpyDtoH_v2(d, s, b); }
CUresult cuMemHostAlloc(void **p, size_t b, unsigned f) { *p = malloc(b); live++; return 0; }
CUresult cuMemFreeHost(void *p) { free(p); live--; return 0; }
CUresult cuMemcpyDtoDAsync_v2(uint64_t d, uint64_t s, size_t b, void *st) { if (!st) return 400; if (alloc_of(d, b) < 0 || alloc_of(s, b) < 0) return 1; memmove((void *)(uintptr_t)d, (void *)(uintptr_t)s, b); return 0; }
/* As the real driver: a range overlapping a registered one is refused (712), unregistering a pointer
   that was not registered too (713). */
static struct { char *p; size_t b; } regs[64];
static int nregs;
CUresult cuMemHostRegister_v2(void *p, size_t b, unsigned f) {
  if (b == 0 || p == NULL) return 1;
  for (int i = 0; i < nregs; i++) if ((char *)p < regs[i].p + regs[i].b && regs[i].p < (char *)p + b) return 712;
  if (nregs == 64) return 2;
  regs[nregs].p = p; regs[nregs].b = b; nregs++;
  return 0;
}
CUresult cuMemHostUnregister(void *p) {
  for (int i = 0; i < nregs; i++) if (regs[i].p == p) { regs[i] = regs[--nregs]; return 0; }
  return 713;
}
int fake_registered(void) { return nregs; }
CUresult cuStreamCreate(void **s, unsigned f) { if (f > 1) return 1; *s = malloc(1); live++; return 0; }
CUresult cuStreamDestroy_v2(void *s) { free(s); live--; if (verbose) fprintf(stderr, "fake: live allocations after stream destroy %ld\n", live); return 0; }
CUresult cuStreamSynchronize(void *s) { return s ? 0 : 400; }
CUresult cuEventCreate(void **e, unsigned f) { *e = malloc(8); live++; return 0; }
CUresult cuEventRecord(void *e, void *s) { return e && s ? 0 : 400; }
CUresult cuEventSynchronize(void *e) { return 0; }
CUresult cuEventElapsedTime(float *ms, void *a, void *b) { *ms = 0.0015f; return 0; }
CUresult cuEventDestroy_v2(void *e) { free(e); live--; return 0; }
typedef int (*LaunchHook)(const char *ptx, const char *entry, unsigned gridX, unsigned blockX, void **kernelParams);
static LaunchHook hook;
/* The function cuLaunchKernel hands every launch to (NULL: the C kernels below). */
void fake_set_launch_hook(LaunchHook h) { hook = h; }
CUresult cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shm, void *st, void **params, void **extra) {
    Fn *fn = f;
    if (!fn || !params || gx == 0 || bx == 0 || gy != 1 || gz != 1 || by != 1 || bz != 1 || shm != 0 || !st || extra) return 1;
    if (verbose) fprintf(stderr, "fake launch %s grid=%u block=%u%s\n", fn->name, gx, bx, hook ? " (hook)" : "");
    if (hook) return hook(fn->text, fn->name, gx, bx, params);
    // Without a hook: the sgd and nag kernels in C (no contraction: built with -ffp-contract=off), one element at a time.
    uint64_t n = *(uint64_t *)params[0];
    if ((uint64_t)gx * bx < n || (uint64_t)(gx - 1) * bx >= n) return 1;
    float *in[8]; float s[8];
    if (fn->nIn > 8 || fn->nScalar > 8) return 801;
    for (int i = 0; i < fn->nIn; i++) {
        in[i] = (float *)(uintptr_t)*(uint64_t *)params[1 + i];
        if (alloc_of((uint64_t)(uintptr_t)in[i], 4 * n) < 0) return 719;
    }
    for (int i = 0; i < fn->nScalar; i++) s[i] = *(float *)params[1 + fn->nIn + i];
    if (!strcmp(fn->name, "nag4j_sgd_exact")) {
        for (uint64_t i = 0; i < n; i++) { float t = in[1][i] * s[0]; in[0][i] = in[0][i] - t; }
    } else if (!strcmp(fn->name, "nag4j_nag_exact")) {
        float muEff = s[1] * s[2];
        for (uint64_t i = 0; i < n; i++) {
            float t1 = in[1][i] * s[0]; float phi = in[0][i] - t1; float d = phi - in[2][i]; float m = d * muEff;
            in[0][i] = phi + m; in[2][i] = phi;
        }
    } else return 801;
    return 0;
}
