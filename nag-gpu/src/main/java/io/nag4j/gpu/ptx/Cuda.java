package io.nag4j.gpu.ptx;

import io.nag4j.gpu.device.DeviceUnavailableException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The CUDA driver API ({@code libcuda.so.1}) as FFM downcall handles: one method per C function,
 * each taking the C arguments and throwing {@link CudaException} (with the result's name) for any
 * {@code CUresult} other than {@code CUDA_SUCCESS}. Handles ({@code CUcontext}, {@code CUstream},
 * ...) are {@link MemorySegment} addresses; {@code CUdeviceptr} and {@code size_t} are {@code long}.
 * Out-parameters are written into caller-provided segments, so callers own all native memory.
 */
public final class Cuda {
    /** The library the driver ships; the unversioned {@code libcuda.so} only comes with the toolkit. */
    public static final String LIBRARY = "libcuda.so.1";

    // CUdevice_attribute
    public static final int ATTR_MULTIPROCESSOR_COUNT = 16;
    public static final int ATTR_COMPUTE_CAPABILITY_MAJOR = 75;
    public static final int ATTR_COMPUTE_CAPABILITY_MINOR = 76;
    // CUjit_option
    public static final int JIT_INFO_LOG_BUFFER = 3;
    public static final int JIT_INFO_LOG_BUFFER_SIZE_BYTES = 4;
    public static final int JIT_ERROR_LOG_BUFFER = 5;
    public static final int JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;
    public static final int JIT_LOG_VERBOSE = 12;
    // cuMemHostAlloc and cuMemHostRegister flags (the same bit, two names in cuda.h)
    public static final int MEMHOSTALLOC_PORTABLE = 0x01;
    public static final int MEMHOSTREGISTER_PORTABLE = 0x01;
    // cuStreamCreate: no implicit synchronization with the legacy NULL stream other libraries may use
    public static final int STREAM_NON_BLOCKING = 0x01;
    // CUresult values of cuInit that mean "no usable driver" (35 is the runtime API's cudaErrorInsufficientDriver,
    // not a driver result): a stub library, a kernel module and user library of different versions, a
    // forward-compatibility package the device cannot use, or the OS refusing (missing device nodes).
    public static final int ERROR_NO_DEVICE = 100;
    public static final int ERROR_STUB_LIBRARY = 34;
    public static final int ERROR_OPERATING_SYSTEM = 304;
    public static final int ERROR_SYSTEM_NOT_READY = 802; // e.g. an NVSwitch machine whose fabric manager is not running
    public static final int ERROR_SYSTEM_DRIVER_MISMATCH = 803;
    public static final int ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE = 804;

    /** Names of common results, for when {@code cuGetErrorName} itself does not know one. */
    static final Map<Integer, String> KNOWN_ERRORS = Map.ofEntries(
            Map.entry(0, "CUDA_SUCCESS"), Map.entry(1, "CUDA_ERROR_INVALID_VALUE"), Map.entry(2, "CUDA_ERROR_OUT_OF_MEMORY"),
            Map.entry(3, "CUDA_ERROR_NOT_INITIALIZED"), Map.entry(4, "CUDA_ERROR_DEINITIALIZED"),
            Map.entry(34, "CUDA_ERROR_STUB_LIBRARY"), Map.entry(304, "CUDA_ERROR_OPERATING_SYSTEM"),
            Map.entry(802, "CUDA_ERROR_SYSTEM_NOT_READY"), Map.entry(803, "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH"), Map.entry(804, "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE"),
            Map.entry(46, "CUDA_ERROR_DEVICE_UNAVAILABLE"), Map.entry(100, "CUDA_ERROR_NO_DEVICE"),
            Map.entry(101, "CUDA_ERROR_INVALID_DEVICE"), Map.entry(200, "CUDA_ERROR_INVALID_IMAGE"),
            Map.entry(201, "CUDA_ERROR_INVALID_CONTEXT"), Map.entry(209, "CUDA_ERROR_NO_BINARY_FOR_GPU"),
            Map.entry(218, "CUDA_ERROR_INVALID_PTX"), Map.entry(221, "CUDA_ERROR_JIT_COMPILER_NOT_FOUND"),
            Map.entry(222, "CUDA_ERROR_UNSUPPORTED_PTX_VERSION"), Map.entry(400, "CUDA_ERROR_INVALID_HANDLE"),
            Map.entry(500, "CUDA_ERROR_NOT_FOUND"), Map.entry(600, "CUDA_ERROR_NOT_READY"),
            Map.entry(700, "CUDA_ERROR_ILLEGAL_ADDRESS"), Map.entry(701, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES"),
            Map.entry(702, "CUDA_ERROR_LAUNCH_TIMEOUT"), Map.entry(719, "CUDA_ERROR_LAUNCH_FAILED"),
            Map.entry(999, "CUDA_ERROR_UNKNOWN"));

    private static final Object LOCK = new Object();
    private static Cuda instance;

    private final MethodHandle cuGetErrorName, cuInit, cuDriverGetVersion, cuDeviceGetCount, cuDeviceGet,
            cuDeviceGetName, cuDeviceTotalMem, cuDeviceGetAttribute, cuDevicePrimaryCtxRetain,
            cuDevicePrimaryCtxRelease, cuCtxSetCurrent, cuModuleLoadDataEx, cuModuleGetFunction, cuModuleUnload,
            cuMemAlloc, cuMemFree, cuMemcpyHtoD, cuMemcpyDtoH, cuMemcpyHtoDAsync, cuMemcpyDtoHAsync, cuMemcpyDtoDAsync,
            cuMemHostAlloc, cuMemFreeHost, cuMemHostRegister, cuMemHostUnregister, cuStreamCreate, cuStreamDestroy,
            cuStreamSynchronize, cuEventCreate, cuEventRecord, cuEventSynchronize, cuEventElapsedTime,
            cuEventDestroy, cuLaunchKernel;

    private Cuda(SymbolLookup lib) {
        Linker l = Linker.nativeLinker();
        Fn f = new Fn(l, lib);
        cuGetErrorName = f.h("cuGetErrorName", JAVA_INT, ADDRESS);
        cuInit = f.h("cuInit", JAVA_INT);
        cuDriverGetVersion = f.h("cuDriverGetVersion", ADDRESS);
        cuDeviceGetCount = f.h("cuDeviceGetCount", ADDRESS);
        cuDeviceGet = f.h("cuDeviceGet", ADDRESS, JAVA_INT);
        cuDeviceGetName = f.h("cuDeviceGetName", ADDRESS, JAVA_INT, JAVA_INT);
        cuDeviceTotalMem = f.h("cuDeviceTotalMem_v2", ADDRESS, JAVA_INT);
        cuDeviceGetAttribute = f.h("cuDeviceGetAttribute", ADDRESS, JAVA_INT, JAVA_INT);
        cuDevicePrimaryCtxRetain = f.h("cuDevicePrimaryCtxRetain", ADDRESS, JAVA_INT);
        cuDevicePrimaryCtxRelease = f.h("cuDevicePrimaryCtxRelease_v2", JAVA_INT);
        cuCtxSetCurrent = f.h("cuCtxSetCurrent", ADDRESS);
        cuModuleLoadDataEx = f.h("cuModuleLoadDataEx", ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
        cuModuleGetFunction = f.h("cuModuleGetFunction", ADDRESS, ADDRESS, ADDRESS);
        cuModuleUnload = f.h("cuModuleUnload", ADDRESS);
        cuMemAlloc = f.h("cuMemAlloc_v2", ADDRESS, JAVA_LONG);
        cuMemFree = f.h("cuMemFree_v2", JAVA_LONG);
        cuMemcpyHtoD = f.h("cuMemcpyHtoD_v2", JAVA_LONG, ADDRESS, JAVA_LONG);
        cuMemcpyDtoH = f.h("cuMemcpyDtoH_v2", ADDRESS, JAVA_LONG, JAVA_LONG);
        cuMemcpyHtoDAsync = f.h("cuMemcpyHtoDAsync_v2", JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS);
        cuMemcpyDtoHAsync = f.h("cuMemcpyDtoHAsync_v2", ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS);
        cuMemcpyDtoDAsync = f.h("cuMemcpyDtoDAsync_v2", JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS);
        cuMemHostAlloc = f.h("cuMemHostAlloc", ADDRESS, JAVA_LONG, JAVA_INT);
        cuMemFreeHost = f.h("cuMemFreeHost", ADDRESS);
        cuMemHostRegister = f.h("cuMemHostRegister_v2", ADDRESS, JAVA_LONG, JAVA_INT);
        cuMemHostUnregister = f.h("cuMemHostUnregister", ADDRESS);
        cuStreamCreate = f.h("cuStreamCreate", ADDRESS, JAVA_INT);
        cuStreamDestroy = f.h("cuStreamDestroy_v2", ADDRESS);
        cuStreamSynchronize = f.h("cuStreamSynchronize", ADDRESS);
        cuEventCreate = f.h("cuEventCreate", ADDRESS, JAVA_INT);
        cuEventRecord = f.h("cuEventRecord", ADDRESS, ADDRESS);
        cuEventSynchronize = f.h("cuEventSynchronize", ADDRESS);
        cuEventElapsedTime = f.h("cuEventElapsedTime", ADDRESS, ADDRESS, ADDRESS);
        cuEventDestroy = f.h("cuEventDestroy_v2", ADDRESS);
        cuLaunchKernel = f.h("cuLaunchKernel", ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
    }

    /** Looks up symbols and builds {@code CUresult f(...)} handles. */
    private record Fn(Linker linker, SymbolLookup lib) {
        MethodHandle h(String name, MemoryLayout... args) {
            MemorySegment addr = lib.find(name).orElseThrow(() ->
                    new DeviceUnavailableException(LIBRARY + " lacks " + name + ": the NVIDIA driver is too old"));
            return linker.downcallHandle(addr, FunctionDescriptor.of(JAVA_INT, args));
        }
    }

    /**
     * The driver's bindings, loaded once per process.
     *
     * @throws DeviceUnavailableException if {@code libcuda.so.1} cannot be loaded
     */
    public static Cuda get() {
        synchronized (LOCK) {
            if (instance == null) instance = load(LIBRARY);
            return instance;
        }
    }

    /** Loads bindings from {@code library} (a name the dynamic linker resolves, or a path). */
    static Cuda load(String library) {
        SymbolLookup lib;
        try {
            lib = SymbolLookup.libraryLookup(library, Arena.global());
        } catch (IllegalArgumentException | IllegalCallerException e) {
            throw new DeviceUnavailableException(library + " not found: no NVIDIA driver (" + e.getMessage() + ")", e);
        }
        return new Cuda(lib);
    }

    // ---- errors ----

    /** Throws {@link CudaException} naming {@code call} unless {@code rc} is CUDA_SUCCESS. */
    void check(int rc, String call) {
        if (rc != 0) throw new CudaException(call, rc, errorName(rc));
    }

    /** {@code cuGetErrorName}, with a fallback table for codes it does not know. */
    public String errorName(int rc) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            int r = (int) cuGetErrorName.invokeExact(rc, out);
            MemorySegment p = out.get(ADDRESS, 0);
            if (r == 0 && !p.equals(MemorySegment.NULL)) return p.reinterpret(256).getString(0);
        } catch (Throwable t) {
            // fall through to the table
        }
        return KNOWN_ERRORS.getOrDefault(rc, "CUresult " + rc);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    // ---- the driver API, one method per function ----

    /** {@code cuInit(0)}; returns the raw result so a caller can tell "no device" from other failures. */
    public int cuInit() {
        try { return (int) cuInit.invokeExact(0); } catch (Throwable t) { throw rethrow(t); }
    }

    public int driverVersion() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check((int) cuDriverGetVersion.invokeExact(v), "cuDriverGetVersion");
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) { throw rethrow(t); }
    }

    public int deviceCount() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check((int) cuDeviceGetCount.invokeExact(v), "cuDeviceGetCount");
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@code cuDeviceGet}: the CUdevice of ordinal {@code ordinal}. */
    public int device(int ordinal) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check((int) cuDeviceGet.invokeExact(v, ordinal), "cuDeviceGet(" + ordinal + ")");
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) { throw rethrow(t); }
    }

    public String deviceName(int dev) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(256);
            check((int) cuDeviceGetName.invokeExact(buf, 256, dev), "cuDeviceGetName");
            return buf.getString(0);
        } catch (Throwable t) { throw rethrow(t); }
    }

    public long deviceTotalMem(int dev) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_LONG);
            check((int) cuDeviceTotalMem.invokeExact(v, dev), "cuDeviceTotalMem_v2");
            return v.get(JAVA_LONG, 0);
        } catch (Throwable t) { throw rethrow(t); }
    }

    public int deviceAttribute(int attribute, int dev) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check((int) cuDeviceGetAttribute.invokeExact(v, attribute, dev), "cuDeviceGetAttribute(" + attribute + ")");
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) { throw rethrow(t); }
    }

    public MemorySegment primaryCtxRetain(int dev) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ADDRESS);
            check((int) cuDevicePrimaryCtxRetain.invokeExact(v, dev), "cuDevicePrimaryCtxRetain");
            return v.get(ADDRESS, 0);
        } catch (Throwable t) { throw rethrow(t); }
    }

    public void primaryCtxRelease(int dev) {
        try { check((int) cuDevicePrimaryCtxRelease.invokeExact(dev), "cuDevicePrimaryCtxRelease_v2"); } catch (Throwable t) { throw rethrow(t); }
    }

    public void ctxSetCurrent(MemorySegment ctx) {
        try { check((int) cuCtxSetCurrent.invokeExact(ctx), "cuCtxSetCurrent"); } catch (Throwable t) { throw rethrow(t); }
    }

    /** A module and the JIT's logs. {@code module} is NULL when the load failed ({@code result} != 0). */
    public record ModuleLoad(MemorySegment module, int result, String errorLog, String infoLog) {}

    /**
     * {@code cuModuleLoadDataEx} of NUL-terminated PTX text with error and info log buffers. Returns the
     * raw result with both logs, so the caller can put the JIT's own words in its exception.
     */
    public ModuleLoad moduleLoadPtx(String ptx) {
        final int logSize = 16 * 1024;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment image = a.allocateFrom(ptx);
            // One byte more than the driver is told, still zero: a full log is still NUL-terminated.
            MemorySegment errLog = a.allocate(logSize + 1);
            MemorySegment infoLog = a.allocate(logSize + 1);
            MemorySegment opts = a.allocate(JAVA_INT, 5);
            MemorySegment vals = a.allocate(ADDRESS, 5);
            opts.setAtIndex(JAVA_INT, 0, JIT_ERROR_LOG_BUFFER);
            vals.setAtIndex(ADDRESS, 0, errLog);
            opts.setAtIndex(JAVA_INT, 1, JIT_ERROR_LOG_BUFFER_SIZE_BYTES);
            vals.setAtIndex(ADDRESS, 1, MemorySegment.ofAddress(logSize));
            opts.setAtIndex(JAVA_INT, 2, JIT_INFO_LOG_BUFFER);
            vals.setAtIndex(ADDRESS, 2, infoLog);
            opts.setAtIndex(JAVA_INT, 3, JIT_INFO_LOG_BUFFER_SIZE_BYTES);
            vals.setAtIndex(ADDRESS, 3, MemorySegment.ofAddress(logSize));
            opts.setAtIndex(JAVA_INT, 4, JIT_LOG_VERBOSE); // registers and spills in the info log
            vals.setAtIndex(ADDRESS, 4, MemorySegment.ofAddress(1));
            MemorySegment out = a.allocate(ADDRESS);
            int rc = (int) cuModuleLoadDataEx.invokeExact(out, image, 5, opts, vals);
            return new ModuleLoad(rc == 0 ? out.get(ADDRESS, 0) : MemorySegment.NULL, rc,
                    errLog.getString(0).strip(), infoLog.getString(0).strip());
        } catch (Throwable t) { throw rethrow(t); }
    }

    public MemorySegment moduleGetFunction(MemorySegment module, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            check((int) cuModuleGetFunction.invokeExact(out, module, a.allocateFrom(name)), "cuModuleGetFunction(" + name + ")");
            return out.get(ADDRESS, 0);
        } catch (Throwable t) { throw rethrow(t); }
    }

    public void moduleUnload(MemorySegment module) {
        try { check((int) cuModuleUnload.invokeExact(module), "cuModuleUnload"); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@code cuMemAlloc_v2}: a device pointer. */
    public long memAlloc(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG);
            check((int) cuMemAlloc.invokeExact(out, bytes), "cuMemAlloc_v2(" + bytes + " bytes)");
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) { throw rethrow(t); }
    }

    public void memFree(long dptr) {
        try { check((int) cuMemFree.invokeExact(dptr), "cuMemFree_v2"); } catch (Throwable t) { throw rethrow(t); }
    }

    public void memcpyHtoD(long dst, MemorySegment src, long bytes) {
        try { check((int) cuMemcpyHtoD.invokeExact(dst, src, bytes), "cuMemcpyHtoD_v2"); } catch (Throwable t) { throw rethrow(t); }
    }

    public void memcpyDtoH(MemorySegment dst, long src, long bytes) {
        try { check((int) cuMemcpyDtoH.invokeExact(dst, src, bytes), "cuMemcpyDtoH_v2"); } catch (Throwable t) { throw rethrow(t); }
    }

    public void memcpyHtoDAsync(long dst, MemorySegment src, long bytes, MemorySegment stream) {
        try { check((int) cuMemcpyHtoDAsync.invokeExact(dst, src, bytes, stream), "cuMemcpyHtoDAsync_v2"); } catch (Throwable t) { throw rethrow(t); }
    }

    public void memcpyDtoHAsync(MemorySegment dst, long src, long bytes, MemorySegment stream) {
        try { check((int) cuMemcpyDtoHAsync.invokeExact(dst, src, bytes, stream), "cuMemcpyDtoHAsync_v2"); } catch (Throwable t) { throw rethrow(t); }
    }

    public void memcpyDtoDAsync(long dst, long src, long bytes, MemorySegment stream) {
        try { check((int) cuMemcpyDtoDAsync.invokeExact(dst, src, bytes, stream), "cuMemcpyDtoDAsync_v2"); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@code cuMemHostAlloc}: page-locked host memory of {@code bytes}, as a segment of that size. */
    public MemorySegment memHostAlloc(long bytes, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            check((int) cuMemHostAlloc.invokeExact(out, bytes, flags), "cuMemHostAlloc(" + bytes + " bytes)");
            return out.get(ADDRESS, 0).reinterpret(bytes);
        } catch (Throwable t) { throw rethrow(t); }
    }

    public void memFreeHost(MemorySegment p) {
        try { check((int) cuMemFreeHost.invokeExact(p), "cuMemFreeHost"); } catch (Throwable t) { throw rethrow(t); }
    }

    public void memHostRegister(MemorySegment p, long bytes, int flags) {
        try { check((int) cuMemHostRegister.invokeExact(p, bytes, flags), "cuMemHostRegister_v2"); } catch (Throwable t) { throw rethrow(t); }
    }

    public void memHostUnregister(MemorySegment p) {
        try { check((int) cuMemHostUnregister.invokeExact(p), "cuMemHostUnregister"); } catch (Throwable t) { throw rethrow(t); }
    }

    public MemorySegment streamCreate(int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            check((int) cuStreamCreate.invokeExact(out, flags), "cuStreamCreate");
            return out.get(ADDRESS, 0);
        } catch (Throwable t) { throw rethrow(t); }
    }

    public void streamDestroy(MemorySegment stream) {
        try { check((int) cuStreamDestroy.invokeExact(stream), "cuStreamDestroy_v2"); } catch (Throwable t) { throw rethrow(t); }
    }

    public void streamSynchronize(MemorySegment stream) {
        try { check((int) cuStreamSynchronize.invokeExact(stream), "cuStreamSynchronize"); } catch (Throwable t) { throw rethrow(t); }
    }

    public MemorySegment eventCreate(int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            check((int) cuEventCreate.invokeExact(out, flags), "cuEventCreate");
            return out.get(ADDRESS, 0);
        } catch (Throwable t) { throw rethrow(t); }
    }

    public void eventRecord(MemorySegment event, MemorySegment stream) {
        try { check((int) cuEventRecord.invokeExact(event, stream), "cuEventRecord"); } catch (Throwable t) { throw rethrow(t); }
    }

    public void eventSynchronize(MemorySegment event) {
        try { check((int) cuEventSynchronize.invokeExact(event), "cuEventSynchronize"); } catch (Throwable t) { throw rethrow(t); }
    }

    /** {@code cuEventElapsedTime} in milliseconds (about 0.5 µs resolution). */
    public float eventElapsedMillis(MemorySegment start, MemorySegment end) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_FLOAT);
            check((int) cuEventElapsedTime.invokeExact(out, start, end), "cuEventElapsedTime");
            return out.get(JAVA_FLOAT, 0);
        } catch (Throwable t) { throw rethrow(t); }
    }

    public void eventDestroy(MemorySegment event) {
        try { check((int) cuEventDestroy.invokeExact(event), "cuEventDestroy_v2"); } catch (Throwable t) { throw rethrow(t); }
    }

    /**
     * {@code cuLaunchKernel} on a 1-D grid; {@code kernelParams} is an array of pointers, one to each
     * argument's value (the driver copies the values during the call).
     */
    public void launchKernel(MemorySegment function, int gridX, int blockX, MemorySegment stream, MemorySegment kernelParams) {
        try {
            check((int) cuLaunchKernel.invokeExact(function, gridX, 1, 1, blockX, 1, 1, 0, stream, kernelParams, MemorySegment.NULL),
                    "cuLaunchKernel");
        } catch (Throwable t) { throw rethrow(t); }
    }
}
