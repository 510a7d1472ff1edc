package io.nag4j.gpu.plan;

import io.nag4j.core.ir.Evaluator;
import io.nag4j.core.ir.Kernel;
import io.nag4j.gpu.Mode;
import io.nag4j.gpu.device.CompiledKernel;
import io.nag4j.gpu.device.DeviceBuffer;
import io.nag4j.gpu.device.DeviceContext;
import io.nag4j.gpu.device.DeviceInfo;
import io.nag4j.gpu.device.DeviceTimes;
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

    /** A buffer in host memory, readable and writable by tests through {@link #segment()}. */
    public static final class FakeBuffer implements DeviceBuffer {
        private final String name;
        private final long bytes;
        private final MemorySegment segment;
        private final FakeContext owner;
        private boolean closed;

        FakeBuffer(String name, long bytes, MemorySegment segment, FakeContext owner) {
            this.name = name;
            this.bytes = bytes;
            this.segment = segment;
            this.owner = owner;
        }

        @Override public String name() { return name; }
        @Override public long byteSize() { return bytes; }
        @Override public boolean isClosed() { return closed || owner.closed; }
        @Override public void close() { closed = true; }

        public MemorySegment segment() {
            if (isClosed()) throw new IllegalStateException("fake buffer '" + name + "' is closed");
            return segment;
        }
    }

    record FakeKernel(Kernel kernel, Mode mode, String source, long compileNanos, boolean cached) implements CompiledKernel {}

    /** One opened fake device. */
    public final class FakeContext implements DeviceContext {
        private final DeviceInfo info;
        private final Arena arena = Arena.ofShared();
        private boolean closed, profiling;
        private long copyInNanos, kernelNanos, copyOutNanos;
        private int drainedLaunches;
        public final List<FakeBuffer> buffers = new ArrayList<>();

        FakeContext(DeviceInfo info) { this.info = info; }

        public boolean isClosed() { return closed; }

        private void checkOpen() {
            if (closed) throw new IllegalStateException("fake context on " + info.spec() + " is closed");
        }

        private FakeBuffer own(DeviceBuffer b) {
            if (!(b instanceof FakeBuffer fb) || fb.owner != this) throw new IllegalArgumentException("buffer " + b + " is not from this context");
            if (fb.isClosed()) throw new IllegalStateException("fake buffer '" + fb.name + "' is closed");
            return fb;
        }

        @Override public DeviceInfo info() { return info; }

        @Override
        public DeviceBuffer allocate(String name, long bytes) {
            checkOpen();
            if (bytes <= 0) throw new IllegalArgumentException("fake driver refuses empty buffer '" + name + "'");
            // Device memory starts undefined: fill it with garbage so a missing zero-fill shows.
            FakeBuffer b = new FakeBuffer(name, bytes, arena.allocate(bytes, 64).fill((byte) 0xA5), this);
            buffers.add(b);
            return b;
        }

        @Override
        public CompiledKernel compile(Kernel kernel, Mode mode) {
            checkOpen();
            compiles++;
            if (compileFailure != null) throw new IllegalStateException("build failed: " + compileFailure);
            return new FakeKernel(kernel, mode, kernel.print(), 1, false);
        }

        @Override
        public void copyIn(DeviceBuffer dst, long dstOffsetBytes, MemorySegment src, boolean blocking) {
            checkOpen();
            FakeBuffer b = own(dst);
            long t0 = System.nanoTime();
            MemorySegment.copy(src, 0, b.segment, dstOffsetBytes, src.byteSize());
            copyInNanos += System.nanoTime() - t0 + 1;
            copiesIn++;
            copiesInByBuffer.merge(b.name, 1, Integer::sum);
        }

        @Override
        public void copyOut(DeviceBuffer src, long srcOffsetBytes, MemorySegment dst) {
            checkOpen();
            FakeBuffer b = own(src);
            long t0 = System.nanoTime();
            MemorySegment.copy(b.segment, srcOffsetBytes, dst, 0, dst.byteSize());
            copyOutNanos += System.nanoTime() - t0 + 1;
            copiesOut++;
            copiesOutByBuffer.merge(b.name, 1, Integer::sum);
        }

        @Override
        public void copy(DeviceBuffer src, long srcOffsetBytes, DeviceBuffer dst, long dstOffsetBytes, long bytes) {
            checkOpen();
            FakeBuffer s = own(src), d = own(dst);
            DeviceContext.checkNoOverlap(s, srcOffsetBytes, d, dstOffsetBytes, bytes);
            MemorySegment.copy(s.segment, srcOffsetBytes, d.segment, dstOffsetBytes, bytes); // throws when out of range
        }

        @Override
        public void launch(CompiledKernel compiled, long n, List<DeviceBuffer> args, float[] scalars) {
            checkOpen();
            Kernel k = compiled.kernel();
            if (args.size() != k.inputs().size()) throw new IllegalArgumentException("kernel takes " + k.inputs().size() + " buffers, got " + args.size());
            if (scalars.length != k.scalars().size()) throw new IllegalArgumentException("kernel takes " + k.scalars().size() + " scalars, got " + scalars.length);
            MemorySegment[] segs = new MemorySegment[args.size()];
            for (int j = 0; j < segs.length; j++) {
                segs[j] = own(args.get(j)).segment;
                if (segs[j].byteSize() < n * Float.BYTES) throw new IllegalArgumentException("buffer " + j + " is too small for " + n + " elements");
            }
            long t0 = System.nanoTime();
            float[] in = new float[segs.length];
            float[] vars = new float[k.eqns().size()];
            for (long i = 0; i < n; i++) {
                for (int j = 0; j < segs.length; j++) in[j] = segs[j].getAtIndex(F32, i);
                Evaluator.evalElement(k, in, scalars, vars);
                for (Kernel.Output o : k.outputs()) segs[o.input()].setAtIndex(F32, i, in[o.input()]);
            }
            kernelNanos += System.nanoTime() - t0 + 1;
            launches++;
            if (corruptFromLaunch > 0 && launches >= corruptFromLaunch && n > 0) {
                segs[Kernel.PARAM].setAtIndex(ValueLayout.JAVA_INT, 0, segs[Kernel.PARAM].getAtIndex(ValueLayout.JAVA_INT, 0) ^ 1);
            }
            drainedLaunches++;
        }

        @Override public void finish() { checkOpen(); }

        @Override public void profile(boolean on) { checkOpen(); profiling = on; }

        @Override
        public DeviceTimes drainTimes() {
            checkOpen();
            DeviceTimes t = profiling ? new DeviceTimes(copyInNanos, kernelNanos, copyOutNanos, drainedLaunches) : DeviceTimes.ZERO;
            copyInNanos = kernelNanos = copyOutNanos = 0;
            drainedLaunches = 0;
            return t;
        }

        @Override
        public void close() {
            if (closed) return;
            closed = true;
            arena.close();
        }
    }
}
