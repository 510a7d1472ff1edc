package io.nag4j.gpu.opencl;

import io.nag4j.gpu.device.DeviceUnavailableException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The OpenCL C API through {@code java.lang.foreign}: one downcall handle per function of the
 * ICD loader ({@code libOpenCL.so.1}) that nag4j uses, and thin typed wrappers around them.
 *
 * <p>Handles ({@code cl_context}, {@code cl_mem}, ...) are plain address segments; the owning
 * wrappers ({@link OpenClContext} and the buffers and kernels it owns) release them.
 * Wrappers that can fail throw {@link OpenClException} naming the call and the error code.
 * The hot-path wrappers ({@link #setKernelArg}, {@link #enqueueNDRange}, {@link #enqueueWrite},
 * {@link #enqueueRead}, {@link #finish}) take caller-owned segments and allocate nothing.
 * Assumes an LP64 platform: {@code size_t} is 64 bits.
 */
// Binding a native library is what this class is for; the JVM needs --enable-native-access=ALL-UNNAMED.
@SuppressWarnings("restricted")
public final class OpenCl {
    // cl_platform_info
    static final int CL_PLATFORM_VERSION = 0x0901, CL_PLATFORM_NAME = 0x0902, CL_PLATFORM_VENDOR = 0x0903;
    // cl_device_type
    static final long CL_DEVICE_TYPE_ALL = 0xFFFFFFFFL;
    // cl_device_info
    static final int CL_DEVICE_MAX_COMPUTE_UNITS = 0x1002, CL_DEVICE_SINGLE_FP_CONFIG = 0x101B,
            CL_DEVICE_GLOBAL_MEM_SIZE = 0x101F, CL_DEVICE_NAME = 0x102B, CL_DEVICE_VENDOR = 0x102C,
            CL_DRIVER_VERSION = 0x102D, CL_DEVICE_VERSION = 0x102F;
    // cl_device_fp_config bits
    static final long CL_FP_DENORM = 1L, CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT = 1L << 7;
    // queues
    static final long CL_QUEUE_PROPERTIES = 0x1093, CL_QUEUE_PROFILING_ENABLE = 1L << 1;
    // cl_mem_flags
    static final long CL_MEM_READ_WRITE = 1L;
    // program info
    static final int CL_PROGRAM_BINARY_SIZES = 0x1165, CL_PROGRAM_BINARIES = 0x1166, CL_PROGRAM_BUILD_LOG = 0x1183;
    // cl_profiling_info
    static final int CL_PROFILING_COMMAND_START = 0x1282, CL_PROFILING_COMMAND_END = 0x1283;
    static final int CL_PLATFORM_NOT_FOUND_KHR = -1001;

    private static final Map<Integer, String> ERRORS = errorTable();

    /** The default library name, overridable with {@code -Dnag4j.opencl.library=PATH}. */
    public static final String DEFAULT_LIBRARY = "libOpenCL.so.1";

    private static OpenCl shared;
    private static DeviceUnavailableException sharedFailure;

    private final MethodHandle getPlatformIDs, getPlatformInfo, getDeviceIDs, getDeviceInfo, createContext,
            createQueueWithProperties, createBuffer, buildProgram, getProgramInfo, createKernel, setKernelArg, enqueueNDRange,
            enqueueWrite, enqueueRead, finish, getEventProfilingInfo, releaseContext, releaseQueue, releaseMem,
            releaseProgram, releaseKernel, releaseEvent;
    // Bound on first use: each new function shape costs the JVM milliseconds to link at start-up, and a
    // process may never need these (a cached binary needs no source build; no profiling needs no waits).
    private final Lazy createQueue, createProgramWithSource, createProgramWithBinary, getProgramBuildInfo,
            enqueueWriteHeap, enqueueReadHeap, enqueueCopy, waitForEvents;

    /** The process-wide binding of {@link #DEFAULT_LIBRARY} (or the {@code nag4j.opencl.library} property). */
    public static synchronized OpenCl get() {
        if (shared != null) return shared;
        if (sharedFailure != null) throw new DeviceUnavailableException(sharedFailure.getMessage(), sharedFailure);
        try {
            shared = load(System.getProperty("nag4j.opencl.library", DEFAULT_LIBRARY));
            return shared;
        } catch (DeviceUnavailableException e) {
            sharedFailure = e;
            throw e;
        }
    }

    /**
     * Binds the OpenCL functions of library {@code name} (a file name found by the system's
     * loader, or a path).
     *
     * @throws DeviceUnavailableException if the library or one of the functions is missing
     */
    public static OpenCl load(String name) {
        SymbolLookup lib;
        try {
            lib = SymbolLookup.libraryLookup(name, Arena.global());
        } catch (IllegalArgumentException e) {
            throw new DeviceUnavailableException("OpenCL library '" + name + "' not found (install an ICD loader"
                    + " and a platform, e.g. apt-get install ocl-icd-libopencl1 pocl-opencl-icd)", e);
        }
        return new OpenCl(lib, name);
    }

    private OpenCl(SymbolLookup lib, String libName) {
        Linker linker = Linker.nativeLinker();
        Binder b = new Binder(lib, linker, libName);
        getPlatformIDs = b.bind("clGetPlatformIDs", JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);
        getPlatformInfo = b.bind("clGetPlatformInfo", JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS);
        getDeviceIDs = b.bind("clGetDeviceIDs", JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS);
        getDeviceInfo = b.bind("clGetDeviceInfo", JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS);
        createContext = b.bind("clCreateContext", ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        createQueueWithProperties = b.optional("clCreateCommandQueueWithProperties", ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        createQueue = b.lazy("clCreateCommandQueue", false, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS);
        createBuffer = b.bind("clCreateBuffer", ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS);
        createProgramWithSource = b.lazy("clCreateProgramWithSource", false, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
        createProgramWithBinary = b.lazy("clCreateProgramWithBinary", false, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        buildProgram = b.bind("clBuildProgram", JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        getProgramBuildInfo = b.lazy("clGetProgramBuildInfo", false, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS);
        getProgramInfo = b.bind("clGetProgramInfo", JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS);
        createKernel = b.bind("clCreateKernel", ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        setKernelArg = b.bind("clSetKernelArg", JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS);
        enqueueNDRange = b.bind("clEnqueueNDRangeKernel", JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
        enqueueWrite = b.bind("clEnqueueWriteBuffer", JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
        enqueueRead = b.bind("clEnqueueReadBuffer", JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
        // Blocking copies from/to Java arrays: a critical downcall may pass heap memory (the call returns when done).
        enqueueWriteHeap = b.lazy("clEnqueueWriteBuffer", true, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
        enqueueReadHeap = b.lazy("clEnqueueReadBuffer", true, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
        enqueueCopy = b.lazy("clEnqueueCopyBuffer", false, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS);
        finish = b.bind("clFinish", JAVA_INT, ADDRESS);
        waitForEvents = b.lazy("clWaitForEvents", false, JAVA_INT, JAVA_INT, ADDRESS);
        getEventProfilingInfo = b.bind("clGetEventProfilingInfo", JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS);
        releaseContext = b.bind("clReleaseContext", JAVA_INT, ADDRESS);
        releaseQueue = b.bind("clReleaseCommandQueue", JAVA_INT, ADDRESS);
        releaseMem = b.bind("clReleaseMemObject", JAVA_INT, ADDRESS);
        releaseProgram = b.bind("clReleaseProgram", JAVA_INT, ADDRESS);
        releaseKernel = b.bind("clReleaseKernel", JAVA_INT, ADDRESS);
        releaseEvent = b.bind("clReleaseEvent", JAVA_INT, ADDRESS);
        if (createQueueWithProperties == null && createQueue == null) {
            throw new DeviceUnavailableException(libName + " exports neither clCreateCommandQueueWithProperties nor clCreateCommandQueue");
        }
    }

    private record Binder(SymbolLookup lib, Linker linker, String libName) {
        MethodHandle bind(String fn, MemoryLayout ret, MemoryLayout... args) {
            MethodHandle h = optional(fn, ret, args);
            if (h == null) throw new DeviceUnavailableException(libName + " has no function " + fn);
            return h;
        }

        MethodHandle optional(String fn, MemoryLayout ret, MemoryLayout... args) {
            Optional<MemorySegment> sym = lib.find(fn);
            return sym.map(s -> linker.downcallHandle(s, FunctionDescriptor.of(ret, args))).orElse(null);
        }

        /**
         * A handle made on first use. A missing required function still fails here; a missing
         * optional one ({@code clCreateCommandQueue}, deprecated) gives null.
         */
        Lazy lazy(String fn, boolean critical, MemoryLayout ret, MemoryLayout... args) {
            Optional<MemorySegment> sym = lib.find(fn);
            if (sym.isEmpty()) {
                if (fn.equals("clCreateCommandQueue")) return null;
                throw new DeviceUnavailableException(libName + " has no function " + fn);
            }
            FunctionDescriptor fd = FunctionDescriptor.of(ret, args);
            return new Lazy(critical ? () -> linker.downcallHandle(sym.get(), fd, Linker.Option.critical(true))
                    : () -> linker.downcallHandle(sym.get(), fd));
        }
    }

    /** A downcall handle linked on first {@link #get()}; linking twice in a race is harmless. */
    private static final class Lazy {
        private final java.util.function.Supplier<MethodHandle> link;
        private MethodHandle handle;

        Lazy(java.util.function.Supplier<MethodHandle> link) { this.link = link; }

        MethodHandle get() {
            MethodHandle h = handle;
            if (h == null) handle = h = link.get();
            return h;
        }
    }

    // ---------------------------------------------------------------- errors

    /** The standard name of an OpenCL error code, or {@code CL_UNKNOWN_ERROR}. */
    public static String errorName(int code) {
        return ERRORS.getOrDefault(code, "CL_UNKNOWN_ERROR");
    }

    static void check(int code, String call) {
        if (code != 0) throw new OpenClException(call, code, null);
    }

    private static Map<Integer, String> errorTable() {
        String[] names = {
            "0 CL_SUCCESS", "-1 CL_DEVICE_NOT_FOUND", "-2 CL_DEVICE_NOT_AVAILABLE", "-3 CL_COMPILER_NOT_AVAILABLE",
            "-4 CL_MEM_OBJECT_ALLOCATION_FAILURE", "-5 CL_OUT_OF_RESOURCES", "-6 CL_OUT_OF_HOST_MEMORY",
            "-7 CL_PROFILING_INFO_NOT_AVAILABLE", "-8 CL_MEM_COPY_OVERLAP", "-9 CL_IMAGE_FORMAT_MISMATCH",
            "-10 CL_IMAGE_FORMAT_NOT_SUPPORTED", "-11 CL_BUILD_PROGRAM_FAILURE", "-12 CL_MAP_FAILURE",
            "-13 CL_MISALIGNED_SUB_BUFFER_OFFSET", "-14 CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST",
            "-15 CL_COMPILE_PROGRAM_FAILURE", "-16 CL_LINKER_NOT_AVAILABLE", "-17 CL_LINK_PROGRAM_FAILURE",
            "-18 CL_DEVICE_PARTITION_FAILED", "-19 CL_KERNEL_ARG_INFO_NOT_AVAILABLE",
            "-30 CL_INVALID_VALUE", "-31 CL_INVALID_DEVICE_TYPE", "-32 CL_INVALID_PLATFORM", "-33 CL_INVALID_DEVICE",
            "-34 CL_INVALID_CONTEXT", "-35 CL_INVALID_QUEUE_PROPERTIES", "-36 CL_INVALID_COMMAND_QUEUE",
            "-37 CL_INVALID_HOST_PTR", "-38 CL_INVALID_MEM_OBJECT", "-39 CL_INVALID_IMAGE_FORMAT_DESCRIPTOR",
            "-40 CL_INVALID_IMAGE_SIZE", "-41 CL_INVALID_SAMPLER", "-42 CL_INVALID_BINARY",
            "-43 CL_INVALID_BUILD_OPTIONS", "-44 CL_INVALID_PROGRAM", "-45 CL_INVALID_PROGRAM_EXECUTABLE",
            "-46 CL_INVALID_KERNEL_NAME", "-47 CL_INVALID_KERNEL_DEFINITION", "-48 CL_INVALID_KERNEL",
            "-49 CL_INVALID_ARG_INDEX", "-50 CL_INVALID_ARG_VALUE", "-51 CL_INVALID_ARG_SIZE",
            "-52 CL_INVALID_KERNEL_ARGS", "-53 CL_INVALID_WORK_DIMENSION", "-54 CL_INVALID_WORK_GROUP_SIZE",
            "-55 CL_INVALID_WORK_ITEM_SIZE", "-56 CL_INVALID_GLOBAL_OFFSET", "-57 CL_INVALID_EVENT_WAIT_LIST",
            "-58 CL_INVALID_EVENT", "-59 CL_INVALID_OPERATION", "-60 CL_INVALID_GL_OBJECT",
            "-61 CL_INVALID_BUFFER_SIZE", "-62 CL_INVALID_MIP_LEVEL", "-63 CL_INVALID_GLOBAL_WORK_SIZE",
            "-64 CL_INVALID_PROPERTY", "-65 CL_INVALID_IMAGE_DESCRIPTOR", "-66 CL_INVALID_COMPILER_OPTIONS",
            "-67 CL_INVALID_LINKER_OPTIONS", "-68 CL_INVALID_DEVICE_PARTITION_COUNT", "-69 CL_INVALID_PIPE_SIZE",
            "-70 CL_INVALID_DEVICE_QUEUE", "-71 CL_INVALID_SPEC_ID", "-72 CL_MAX_SIZE_RESTRICTION_EXCEEDED",
            "-1001 CL_PLATFORM_NOT_FOUND_KHR",
        };
        var m = new java.util.HashMap<Integer, String>();
        for (String s : names) {
            int sp = s.indexOf(' ');
            m.put(Integer.parseInt(s.substring(0, sp)), s.substring(sp + 1));
        }
        return Map.copyOf(m);
    }

    private static RuntimeException fatal(String call, Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(call + ": " + t, t);
    }

    // ---------------------------------------------------------------- platforms and devices

    /** All platforms; empty when the ICD loader finds none. */
    public List<MemorySegment> platforms() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment num = a.allocate(JAVA_INT);
            int rc = (int) getPlatformIDs.invokeExact(0, MemorySegment.NULL, num);
            if (rc == CL_PLATFORM_NOT_FOUND_KHR) return List.of();
            check(rc, "clGetPlatformIDs");
            int n = num.get(JAVA_INT, 0);
            if (n == 0) return List.of();
            MemorySegment ids = a.allocate(ADDRESS, n);
            check((int) getPlatformIDs.invokeExact(n, ids, MemorySegment.NULL), "clGetPlatformIDs");
            List<MemorySegment> out = new ArrayList<>();
            for (int i = 0; i < n; i++) out.add(ids.getAtIndex(ADDRESS, i));
            return out;
        } catch (Throwable t) {
            throw fatal("clGetPlatformIDs", t);
        }
    }

    public String platformString(MemorySegment platform, int param) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment size = a.allocate(JAVA_LONG);
            check((int) getPlatformInfo.invokeExact(platform, param, 0L, MemorySegment.NULL, size), "clGetPlatformInfo");
            MemorySegment buf = a.allocate(Math.max(1, size.get(JAVA_LONG, 0)));
            check((int) getPlatformInfo.invokeExact(platform, param, buf.byteSize(), buf, MemorySegment.NULL), "clGetPlatformInfo");
            return cString(buf);
        } catch (Throwable t) {
            throw fatal("clGetPlatformInfo", t);
        }
    }

    /** All devices of a platform; empty if it has none. */
    public List<MemorySegment> devices(MemorySegment platform) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment num = a.allocate(JAVA_INT);
            int rc = (int) getDeviceIDs.invokeExact(platform, CL_DEVICE_TYPE_ALL, 0, MemorySegment.NULL, num);
            if (rc == -1) return List.of(); // CL_DEVICE_NOT_FOUND
            check(rc, "clGetDeviceIDs");
            int n = num.get(JAVA_INT, 0);
            MemorySegment ids = a.allocate(ADDRESS, Math.max(1, n));
            check((int) getDeviceIDs.invokeExact(platform, CL_DEVICE_TYPE_ALL, n, ids, MemorySegment.NULL), "clGetDeviceIDs");
            List<MemorySegment> out = new ArrayList<>();
            for (int i = 0; i < n; i++) out.add(ids.getAtIndex(ADDRESS, i));
            return out;
        } catch (Throwable t) {
            throw fatal("clGetDeviceIDs", t);
        }
    }

    public String deviceString(MemorySegment device, int param) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment size = a.allocate(JAVA_LONG);
            check((int) getDeviceInfo.invokeExact(device, param, 0L, MemorySegment.NULL, size), "clGetDeviceInfo");
            MemorySegment buf = a.allocate(Math.max(1, size.get(JAVA_LONG, 0)));
            check((int) getDeviceInfo.invokeExact(device, param, buf.byteSize(), buf, MemorySegment.NULL), "clGetDeviceInfo");
            return cString(buf);
        } catch (Throwable t) {
            throw fatal("clGetDeviceInfo", t);
        }
    }

    /** A {@code cl_uint}, {@code cl_ulong} or bitfield device property, widened to long. */
    public long deviceLong(MemorySegment device, int param, int bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(8);
            check((int) getDeviceInfo.invokeExact(device, param, (long) bytes, buf, MemorySegment.NULL), "clGetDeviceInfo");
            return bytes == 4 ? Integer.toUnsignedLong(buf.get(JAVA_INT, 0)) : buf.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw fatal("clGetDeviceInfo", t);
        }
    }

    // ---------------------------------------------------------------- context, queue, memory

    public MemorySegment createContext(MemorySegment device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment dev = a.allocateFrom(ADDRESS, device);
            MemorySegment err = a.allocate(JAVA_INT);
            MemorySegment ctx = (MemorySegment) createContext.invokeExact(MemorySegment.NULL, 1, dev,
                    MemorySegment.NULL, MemorySegment.NULL, err);
            check(err.get(JAVA_INT, 0), "clCreateContext");
            return ctx;
        } catch (Throwable t) {
            throw fatal("clCreateContext", t);
        }
    }

    /** An in-order queue with profiling enabled (events carry times only when asked for). */
    public MemorySegment createProfilingQueue(MemorySegment context, MemorySegment device, boolean openCl2) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = a.allocate(JAVA_INT);
            MemorySegment q;
            String call;
            if (openCl2 && createQueueWithProperties != null || createQueue == null) {
                call = "clCreateCommandQueueWithProperties";
                MemorySegment props = a.allocate(JAVA_LONG, 3);
                props.setAtIndex(JAVA_LONG, 0, CL_QUEUE_PROPERTIES);
                props.setAtIndex(JAVA_LONG, 1, CL_QUEUE_PROFILING_ENABLE);
                props.setAtIndex(JAVA_LONG, 2, 0L);
                q = (MemorySegment) createQueueWithProperties.invokeExact(context, device, props, err);
            } else {
                call = "clCreateCommandQueue";
                q = (MemorySegment) createQueue.get().invokeExact(context, device, CL_QUEUE_PROFILING_ENABLE, err);
            }
            check(err.get(JAVA_INT, 0), call);
            return q;
        } catch (Throwable t) {
            throw fatal("clCreateCommandQueue", t);
        }
    }

    public MemorySegment createBuffer(MemorySegment context, long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = a.allocate(JAVA_INT);
            MemorySegment mem = (MemorySegment) createBuffer.invokeExact(context, CL_MEM_READ_WRITE, bytes, MemorySegment.NULL, err);
            check(err.get(JAVA_INT, 0), "clCreateBuffer");
            return mem;
        } catch (Throwable t) {
            throw fatal("clCreateBuffer", t);
        }
    }

    // ---------------------------------------------------------------- programs and kernels

    public MemorySegment createProgramWithSource(MemorySegment context, String source) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment src = a.allocateFrom(source);
            MemorySegment strings = a.allocateFrom(ADDRESS, src);
            MemorySegment err = a.allocate(JAVA_INT);
            MemorySegment p = (MemorySegment) createProgramWithSource.get().invokeExact(context, 1, strings, MemorySegment.NULL, err);
            check(err.get(JAVA_INT, 0), "clCreateProgramWithSource");
            return p;
        } catch (Throwable t) {
            throw fatal("clCreateProgramWithSource", t);
        }
    }

    public MemorySegment createProgramWithBinary(MemorySegment context, MemorySegment device, byte[] binary) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment dev = a.allocateFrom(ADDRESS, device);
            MemorySegment bin = a.allocateFrom(JAVA_BYTE, binary);
            MemorySegment lengths = a.allocateFrom(JAVA_LONG, (long) binary.length);
            MemorySegment bins = a.allocateFrom(ADDRESS, bin);
            MemorySegment status = a.allocate(JAVA_INT);
            MemorySegment err = a.allocate(JAVA_INT);
            MemorySegment p = (MemorySegment) createProgramWithBinary.get().invokeExact(context, 1, dev, lengths, bins, status, err);
            int rc = err.get(JAVA_INT, 0);
            if (rc != 0 && !p.equals(MemorySegment.NULL)) releaseProgram(p);
            check(rc, "clCreateProgramWithBinary");
            check(status.get(JAVA_INT, 0), "clCreateProgramWithBinary (binary status)");
            return p;
        } catch (Throwable t) {
            throw fatal("clCreateProgramWithBinary", t);
        }
    }

    /** Builds for one device; a failure's exception carries the build log. */
    public void buildProgram(MemorySegment program, MemorySegment device, String options) {
        int rc;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment dev = a.allocateFrom(ADDRESS, device);
            MemorySegment opts = a.allocateFrom(options);
            rc = (int) buildProgram.invokeExact(program, 1, dev, opts, MemorySegment.NULL, MemorySegment.NULL);
        } catch (Throwable t) {
            throw fatal("clBuildProgram", t);
        }
        if (rc != 0) {
            String log;
            try {
                log = buildLog(program, device);
            } catch (RuntimeException e) {
                log = "(no build log: " + e.getMessage() + ")";
            }
            throw new OpenClException("clBuildProgram", rc, "options: " + options + "\nbuild log:\n" + log.strip());
        }
    }

    public String buildLog(MemorySegment program, MemorySegment device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment size = a.allocate(JAVA_LONG);
            check((int) getProgramBuildInfo.get().invokeExact(program, device, CL_PROGRAM_BUILD_LOG, 0L, MemorySegment.NULL, size),
                    "clGetProgramBuildInfo");
            MemorySegment buf = a.allocate(Math.max(1, size.get(JAVA_LONG, 0)));
            check((int) getProgramBuildInfo.get().invokeExact(program, device, CL_PROGRAM_BUILD_LOG, buf.byteSize(), buf, MemorySegment.NULL),
                    "clGetProgramBuildInfo");
            return cString(buf);
        } catch (Throwable t) {
            throw fatal("clGetProgramBuildInfo", t);
        }
    }

    /** The built program's binary for its single device. */
    public byte[] programBinary(MemorySegment program) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sizes = a.allocate(JAVA_LONG);
            check((int) getProgramInfo.invokeExact(program, CL_PROGRAM_BINARY_SIZES, 8L, sizes, MemorySegment.NULL), "clGetProgramInfo");
            long n = sizes.get(JAVA_LONG, 0);
            if (n <= 0 || n > Integer.MAX_VALUE) throw new OpenClException("clGetProgramInfo", -30, "binary size " + n);
            MemorySegment bin = a.allocate(n);
            MemorySegment ptrs = a.allocateFrom(ADDRESS, bin);
            check((int) getProgramInfo.invokeExact(program, CL_PROGRAM_BINARIES, 8L, ptrs, MemorySegment.NULL), "clGetProgramInfo");
            return bin.toArray(JAVA_BYTE);
        } catch (Throwable t) {
            throw fatal("clGetProgramInfo", t);
        }
    }

    public MemorySegment createKernel(MemorySegment program, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = a.allocate(JAVA_INT);
            MemorySegment k = (MemorySegment) createKernel.invokeExact(program, a.allocateFrom(name), err);
            check(err.get(JAVA_INT, 0), "clCreateKernel(" + name + ")");
            return k;
        } catch (Throwable t) {
            throw fatal("clCreateKernel", t);
        }
    }

    // ---------------------------------------------------------------- hot path (no allocation)

    /** {@code clSetKernelArg(kernel, index, size, value)}; {@code value} points at the argument's bytes. */
    public void setKernelArg(MemorySegment kernel, int index, long size, MemorySegment value) {
        int rc;
        try {
            rc = (int) setKernelArg.invokeExact(kernel, index, size, value);
        } catch (Throwable t) {
            throw fatal("clSetKernelArg", t);
        }
        if (rc != 0) throw new OpenClException("clSetKernelArg", rc, "argument " + index);
    }

    /** One-dimensional launch; {@code globalSize} holds one size_t; {@code event} is NULL or receives a cl_event. */
    public void enqueueNDRange(MemorySegment queue, MemorySegment kernel, MemorySegment globalSize, MemorySegment event) {
        int rc;
        try {
            rc = (int) enqueueNDRange.invokeExact(queue, kernel, 1, MemorySegment.NULL, globalSize, MemorySegment.NULL,
                    0, MemorySegment.NULL, event);
        } catch (Throwable t) {
            throw fatal("clEnqueueNDRangeKernel", t);
        }
        check(rc, "clEnqueueNDRangeKernel");
    }

    /** Host to device; {@code src} may be a heap segment only when {@code blocking}. */
    public void enqueueWrite(MemorySegment queue, MemorySegment mem, boolean blocking, long offset, long bytes,
                             MemorySegment src, MemorySegment event) {
        if (!blocking && !src.isNative()) throw new IllegalArgumentException("a non-blocking write needs native memory");
        int rc;
        try {
            MethodHandle h = src.isNative() ? enqueueWrite : enqueueWriteHeap.get();
            rc = (int) h.invokeExact(queue, mem, blocking ? 1 : 0, offset, bytes, src, 0, MemorySegment.NULL, event);
        } catch (Throwable t) {
            throw fatal("clEnqueueWriteBuffer", t);
        }
        check(rc, "clEnqueueWriteBuffer");
    }

    /** Device to host; {@code dst} may be a heap segment only when {@code blocking}. */
    public void enqueueRead(MemorySegment queue, MemorySegment mem, boolean blocking, long offset, long bytes,
                            MemorySegment dst, MemorySegment event) {
        if (!blocking && !dst.isNative()) throw new IllegalArgumentException("a non-blocking read needs native memory");
        int rc;
        try {
            MethodHandle h = dst.isNative() ? enqueueRead : enqueueReadHeap.get();
            rc = (int) h.invokeExact(queue, mem, blocking ? 1 : 0, offset, bytes, dst, 0, MemorySegment.NULL, event);
        } catch (Throwable t) {
            throw fatal("clEnqueueReadBuffer", t);
        }
        check(rc, "clEnqueueReadBuffer");
    }

    /** Device to device, enqueued. */
    public void enqueueCopy(MemorySegment queue, MemorySegment src, MemorySegment dst, long srcOffset, long dstOffset, long bytes,
                            MemorySegment event) {
        int rc;
        try {
            rc = (int) enqueueCopy.get().invokeExact(queue, src, dst, srcOffset, dstOffset, bytes, 0, MemorySegment.NULL, event);
        } catch (Throwable t) {
            throw fatal("clEnqueueCopyBuffer", t);
        }
        check(rc, "clEnqueueCopyBuffer");
    }

    public void finish(MemorySegment queue) {
        int rc;
        try {
            rc = (int) finish.invokeExact(queue);
        } catch (Throwable t) {
            throw fatal("clFinish", t);
        }
        check(rc, "clFinish");
    }

    /** Waits for {@code count} events stored consecutively in {@code events}. */
    public void waitForEvents(int count, MemorySegment events) {
        int rc;
        try {
            rc = (int) waitForEvents.get().invokeExact(count, events);
        } catch (Throwable t) {
            throw fatal("clWaitForEvents", t);
        }
        check(rc, "clWaitForEvents");
    }

    /** {@code END - START} of a completed event, in nanoseconds; {@code scratch} holds at least 8 bytes. */
    public long eventNanos(MemorySegment event, MemorySegment scratch) {
        try {
            check((int) getEventProfilingInfo.invokeExact(event, CL_PROFILING_COMMAND_START, 8L, scratch, MemorySegment.NULL),
                    "clGetEventProfilingInfo");
            long start = scratch.get(JAVA_LONG, 0);
            check((int) getEventProfilingInfo.invokeExact(event, CL_PROFILING_COMMAND_END, 8L, scratch, MemorySegment.NULL),
                    "clGetEventProfilingInfo");
            return scratch.get(JAVA_LONG, 0) - start;
        } catch (Throwable t) {
            throw fatal("clGetEventProfilingInfo", t);
        }
    }

    // ---------------------------------------------------------------- release

    public void releaseContext(MemorySegment h) { release(releaseContext, h, "clReleaseContext"); }

    public void releaseQueue(MemorySegment h) { release(releaseQueue, h, "clReleaseCommandQueue"); }

    public void releaseMem(MemorySegment h) { release(releaseMem, h, "clReleaseMemObject"); }

    public void releaseProgram(MemorySegment h) { release(releaseProgram, h, "clReleaseProgram"); }

    public void releaseKernel(MemorySegment h) { release(releaseKernel, h, "clReleaseKernel"); }

    public void releaseEvent(MemorySegment h) { release(releaseEvent, h, "clReleaseEvent"); }

    private static void release(MethodHandle fn, MemorySegment h, String call) {
        if (h == null || h.equals(MemorySegment.NULL)) return;
        int rc;
        try {
            rc = (int) fn.invokeExact(h);
        } catch (Throwable t) {
            throw fatal(call, t);
        }
        check(rc, call);
    }

    private static String cString(MemorySegment buf) {
        byte[] b = buf.toArray(JAVA_BYTE);
        int n = 0;
        while (n < b.length && b[n] != 0) n++;
        return new String(b, 0, n, StandardCharsets.UTF_8).strip();
    }
}
