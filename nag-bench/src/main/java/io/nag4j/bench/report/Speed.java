package io.nag4j.bench.report;

import static io.nag4j.bench.device.DeviceBench.median;

import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.gpu.plan.BoundOptimizer;
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

    static Timing time(BoundOptimizer opt, ParamSet updates, double seconds, int jitSteps, double jitSeconds) {
        Hyperparams hp = opt.hyperparams();
        warmUp(opt, updates, hp, seconds, jitSteps, jitSeconds);
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
            long[] host = new long[profiled], copy = new long[profiled], device = new long[profiled];
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
                    host[i] = Math.max(0, w - device[i]);
                }
            } finally {
                d.withProfiler(false);
            }
            overhead = median(host) / 1e9;
            double dev = median(device);
            transfer = dev > 0 ? median(copy) / dev : null;
        }
        return new Timing(median, count, overhead, transfer);
    }

    /**
     * Steps until the JIT has settled: {@code jitSteps} steps (or {@code jitSeconds}), then batches of about 20 ms until two in a row agree within 10%
     * (the CPU backend's Vector API loops are a hundred times slower until C2 compiles them, which
     * takes far more than a fixed few steps on two cores), at least a third of {@code seconds},
     * at most 5 s.
     */
    static void warmUp(BoundOptimizer opt, ParamSet updates, Hyperparams hp, double seconds, int jitSteps, double jitSeconds) {
        long start = System.nanoTime(), minEnd = start + (long) (seconds / 3 * 1e9), maxEnd = start + 5_000_000_000L;
        // Interpreted steps are steady too: first enough of them for C2 to have compiled (or recompiled, after
        // another rule's loop made a call site megamorphic) the loops.
        long jitEnd = start + (long) (jitSeconds * 1e9);
        for (int i = 0; i < jitSteps && System.nanoTime() < jitEnd; i++) opt.step(updates, hp);
        int batch = 1;
        double previous = Double.NaN;
        while (true) {
            long t0 = System.nanoTime();
            for (int i = 0; i < batch; i++) opt.step(updates, hp);
            long t1 = System.nanoTime();
            double perStep = (t1 - t0) / (double) batch;
            if (t1 - t0 < 20_000_000L) {
                batch *= 2;
                previous = Double.NaN; // a new batch size: compare like with like
                continue;
            }
            boolean settled = Math.abs(perStep - previous) <= 0.1 * Math.min(perStep, previous);
            if ((settled && t1 >= minEnd) || t1 >= maxEnd) return;
            previous = perStep;
        }
    }
}
