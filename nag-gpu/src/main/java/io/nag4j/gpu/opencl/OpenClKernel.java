package io.nag4j.gpu.opencl;

import io.nag4j.core.ir.Kernel;
import io.nag4j.gpu.Mode;
import io.nag4j.gpu.device.CompiledKernel;

import java.lang.foreign.MemorySegment;

/**
 * A compiled kernel of one {@link OpenClContext}. Several of these may share one native
 * program (in-memory cache hits); the context releases the program when it closes.
 */
final class OpenClKernel implements CompiledKernel {
    /**
     * The native program and kernel, owned by the context. {@code lastArgs} remembers the argument
     * values last set on the {@code cl_kernel} (n, buffer addresses, scalar bits as unsigned ints; -1 where
     * unknown), so a launch re-sets only what changed.
     */
    record Program(OpenClContext owner, MemorySegment program, MemorySegment kernel, boolean fromDisk, long[] lastArgs) {
        Program(OpenClContext owner, MemorySegment program, MemorySegment kernel, boolean fromDisk, Kernel ir) {
            this(owner, program, kernel, fromDisk, newArgs(ir));
        }

        private static long[] newArgs(Kernel ir) {
            long[] a = new long[1 + ir.inputs().size() + ir.scalars().size()];
            java.util.Arrays.fill(a, -1);
            return a;
        }
    }

    private final Kernel kernel;
    private final Mode mode;
    private final String source;
    private final long compileNanos;
    private final boolean cached;
    private final Program program;

    OpenClKernel(Kernel kernel, Mode mode, String source, long compileNanos, boolean cached, Program program) {
        this.kernel = kernel;
        this.mode = mode;
        this.source = source;
        this.compileNanos = compileNanos;
        this.cached = cached;
        this.program = program;
    }

    @Override public Kernel kernel() { return kernel; }

    @Override public Mode mode() { return mode; }

    @Override public String source() { return source; }

    @Override public long compileNanos() { return compileNanos; }

    @Override public boolean cached() { return cached; }

    Program program() { return program; }

    @Override
    public String toString() {
        return "OpenClKernel[" + OpenClRenderer.kernelName(kernel) + ", " + mode + (cached ? ", cached" : "") + "]";
    }
}
