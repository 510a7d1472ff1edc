package io.nag4j.gpu.ptx;

import io.nag4j.core.optim.Mode;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The stand-in libcuda's kernel launches, in Java: {@code fake_libcuda.c}'s {@code cuLaunchKernel}
 * calls {@link #launch} through an FFM upcall with the module's PTX, the entry name, the grid and the
 * raw {@code kernelParams} exactly as {@link CudaContext#launch} passed them. The arguments are read
 * by the ABI the PTX itself declares (each {@code kernelParams[i]} points to the value: 8 bytes for a
 * {@code .param .u64}, 4 for a {@code .param .f32}), every device pointer is bound to its allocation
 * in the stub ({@code fake_alloc_lookup}), and {@link PtxInterpreter} runs the real PTX over that
 * memory in place. An access outside the allocations fails the launch instead of touching memory.
 *
 * <p>An exception must not leave an upcall (the JVM would exit), so every failure is kept for the
 * test ({@link #takeFailure}) and the launch returns CUDA_ERROR_LAUNCH_FAILED (719).
 */
final class PtxLaunchHook {
    /** CUDA_ERROR_LAUNCH_FAILED: what a launch the interpreter refused or faulted in returns. */
    static final int LAUNCH_FAILED = 719;

    private static final Pattern INPUT_NAME = Pattern.compile("\\[p_in(\\d+)];[ \\t]*//[ \\t]*([^\\n]*)");

    private static MethodHandle allocLookup;
    private static MethodHandle setHook;
    private static MemorySegment stub;
    private static volatile Throwable failure;
    private static final Map<String, Loaded> modules = new ConcurrentHashMap<>();

    /** A parsed entry and the input names its comments give, for messages. */
    private record Loaded(PtxInterpreter interpreter, Map<Integer, String> inputNames) {}

    private PtxLaunchHook() {}

    /** Links the upcall into the stub at {@code library}: from now on its launches run the PTX here. */
    static synchronized void install(Path library) {
        if (stub == null) {
            Linker linker = Linker.nativeLinker();
            SymbolLookup lib = SymbolLookup.libraryLookup(library, Arena.global());
            allocLookup = linker.downcallHandle(lib.find("fake_alloc_lookup").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));
            setHook = linker.downcallHandle(lib.find("fake_set_launch_hook").orElseThrow(), FunctionDescriptor.ofVoid(ADDRESS));
            try {
                MethodHandle target = MethodHandles.lookup().findStatic(PtxLaunchHook.class, "launch",
                        MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class, int.class, int.class, MemorySegment.class));
                // Arena.global(): the stub must outlive every launch of the test run.
                stub = linker.upcallStub(target, FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS), Arena.global());
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
        }
        set(true);
    }

    /** Turns the hook on, or off (the stub's own C kernels, nag and sgd only). */
    static synchronized void set(boolean on) {
        try {
            MemorySegment hook = on ? stub : MemorySegment.NULL;
            setHook.invokeExact(hook);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** The failure of the last launch that failed since the last call, or null; clears it. */
    static Throwable takeFailure() {
        Throwable t = failure;
        failure = null;
        return t;
    }

    /** The upcall: never throws. */
    private static int launch(MemorySegment ptx, MemorySegment entry, int gridX, int blockX, MemorySegment kernelParams) {
        try {
            run(ptx.reinterpret(Long.MAX_VALUE).getString(0), entry.reinterpret(Long.MAX_VALUE).getString(0), gridX, blockX, kernelParams);
            return 0;
        } catch (Throwable t) {
            failure = t;
            return LAUNCH_FAILED;
        }
    }

    private static void run(String ptx, String entry, int gridX, int blockX, MemorySegment kernelParams) {
        Loaded m = modules.computeIfAbsent(entry + "\n" + ptx, k -> load(ptx, entry));
        PtxInterpreter k = m.interpreter();
        List<PtxInterpreter.ParamRef> params = k.params();
        if (params.isEmpty() || params.getFirst().type() != PtxInterpreter.Type.U64 || !params.getFirst().name().equals("p_n")) {
            throw new PtxInterpreter.PtxError(entry + ": the first parameter is not .u64 p_n");
        }
        MemorySegment pointers = kernelParams.reinterpret(ADDRESS.byteSize() * params.size());
        long[] args = new long[params.size()];
        PtxInterpreter.Memory mem = new PtxInterpreter.Memory();
        Map<Long, String> mapped = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            PtxInterpreter.ParamRef p = params.get(i);
            MemorySegment value = pointers.getAtIndex(ADDRESS, i);
            if (value.address() == 0) throw new PtxInterpreter.PtxError(entry + ": kernelParams[" + i + "] (" + p.name() + ") is NULL");
            args[i] = switch (p.type()) {
                case U64 -> value.reinterpret(8).get(JAVA_LONG, 0);
                case F32 -> value.reinterpret(4).get(JAVA_INT, 0) & 0xffffffffL;
                default -> throw new PtxInterpreter.PtxError(entry + ": parameter " + p.name() + " of type " + p.type());
            };
            if (i > 0 && p.type() == PtxInterpreter.Type.U64) {
                String name = p.name() + m.inputNames().getOrDefault(i - 1, "");
                bind(mem, mapped, entry, name, args[i]);
            }
        }
        long n = args[0], threads = Integer.toUnsignedLong(gridX) * Integer.toUnsignedLong(blockX);
        // The grid must cover n: threads past it exit at the PTX's bounds check, elements past the grid would go unprocessed.
        if (Long.compareUnsigned(threads, n) < 0) {
            throw new PtxInterpreter.PtxError(entry + ": a grid of " + Integer.toUnsignedString(gridX) + " x " + Integer.toUnsignedString(blockX)
                    + " threads does not cover n = " + Long.toUnsignedString(n));
        }
        k.launch(mem, args, gridX, blockX);
    }

    /** Maps the allocation holding {@code ptr} (once per allocation), or fails naming the parameter. */
    private static void bind(PtxInterpreter.Memory mem, Map<Long, String> mapped, String entry, String name, long ptr) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment base = a.allocate(JAVA_LONG), size = a.allocate(JAVA_LONG);
            int found;
            try {
                found = (int) allocLookup.invokeExact(ptr, base, size);
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
            if (found == 0) throw new PtxInterpreter.PtxError(String.format("%s: %s = 0x%x is not in any device allocation", entry, name, ptr));
            long b = base.get(JAVA_LONG, 0), bytes = size.get(JAVA_LONG, 0);
            String before = mapped.putIfAbsent(b, name);
            if (before == null) mem.map(name, b, MemorySegment.ofAddress(b).reinterpret(bytes));
        }
    }

    private static Loaded load(String ptx, String entry) {
        Mode mode = entry.endsWith("_exact") ? Mode.EXACT : entry.endsWith("_fast") ? Mode.FAST : null;
        if (mode == null) throw new PtxInterpreter.PtxError("entry " + entry + " names no mode (_exact or _fast)");
        // FAST: every mul feeding an add/sub fused, the most ptxas may do.
        PtxInterpreter k = PtxInterpreter.load(ptx, mode, true);
        if (!k.entry().equals(entry)) throw new PtxInterpreter.PtxError("module holds entry " + k.entry() + ", launched as " + entry);
        Map<Integer, String> names = new HashMap<>();
        Matcher nm = INPUT_NAME.matcher(ptx);
        while (nm.find()) names.put(Integer.parseInt(nm.group(1)), " (" + nm.group(2).strip() + ")");
        return new Loaded(k, Map.copyOf(names));
    }
}
