package io.nag4j.bench.report;

import static io.nag4j.bench.device.DeviceBench.median;

import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.bound.BoundOptimizer;
import io.nag4j.gpu.plan.DeviceOptimizer;
import io.nag4j.gpu.plan.Profile;

import java.util.Arrays;

/** Times steps of a bound optimizer through the public API, as a training loop makes them. */
final class Speed {
    private Speed() {}

    /**
     * Median wall time per step; for nag4j's device backends also the host's share of a step
     * (wall minus the device's copy-in and kernel time) and the transfer's share of the device
     * time (the updates come from the host every step). Null where the backend cannot say.
     */
    record Timing(double secondsPerStep, int steps, Double hostOverheadSeconds, Double transferShare) {}

    /**
     * Times {@code opt}. {@code host}: the backend runs on this JVM's threads (the CPU backend, the
     * reference), so its warm-up waits for its loops to stop allocating (see {@link #warmUp}).
     */
    static Timing time(BoundOptimizer opt, ParamSet updates, double seconds, boolean host, double jitSeconds) {
        Hyperparams hp = opt.hyperparams();
        warmUp(opt, updates, hp, seconds, host ? 20_000 : 200, jitSeconds, host);
        long end = System.nanoTime() + (long) (seconds * 2 / 3 * 1e9);
        long[] wall = new long[20_000];
        int count = 0;
        while (count < 5 || (System.nanoTime() < end && count < wall.length)) {
            long t0 = System.nanoTime();
            opt.step(updates, hp);
            wall[count++] = System.nanoTime() - t0;
        }
        double median = median(Arrays.copyOf(wall, count)) / 1e9;
        Double overhead = null, transfer = null;
        if (opt instanceof DeviceOptimizer d) {
            // With the profiler on, the same steps again: the device's own times, and the rest is host work.
            int profiled = Math.max(5, Math.min(count, 50));
            long[] hostNs = new long[profiled], copy = new long[profiled], device = new long[profiled];
            d.withProfiler(true);
            try {
                d.step(updates, hp);
                for (int i = 0; i < profiled; i++) {
                    long t0 = System.nanoTime();
                    d.step(updates, hp);
                    long w = System.nanoTime() - t0;
                    Profile p = d.profile();
                    device[i] = p.copyInNanos() + p.kernelNanos();
                    copy[i] = p.copyInNanos();
                    hostNs[i] = Math.max(0, w - device[i]);
                }
            } finally {
                d.withProfiler(false);
            }
            overhead = median(hostNs) / 1e9;
            double dev = median(device);
            transfer = dev > 0 ? median(copy) / dev : null;
        }
        return new Timing(median, count, overhead, transfer);
    }

    /**
     * Steps until the JIT has settled: {@code jitSteps} steps (or {@code jitSeconds}), then batches
     * of about 20 ms until two in a row agree within 10% and (on the {@code host}) allocate next to
     * nothing on this thread, at least a third of {@code seconds}, at most 5 s. Why the allocation test: until C2
     * compiles a CPU loop, its Vector API code runs interpreted or in C1, boxing every vector (tens
     * of bytes per element) and a hundred times slower, yet just as steady; on two cores a loop can
     * wait in the compile queue for seconds. Compiled, a step allocates nothing.
     */
    static void warmUp(BoundOptimizer opt, ParamSet updates, Hyperparams hp, double seconds, int jitSteps, double jitSeconds, boolean host) {
        long start = System.nanoTime(), minEnd = start + (long) (seconds / 3 * 1e9), maxEnd = start + 5_000_000_000L;
        long jitEnd = start + (long) (jitSeconds * 1e9);
        for (int i = 0; i < jitSteps && System.nanoTime() < jitEnd; i++) opt.step(updates, hp);
        // Interpreted vector code allocates ~50 bytes per element; a compiled step nothing, the reference a little per tensor.
        long allowed = Math.max(4096, updates.totalSize() / 8) + 256L * updates.size();
        int batch = 1;
        double previous = Double.NaN;
        while (true) {
            long a0 = allocated();
            long t0 = System.nanoTime();
            for (int i = 0; i < batch; i++) opt.step(updates, hp);
            long t1 = System.nanoTime();
            boolean boxing = host && allocated() - a0 > allowed * batch;
            double perStep = (t1 - t0) / (double) batch;
            if (t1 - t0 < 20_000_000L) {
                batch *= 2;
                previous = Double.NaN; // a new batch size: compare like with like
                continue;
            }
            boolean settled = !boxing && Math.abs(perStep - previous) <= 0.1 * Math.min(perStep, previous);
            if ((settled && t1 >= minEnd) || t1 >= maxEnd) return;
            previous = perStep;
        }
    }

    private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

    /** Bytes this thread has allocated, or 0 where the JVM cannot say (then only the timing test applies). */
    private static long allocated() {
        return THREADS instanceof com.sun.management.ThreadMXBean t && t.isThreadAllocatedMemoryEnabled() ? t.getCurrentThreadAllocatedBytes() : 0;
    }
}
