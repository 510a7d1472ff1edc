package io.nag4j.gpu.plan;

import io.nag4j.core.ir.Evaluator;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.DeviceBuffer;
import io.nag4j.gpu.device.DeviceContext;
import io.nag4j.gpu.device.DeviceContextBase;
import io.nag4j.gpu.device.DeviceInfo;
import io.nag4j.gpu.device.DeviceUnavailableException;
import io.nag4j.gpu.device.Driver;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.nag4j.core.tensor.Tensor.F32;

/**
 * A driver for tests: "device" buffers are host segments, and a launch runs the kernel through
 * {@link Evaluator}, element by element (the reference semantics, so EXACT results are the
 * reference's bits). It counts what it is asked to do (opens, compiles, copies per buffer,
 * launches) so tests can check what the runtime moved. It also plays a device that is not
 * bit-exact, one whose compiles fail, and a missing driver.
 */
public final class FakeDriver implements Driver {
    private final String name;
    private final List<DeviceInfo> devices;
    private String unavailable;
    private String compileFailure;
    private long corruptFromLaunch = -1;
    private final List<FakeContext> contexts = new ArrayList<>();

    public int opens, compiles, launches, copiesIn, copiesOut;
    /** Copies by buffer name. */
    public final Map<String, Integer> copiesInByBuffer = new HashMap<>(), copiesOutByBuffer = new HashMap<>();

    public FakeDriver(String name, List<DeviceInfo> devices) {
        this.name = name;
        this.devices = List.copyOf(devices);
    }

    /** One bit-exact device, {@code fake:0}. */
    public static FakeDriver exact() {
        return new FakeDriver("fake", List.of(device("fake", 0, true)));
    }

    /** One device, {@code fake:0}, that flushes fp32 denormals: not bit-exact. */
    public static FakeDriver notBitExact() {
        return new FakeDriver("fake", List.of(device("fake", 0, false)));
    }

    public static DeviceInfo device(String backend, int index, boolean bitExact) {
        return new DeviceInfo(backend, index, "fake device " + index, "nag4j tests", "Fake 1.0", 1L << 30, 4, bitExact, true);
    }

    /** Makes {@link #devices()} and {@link #open} throw {@link DeviceUnavailableException} with this reason. */
    public FakeDriver unavailable(String reason) {
        this.unavailable = reason;
        return this;
    }

    /** Makes every compile throw with this reason (as a driver's build log would). */
    /**
     * From launch {@code launch} on (1 for the first), flips the lowest bit of the param's first
     * element after each launch: a device that computes wrong bits, for the checks that must catch one.
     */
    public FakeDriver corruptFromLaunch(long launch) {
        this.corruptFromLaunch = launch;
        return this;
    }

    public FakeDriver failCompiles(String reason) {
        this.compileFailure = reason;
        return this;
    }

    public int copiesIn(String buffer) { return copiesInByBuffer.getOrDefault(buffer, 0); }

    public int copiesOut(String buffer) { return copiesOutByBuffer.getOrDefault(buffer, 0); }

    /** Contexts opened so far, in order. */
    public List<FakeContext> contexts() { return contexts; }

    @Override public String name() { return name; }

    @Override
    public List<DeviceInfo> devices() {
        if (unavailable != null) throw new DeviceUnavailableException(unavailable);
        return devices;
    }

    @Override
    public DeviceContext open(int index) {
        if (unavailable != null) throw new DeviceUnavailableException(unavailable);
        if (index < 0 || index >= devices.size()) throw new DeviceUnavailableException(name + " has no device " + index + "; it has " + devices.size());
        opens++;
        FakeContext c = new FakeContext(devices.get(index));
        contexts.add(c);
        return c;
    }

    /** A "device" allocation: host memory, filled with garbage as device memory starts undefined. */
    public static final class FakeMemory {
        final String name;
        final MemorySegment segment;
        boolean freed;

        FakeMemory(String name, MemorySegment segment) {
            this.name = name;
            this.segment = segment;
        }

        public boolean freed() { return freed; }
    }

    /** One opened fake device: the native calls behind {@link DeviceContextBase}, in host memory. */
    public final class FakeContext extends DeviceContextBase<FakeMemory, Kernel> {
        private final Arena arena = Arena.ofShared();
        /** Every allocation this context made, freed or not. */
        public final List<FakeMemory> memories = new ArrayList<>();

        FakeContext(DeviceInfo info) { super(info, "fake"); }

        @Override
        protected FakeMemory allocateMemory(String name, long bytes) {
            // Device memory starts undefined: fill it with garbage so a missing zero-fill shows.
            FakeMemory m = new FakeMemory(name, arena.allocate(bytes, 64).fill((byte) 0xA5));
            memories.add(m);
            return m;
        }

        @Override
        protected void freeMemory(FakeMemory m) { m.freed = true; }

        @Override
        protected Compiled<Kernel> compileProgram(Kernel kernel, Mode mode) {
            compiles++;
            if (compileFailure != null) throw new IllegalStateException("build failed: " + compileFailure);
            Kernel run = mode.kernel(kernel); // FAST runs the fused kernel, as every renderer does
            return compiled(kernel, mode, run.print(), 1, false, "", run);
        }

        @Override
        protected void releaseProgram(Kernel program) {}

        @Override
        protected void copyInMemory(FakeMemory dst, long offset, MemorySegment src, boolean blocking) {
            long t0 = System.nanoTime();
            MemorySegment.copy(src, 0, dst.segment, offset, src.byteSize());
            if (profiling()) addTime(TimeKind.COPY_IN, System.nanoTime() - t0 + 1);
            copiesIn++;
            copiesInByBuffer.merge(dst.name, 1, Integer::sum);
        }

        @Override
        protected void copyOutMemory(FakeMemory src, long offset, MemorySegment dst) {
            long t0 = System.nanoTime();
            MemorySegment.copy(src.segment, offset, dst, 0, dst.byteSize());
            if (profiling()) addTime(TimeKind.COPY_OUT, System.nanoTime() - t0 + 1);
            copiesOut++;
            copiesOutByBuffer.merge(src.name, 1, Integer::sum);
        }

        @Override
        protected void copyMemory(FakeMemory src, long srcOffset, FakeMemory dst, long dstOffset, long bytes) {
            MemorySegment.copy(src.segment, srcOffset, dst.segment, dstOffset, bytes);
        }

        @Override
        protected void launchProgram(Kernel k, Kernel ir, long n, List<DeviceBuffer> args, float[] scalars) {
            MemorySegment[] segs = new MemorySegment[k.inputs().size()];
            for (int j = 0; j < segs.length; j++) segs[j] = memory(args.get(j)).segment;
            // random's tensor table after the inputs: [T, start_0, ...]
            MemorySegment table = k.usesRandom() ? memory(args.get(segs.length)).segment : null;
            long t0 = System.nanoTime();
            float[] in = new float[segs.length];
            float[] vars = new float[k.eqns().size()];
            int tensor = 0;
            for (long i = 0; i < n; i++) {
                for (int j = 0; j < segs.length; j++) in[j] = switch (k.storage(j)) { // a 16-bit input holds its values' patterns
                    case F32 -> segs[j].getAtIndex(F32, i);
                    case BF16 -> io.nag4j.core.ir.Narrowing.fromBf16Bits(segs[j].getAtIndex(ValueLayout.JAVA_SHORT, i));
                    case F16 -> io.nag4j.core.ir.Narrowing.fromF16Bits(segs[j].getAtIndex(ValueLayout.JAVA_SHORT, i));
                };
                long start = 0;
                if (table != null) {
                    while (tensor + 1 < table.getAtIndex(ValueLayout.JAVA_LONG, 0) && table.getAtIndex(ValueLayout.JAVA_LONG, 2 + tensor) <= i) tensor++;
                    start = table.getAtIndex(ValueLayout.JAVA_LONG, 1 + tensor);
                }
                Evaluator.evalElement(k, in, scalars, vars, tensor, i - start);
                for (Kernel.Output o : k.outputs()) {
                    float v = in[o.input()];
                    switch (k.storage(o.input())) {
                        case F32 -> segs[o.input()].setAtIndex(F32, i, v);
                        case BF16 -> segs[o.input()].setAtIndex(ValueLayout.JAVA_SHORT, i, io.nag4j.core.ir.Narrowing.toBf16Bits(v));
                        case F16 -> segs[o.input()].setAtIndex(ValueLayout.JAVA_SHORT, i, io.nag4j.core.ir.Narrowing.toF16Bits(v));
                    }
                }
            }
            if (profiling()) addTime(TimeKind.KERNEL, System.nanoTime() - t0 + 1);
            launches++;
            if (corruptFromLaunch > 0 && launches >= corruptFromLaunch) {
                segs[Kernel.PARAM].setAtIndex(ValueLayout.JAVA_INT, 0, segs[Kernel.PARAM].getAtIndex(ValueLayout.JAVA_INT, 0) ^ 1);
            }
        }

        @Override
        protected void finishQueue() {}

        @Override
        protected void closeDriver(List<RuntimeException> errors) {
            arena.close();
        }
    }
}
