package io.nag4j.bench.cpu;

import io.nag4j.core.cpu.CpuBackend;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.optim.KernelOptimizer;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.rule.Nag;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;

import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Measures NAG steps on the CPU at several sizes, four ways, in one run:
 * <ul>
 *   <li>{@code probe} — a plain Java loop over {@code float[]} split over all threads
 *       ({@link NagProbe}): the bandwidth the machine gives plain Java;</li>
 *   <li>{@code loop-1t} — the same loop on the calling thread only;</li>
 *   <li>{@code cpu-execute} — {@link CpuBackend#execute} on the traced NAG kernel (the shared
 *       backend alone, as configured: it picks one thread or all by the step's traffic);</li>
 *   <li>{@code cpu-1t}, {@code cpu-mt} — the same with a backend forced to one thread, or to all
 *       threads at every size: where they cross is where {@code nag4j.cpu.parallelBytes} belongs;</li>
 *   <li>{@code cpu-optimizer} — {@link KernelOptimizer#step} with the CPU backend on a ParamSet
 *       (the public API, including its per-step checks).</li>
 * </ul>
 * Each is warmed up, then timed in batches of steps long enough for the clock; the result is the
 * median time per step and the bandwidth {@code kernel.bytesPerElement() * n / time}, with the
 * bytes the calling thread allocated per step while it was timed (0 is the goal).
 */
public final class CpuBench {
    /** Default sizes: 1e3 .. 1e7 and 64M elements. */
    public static final long[] DEFAULT_SIZES = {1_000, 10_000, 100_000, 1_000_000, 10_000_000, 64L << 20};

    /** One measurement. */
    public record Row(String variant, long elements, int threads, double nsPerStep, double gbPerSecond,
                      long bytesPerStep, int batches, double allocatedBytesPerStep) {}

    private final double seconds;
    private final int threads;
    private final PrintStream log;

    /**
     * @param seconds time per variant and size (a third of it is warm-up)
     * @param threads threads of the probe; the backend uses {@link CpuBackend#shared()} as configured
     */
    public CpuBench(double seconds, int threads, PrintStream log) {
        if (!(seconds > 0)) throw new IllegalArgumentException("--seconds must be positive, got " + seconds);
        if (threads < 1) throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
        this.seconds = seconds;
        this.threads = threads;
        this.log = log;
    }

    public List<Row> run(long[] sizes) {
        Kernel k = Nag.INSTANCE.kernel();
        long bpe = k.bytesPerElement();
        jitWarmUp(k);
        List<Row> rows = new ArrayList<>();
        for (long n : sizes) {
            if (n < 1 || n > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("size " + n + " is out of range 1.." + (Integer.MAX_VALUE - 8));
            try (NagProbe probe = new NagProbe((int) n, threads, 0.01f, 0.9f)) {
                rows.add(row("probe", n, threads, bpe, time(() -> probe.step(false))));
            }
            try (NagProbe single = new NagProbe((int) n, 1, 0.01f, 0.9f)) {
                rows.add(row("loop-1t", n, 1, bpe, time(() -> single.step(false))));
            }
            CpuBackend cpu = CpuBackend.shared();
            KernelOptimizer opt = new KernelOptimizer(Nag.INSTANCE, Nag.INSTANCE.defaults(), cpu);
            try (ParamSet params = ParamSet.of(filled("w", n, 1f, 1e-3f));
                 ParamSet updates = ParamSet.of(filled("w", n, 0f, 1e-6f));
                 OptState state = opt.init(params)) {
                List<Tensor[]> groups = List.<Tensor[]>of(new Tensor[] {params.get(0), updates.get(0), state.slot("phi").get(0)});
                float[] scalars = Nag.INSTANCE.scalars(2, Nag.INSTANCE.defaults());
                rows.add(row("cpu-execute", n, cpu.threads(), bpe, time(() -> cpu.execute(k, groups, scalars))));
                try (CpuBackend one = new CpuBackend(1, Long.MAX_VALUE)) {
                    rows.add(row("cpu-1t", n, 1, bpe, time(() -> one.execute(k, groups, scalars))));
                }
                try (CpuBackend all = new CpuBackend(cpu.threads(), 0)) {
                    rows.add(row("cpu-mt", n, all.threads(), bpe, time(() -> all.execute(k, groups, scalars))));
                }
                rows.add(row("cpu-optimizer", n, cpu.threads(), bpe, time(() -> opt.step(state, params, updates))));
            }
        }
        return rows;
    }

    /**
     * Runs the generated loop for a while first, so that the first timed variant is not measured
     * while C2 is still compiling it (an interpreted Vector API loop allocates on every op).
     */
    private void jitWarmUp(Kernel k) {
        try (Tensor p = filled("w", 4096, 1f, 1e-3f); Tensor u = filled("g", 4096, 0f, 1e-6f); Tensor phi = Tensor.zeros("phi", 4096)) {
            List<Tensor[]> groups = List.<Tensor[]>of(new Tensor[] {p, u, phi});
            float[] scalars = Nag.INSTANCE.scalars(2, Nag.INSTANCE.defaults());
            long end = System.nanoTime() + (long) (Math.min(2.0, Math.max(0.5, seconds)) * 1e9);
            while (System.nanoTime() < end) CpuBackend.shared().execute(k, groups, scalars);
        }
    }

    private Row row(String variant, long n, int threads, long bpe, double[] timing) {
        double ns = timing[0];
        Row r = new Row(variant, n, threads, ns, bpe * n / ns, bpe * n, (int) timing[1], timing[2]);
        if (log != null) log.println(format(r));
        return r;
    }

    /** A tensor of n elements, value base + (i % 1000) * step: no NaN, no subnormal. */
    private static Tensor filled(String name, long n, float base, float step) {
        Tensor t = Tensor.zeros(name, n);
        MemorySegment s = t.segment();
        for (long i = 0; i < n; i++) s.setAtIndex(Tensor.F32, i, base + (i % 1000) * step);
        return t;
    }

    /** {median ns per step, number of batches, bytes allocated per step}: warm up, size a batch to >= 200 µs, then time batches. */
    private double[] time(Runnable step) {
        long budget = (long) (seconds * 1e9), warm = budget / 3;
        long t0 = System.nanoTime();
        while (System.nanoTime() - t0 < warm) step.run();
        int batch = 1;
        while (true) {
            long s = System.nanoTime();
            for (int i = 0; i < batch; i++) step.run();
            if (System.nanoTime() - s >= 200_000 || batch >= 1 << 24) break;
            batch *= 2;
        }
        double[] per = new double[1024];
        int batches = 0;
        long steps = 0, alloc0 = allocated();
        long end = System.nanoTime() + (budget - warm);
        do {
            long s = System.nanoTime();
            for (int i = 0; i < batch; i++) step.run();
            if (batches == per.length) per = Arrays.copyOf(per, per.length * 2);
            per[batches++] = (System.nanoTime() - s) / (double) batch;
            steps += batch;
        } while (System.nanoTime() < end || batches < 3);
        double allocPerStep = (allocated() - alloc0) / (double) steps;
        double[] a = Arrays.copyOf(per, batches);
        Arrays.sort(a);
        return new double[] {a[a.length / 2], a.length, allocPerStep};
    }

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();

    private static long allocated() {
        return THREADS.getCurrentThreadAllocatedBytes();
    }

    public static String header() {
        return String.format(Locale.ROOT, "%-14s %12s %7s %14s %10s %8s %12s", "variant", "elements", "threads", "ns/step", "GB/s", "batches", "alloc B/step");
    }

    public static String format(Row r) {
        return String.format(Locale.ROOT, "%-14s %12d %7d %14.1f %10.2f %8d %12.1f",
                r.variant(), r.elements(), r.threads(), r.nsPerStep(), r.gbPerSecond(), r.batches(), r.allocatedBytesPerStep());
    }

    /** Parses "1000,1e6,64M" (suffixes k, M, G are powers of 1024; 1eN is a power of ten). */
    public static long[] parseSizes(String text) {
        if (text == null || text.isBlank()) throw new IllegalArgumentException("--sizes is empty");
        String[] parts = text.split(",");
        long[] out = new long[parts.length];
        for (int i = 0; i < parts.length; i++) out[i] = parseSize(parts[i].trim());
        return out;
    }

    static long parseSize(String s) {
        try {
            long mult = 1;
            String num = s;
            char last = s.isEmpty() ? ' ' : Character.toUpperCase(s.charAt(s.length() - 1));
            if (last == 'K' || last == 'M' || last == 'G') {
                mult = last == 'K' ? 1L << 10 : last == 'M' ? 1L << 20 : 1L << 30;
                num = s.substring(0, s.length() - 1);
            }
            double v = Double.parseDouble(num) * mult;
            if (v < 1 || v > Integer.MAX_VALUE - 8 || v != Math.rint(v)) throw new NumberFormatException();
            return (long) v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad size '" + s + "' in --sizes: want a whole number of elements, 1 to "
                    + (Integer.MAX_VALUE - 8) + " (for example 1000, 1e6, 64M)");
        }
    }
}
