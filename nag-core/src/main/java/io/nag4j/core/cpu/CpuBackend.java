package io.nag4j.core.cpu;

import io.nag4j.core.ir.Kernel;
import io.nag4j.core.optim.KernelExecutor;
import io.nag4j.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The CPU backend: runs any kernel as generated JVM code on all cores.
 *
 * <p>Each kernel is lowered once by {@link JvmLowering} to a hidden class whose loop C2 compiles
 * like hand-written Java (cached by {@link Kernel#hash()}); results are bitwise those of the
 * reference evaluator. A step whose traffic ({@link Kernel#bytesPerElement()} times the element
 * count over all groups) is below {@link #parallelBytes()} runs on the calling thread, since
 * waking another thread costs tens of microseconds; a larger one is cut into units spanning all
 * groups (so a ParamSet of many small tensors is parallel too) and run by the caller and a
 * persistent pool of daemon threads. Repeated steps over the same tensors reuse their plan and
 * allocate nothing.
 *
 * <p>Started with {@code --add-modules jdk.incubator.vector}, the loops run on
 * {@code FloatVector} lanes (each lanewise op is specified as the same scalar Java expression, so
 * the bits do not change); without it, on scalar code over L1-sized tiles copied into arrays.
 *
 * <p>Independent optimizers may step on one backend from many threads at once: a small step
 * runs on its caller, and a large one uses the pool when it is free and its caller alone
 * when another step holds it, so no step waits for another's. Tuning, read once:
 * {@code -Dnag4j.cpu.threads=N} (all processors by default) and
 * {@code -Dnag4j.cpu.parallelBytes=B} (the traffic from which a step goes parallel),
 * {@code -Dnag4j.cpu.vector=false} (scalar code even where the Vector API is there).
 */
public final class CpuBackend implements KernelExecutor, AutoCloseable {
    /** Default traffic from which a step is split over threads: where the handoff (~28 µs) stops dominating. */
    public static final long DEFAULT_PARALLEL_BYTES = 1L << 20; // measured: one thread and all threads cross near 50K NAG elements (1 MB) here
    /** The largest piece one call of a generated loop handles (its element counter is an int). */
    static final int MAX_PIECE = 1 << 30;
    /** Units per participating thread: several, so a late or slow thread leaves less imbalance. */
    private static final int UNITS_PER_THREAD = 8;
    /** The smallest unit worth handing to a thread, in elements (a multiple of a cache line of floats). */
    static final long MIN_UNIT = 16 * 1024;
    private static final int PLAN_CACHE = 4;

    /** Whether backends use the Vector API lowering by default: when the module is there and not switched off. */
    static final boolean VECTOR_DEFAULT = JvmLowering.VECTOR_AVAILABLE
            && Boolean.parseBoolean(System.getProperty("nag4j.cpu.vector", "true"));

    static {
        SegmentKinds.load(); // before any loop is compiled: see SegmentKinds
    }

    private static final CpuBackend SHARED = new CpuBackend(
            Integer.getInteger("nag4j.cpu.threads", Runtime.getRuntime().availableProcessors()),
            Long.getLong("nag4j.cpu.parallelBytes", DEFAULT_PARALLEL_BYTES), MIN_UNIT, VECTOR_DEFAULT, true);

    /** Compiled loops of every kernel seen, by hash and flavor: shared by all backends. */
    private static final ConcurrentHashMap<String, ElementLoop> LOOPS = new ConcurrentHashMap<>();

    private final int threads;
    private final long parallelBytes;
    private final long minUnit;
    private final boolean vector;
    private final boolean shared;
    private final WorkerPool pool;
    private final Plan[] plans = new Plan[PLAN_CACHE];
    private int nextPlanSlot;
    private volatile boolean closed;

    /** The process-wide backend (never closed; its threads are daemons). */
    public static CpuBackend shared() { return SHARED; }

    /**
     * A backend of its own, for tests and benchmarks; close it to stop its threads.
     *
     * @param threads       threads that run a parallel step, the caller included (at least 1)
     * @param parallelBytes a step moving at least this many bytes runs on all threads
     */
    public CpuBackend(int threads, long parallelBytes) {
        this(threads, parallelBytes, MIN_UNIT, VECTOR_DEFAULT, false);
    }

    /**
     * A backend of one thread and one lowering, for differential tests and {@code nag4j fuzz}:
     * Vector API loops ({@code vector}; needs {@link #vectorAvailable()}) or plain scalar loops.
     */
    public static CpuBackend singleThread(boolean vector) {
        return new CpuBackend(1, Long.MAX_VALUE, MIN_UNIT, vector, false);
    }

    /** Whether this JVM has {@code jdk.incubator.vector}, which the vector lowering needs. */
    public static boolean vectorAvailable() { return JvmLowering.VECTOR_AVAILABLE; }

    /** As the public constructor, with the smallest unit in elements (tests use tiny units to exercise the pool). */
    CpuBackend(int threads, long parallelBytes, long minUnit, boolean vector, boolean shared) {
        if (vector && !JvmLowering.VECTOR_AVAILABLE) throw new IllegalStateException("jdk.incubator.vector is not in this JVM");
        if (minUnit < 1) throw new IllegalArgumentException("minUnit must be >= 1, got " + minUnit);
        if (threads < 1) throw new IllegalArgumentException("CPU backend threads must be at least 1, got " + threads);
        if (parallelBytes < 0) throw new IllegalArgumentException("parallelBytes must be >= 0, got " + parallelBytes);
        this.threads = threads;
        this.parallelBytes = parallelBytes;
        this.minUnit = minUnit;
        this.vector = vector;
        this.shared = shared;
        this.pool = threads > 1 ? new WorkerPool(threads - 1, "nag4j-cpu") : null;
    }

    @Override public String name() { return "cpu"; }

    /** Threads a parallel step runs on, the caller included. */
    public int threads() { return threads; }

    /** The traffic in bytes from which a step runs on all threads. */
    public long parallelBytes() { return parallelBytes; }

    /** Whether this backend runs kernels on the Vector API ({@code FloatVector} lanes) rather than scalar code. */
    public boolean vectorized() { return vector; }

    /**
     * A readable listing of the JVM code this backend runs for {@code kernel}: the loop as Java,
     * then its bytecode (as {@code nag4j kernels --target java} prints it).
     */
    public static String describe(Kernel kernel) {
        return JvmLowering.describe(kernel, SHARED.vector);
    }

    /** The compiled loop of {@code kernel}, generating it on first use. */
    static ElementLoop loopOf(Kernel kernel, boolean vector) {
        return LOOPS.computeIfAbsent(kernel.hash() + (vector ? ":vector" : ":scalar"), h -> JvmLowering.define(kernel, vector));
    }

    @Override
    public void execute(Kernel kernel, List<Tensor[]> groups, float[] scalars) {
        checkScalars(kernel, scalars);
        plan(kernel, groups).run(scalars);
    }

    /**
     * {@code kernel} over these tensors, planned once: each run allocates nothing and takes no
     * lock of this backend. The tensors must be open when it runs (a closed one throws
     * {@link IllegalStateException}, possibly after other pieces ran: callers check first).
     */
    @Override
    public Launch prepare(Kernel kernel, List<Tensor[]> groups) {
        checkOpen();
        boolean lanes = vector && JvmLowering.vectorizable(kernel); // a kernel the vector lowering does not cover runs scalar
        Plan plan = new Plan(this, kernel, loopOf(kernel, lanes), lanes, groups, pool == null ? 1 : threads, minUnit);
        return scalars -> {
            checkScalars(kernel, scalars);
            plan.run(scalars);
        };
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("this CPU backend is closed");
    }

    private void checkScalars(Kernel kernel, float[] scalars) {
        checkOpen();
        if (scalars == null || scalars.length != kernel.scalars().size()) {
            throw new IllegalArgumentException("kernel " + kernel.name() + " takes " + kernel.scalars().size()
                    + " scalars " + kernel.scalars() + ", got " + (scalars == null ? "null" : scalars.length));
        }
    }

    /** The cached plan for these exact tensors, or a new one. The lock covers only the cache, never a run. */
    private Plan plan(Kernel kernel, List<Tensor[]> groups) {
        synchronized (plans) {
            for (Plan p : plans) {
                if (p != null && p.kernel == kernel && p.matches(groups)) return p;
            }
        }
        boolean lanes = vector && JvmLowering.vectorizable(kernel);
        Plan p = new Plan(this, kernel, loopOf(kernel, lanes), lanes, groups, pool == null ? 1 : threads, minUnit);
        synchronized (plans) {
            plans[nextPlanSlot] = p;
            nextPlanSlot = (nextPlanSlot + 1) % PLAN_CACHE;
        }
        return p;
    }

    /** Stops this backend's threads. The shared backend ignores it. */
    @Override
    public void close() {
        if (shared || closed) return;
        closed = true;
        if (pool != null) pool.close();
        synchronized (plans) {
            java.util.Arrays.fill(plans, null);
        }
    }

    /**
     * One step's layout: every group's buffers in one array, cut into pieces (a group's element
     * range, at most {@link #MAX_PIECE} long) and units (consecutive pieces of about equal size).
     */
    private static final class Plan implements WorkerPool.Job {
        final CpuBackend backend;
        final Kernel kernel;
        final ElementLoop loop;
        final int inputs;
        final Tensor[] tensors;
        final MemorySegment[] segs;
        final long elements;
        final int[] pieceBase;
        final long[] pieceFrom;
        final int[] pieceLen;
        final int pieceTotal;
        /** Unit u is pieces unitStart[u] .. unitStart[u+1]-1. */
        final int[] unitStart;
        final int units;
        /** Tile arrays per participant (0 is the calling thread), one per input. */
        final float[][][] scratch;

        Plan(CpuBackend backend, Kernel kernel, ElementLoop loop, boolean vector, List<Tensor[]> groups, int threads, long minUnit) {
            this.backend = backend;
            this.kernel = kernel;
            this.loop = loop;
            this.inputs = kernel.inputs().size();
            if (groups == null) throw new IllegalArgumentException("groups are null");
            int g = groups.size();
            tensors = new Tensor[g * inputs];
            segs = new MemorySegment[g * inputs];
            long total = 0;
            for (int i = 0; i < g; i++) {
                Tensor[] group = groups.get(i);
                if (group == null || group.length != inputs) {
                    throw new IllegalArgumentException("kernel " + kernel.name() + " group " + i + " must have "
                            + inputs + " tensors " + kernel.inputs() + ", has " + (group == null ? "null" : group.length));
                }
                for (int j = 0; j < inputs; j++) {
                    Tensor t = group[j];
                    if (t == null) throw new IllegalArgumentException("kernel " + kernel.name() + " group " + i + ": " + kernel.inputs().get(j) + " is null");
                    if (t.size() != group[0].size()) {
                        throw new IllegalArgumentException("tensor '" + t.name() + "' has " + t.size() + " elements but '"
                                + group[0].name() + "' has " + group[0].size());
                    }
                    tensors[i * inputs + j] = t;
                    segs[i * inputs + j] = t.segment();
                }
                total += group[0].size();
            }
            elements = total;
            // Only the scalar lowering stages tiles through arrays; the vector loops read the segments.
            scratch = new float[threads][vector ? 0 : inputs][JvmLowering.TILE];
            long unitLen = Math.max(minUnit, ceilDiv(total, (long) threads * UNITS_PER_THREAD));
            if (unitLen >= 16) unitLen = (unitLen + 15) & ~15L; // whole cache lines per unit
            unitLen = Math.min(MAX_PIECE, unitLen);
            // Count pieces and units first, then fill the tables.
            int[] counts = cut(groups, unitLen, null, null, null, null);
            pieceTotal = counts[0];
            units = counts[1];
            pieceBase = new int[pieceTotal];
            pieceFrom = new long[pieceTotal];
            pieceLen = new int[pieceTotal];
            unitStart = new int[units + 1];
            cut(groups, unitLen, pieceBase, pieceFrom, pieceLen, unitStart);
        }

        /** Walks the groups in units of {@code unitLen} elements; fills the tables when given; returns {pieces, units}. */
        private int[] cut(List<Tensor[]> groups, long unitLen, int[] base, long[] from, int[] count, int[] unitStart) {
            int pieces = 0, units = 0;
            long room = 0; // elements left in the current unit
            for (int i = 0; i < groups.size(); i++) {
                long n = groups.get(i)[0].size();
                long at = 0;
                while (at < n) {
                    if (room == 0) {
                        if (unitStart != null) unitStart[units] = pieces;
                        units++;
                        room = unitLen;
                    }
                    long len = Math.min(n - at, room);
                    if (base != null) {
                        base[pieces] = i * inputs;
                        from[pieces] = at;
                        count[pieces] = (int) len;
                    }
                    pieces++;
                    at += len;
                    room -= len;
                }
            }
            if (unitStart != null) unitStart[units] = pieces;
            return new int[] {pieces, units};
        }

        private static long ceilDiv(long a, long b) { return (a + b - 1) / b; }

        /** Whether these are the same tensors (by identity) as the plan's; also checks none was closed. */
        boolean matches(List<Tensor[]> groups) {
            if (groups == null || groups.size() * inputs != tensors.length) return false;
            for (int i = 0; i < groups.size(); i++) {
                Tensor[] group = groups.get(i);
                if (group == null || group.length != inputs) return false;
                for (int j = 0; j < inputs; j++) if (group[j] != tensors[i * inputs + j]) return false;
            }
            for (Tensor t : tensors) t.checkOpen();
            return true;
        }

        /**
         * Runs every piece: on the calling thread when the step is small (waking another thread
         * costs more than it saves) or when the pool is busy with another optimizer's step
         * (waiting for it would serialise independent optimizers); otherwise on the pool.
         */
        void run(float[] scalars) {
            WorkerPool pool = backend.pool;
            if (pool == null || elements * kernel.bytesPerElement() < backend.parallelBytes || units <= 1
                    || !pool.tryRun(this, units, scalars)) {
                for (int p = 0; p < pieceTotal; p++) runPiece(p, 0, scalars);
            }
        }

        void runPiece(int p, int participant, float[] scalars) {
            loop.run(segs, pieceBase[p], scalars, pieceFrom[p], pieceLen[p], scratch[participant]);
        }

        @Override
        public void runUnit(int u, int participant, float[] scalars) {
            for (int p = unitStart[u]; p < unitStart[u + 1]; p++) runPiece(p, participant, scalars);
        }
    }
}
