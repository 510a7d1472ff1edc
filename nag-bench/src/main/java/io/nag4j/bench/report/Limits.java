package io.nag4j.bench.report;

import io.nag4j.bench.device.DeviceBench;
import io.nag4j.gpu.device.DeviceBuffer;
import io.nag4j.gpu.device.DeviceContext;
import io.nag4j.gpu.plan.Drivers;

import java.util.Arrays;

/**
 * What the machine can move, measured in the same run as the optimizers: the yardstick each
 * speed figure is a share of. These kernels are memory-bound, so the limit is bytes per second.
 */
final class Limits {
    private Limits() {}

    /** A measured limit: bytes per second and how it was measured. */
    record Limit(double bytesPerSecond, String probe) {}

    /**
     * A streaming loop over plain {@code float[]} that reads {@code reads} arrays of {@code n}
     * elements and writes {@code writes} of them back in place: the same bytes per element as a
     * kernel with that many inputs and outputs (which also writes back into arrays it has just
     * read, so no write costs a read for ownership), and nothing else. The slices run on the caller
     * and {@code threads - 1} persistent spinning helpers (no hand-off through an executor, which
     * would cost more than a small step); blocks of 2048 elements keep the partial sums in L1.
     */
    static Limit cpuStream(int n, int reads, int writes, int threads, double seconds) {
        if (writes > reads) throw new IllegalArgumentException("a kernel writes back into its inputs: writes " + writes + " > reads " + reads);
        float[][] a = new float[reads][n];
        for (float[] x : a) Arrays.fill(x, 1f);
        try (Helpers helpers = new Helpers(threads, slice -> {
            int lo = (int) ((long) n * slice / threads), hi = (int) ((long) n * (slice + 1) / threads);
            stream(a, writes, lo, hi);
        })) {
            double s = medianSeconds(helpers::runAll, seconds);
            long bytes = 4L * n * (reads + writes);
            return new Limit(bytes / s, "CPU streaming loop, " + threads + " threads, " + reads + " reads + " + writes
                    + " in-place writes of " + n + " floats");
        }
    }

    /**
     * Runs the streaming loop for every input count for {@code seconds}, so C2 has compiled it
     * (every branch) before a probe is timed: a probe's own short warm-up may not outlast the
     * compile queue on two cores, and an interpreted probe would make a poor limit.
     */
    static void warmUp(double seconds) {
        float[][] a = new float[8][16 * 1024];
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while (System.nanoTime() < end) {
            for (int reads = 2; reads <= 8; reads++) stream(java.util.Arrays.copyOf(a, reads), Math.min(reads, 3), 0, a[0].length);
        }
    }

    /** Runs slice 0 on the caller and slices 1.. on daemon threads that spin between steps (as the CPU backend's pool does). */
    private static final class Helpers implements AutoCloseable {
        private final java.util.function.IntConsumer slice;
        private final Thread[] threads;
        private final java.util.concurrent.atomic.AtomicInteger unfinished = new java.util.concurrent.atomic.AtomicInteger();
        private volatile long generation;
        private volatile boolean closed;

        Helpers(int count, java.util.function.IntConsumer slice) {
            this.slice = slice;
            threads = new Thread[count - 1];
            for (int h = 0; h < threads.length; h++) {
                int mine = h + 1;
                threads[h] = new Thread(() -> loop(mine), "nag4j-stream-probe-" + mine);
                threads[h].setDaemon(true);
                threads[h].start();
            }
        }

        void runAll() {
            unfinished.set(threads.length);
            generation++;
            slice.accept(0);
            for (int spins = 1; unfinished.get() != 0; spins++) pause(spins);
        }

        private void loop(int mine) {
            long seen = 0;
            for (int idle = 1; !closed; ) {
                long g = generation;
                if (g == seen) {
                    pause(idle++);
                    continue;
                }
                idle = 1;
                seen = g;
                slice.accept(mine);
                unfinished.decrementAndGet();
            }
        }

        /** Spin, giving the core away now and then: on a busy machine a pure spin starves the thread it waits for. */
        private static void pause(int spins) {
            if ((spins & 1023) == 0) Thread.yield(); else Thread.onSpinWait();
        }

        @Override
        public void close() { closed = true; }
    }

    private static void stream(float[][] a, int writes, int lo, int hi) {
        // One plain loop per input count (C2 vectorizes each): the sum of every input, written back into the first
        // input; the other outputs are copied from it while the block is in L1.
        float[] o0 = a[0];
        for (int b = lo; b < hi; b += 2048) {
            int e = Math.min(hi, b + 2048);
            switch (a.length) {
                case 1 -> { for (int i = b; i < e; i++) o0[i] = o0[i] * 0.5f; }
                case 2 -> { float[] y = a[1]; for (int i = b; i < e; i++) o0[i] = o0[i] + y[i]; }
                case 3 -> { float[] y = a[1], z = a[2]; for (int i = b; i < e; i++) o0[i] = o0[i] + y[i] + z[i]; }
                case 4 -> { float[] y = a[1], z = a[2], w = a[3]; for (int i = b; i < e; i++) o0[i] = o0[i] + y[i] + z[i] + w[i]; }
                default -> {
                    float[] y = a[1], z = a[2], w = a[3], v = a[4];
                    for (int i = b; i < e; i++) o0[i] = o0[i] + y[i] + z[i] + w[i] + v[i];
                    for (int r = 5; r < a.length; r++) { float[] x = a[r]; for (int i = b; i < e; i++) o0[i] += x[i]; }
                }
            }
            for (int w = 1; w < writes; w++) System.arraycopy(o0, b, a[w], b, e - b);
        }
    }

    /**
     * Device-to-device copy of {@code n} floats on a driver backend's device (its own events not
     * needed: back-to-back copies and one finish per batch): 2 x 4n bytes moved per copy.
     */
    static Limit deviceCopy(String spec, long n, double seconds) {
        Drivers.Spec s = Drivers.parseSpec(spec);
        long bytes = 4L * n;
        try (DeviceContext ctx = Drivers.get(s.driver()).open(s.index())) {
            DeviceBuffer src = ctx.allocate("copy-src", bytes), dst = ctx.allocate("copy-dst", bytes);
            Runnable copy = () -> {
                ctx.copy(src, 0, dst, 0, bytes);
                ctx.finish();
            };
            double sec = medianSeconds(copy, seconds);
            return new Limit(2.0 * bytes / sec, "device-to-device copy of " + n + " floats on " + spec);
        }
    }

    /** The median of single timed runs of {@code step} after a third of {@code seconds} of warm-up. */
    static double medianSeconds(Runnable step, double seconds) {
        long warmEnd = System.nanoTime() + (long) (seconds / 3 * 1e9);
        int warm = 0;
        while (warm < 2 || System.nanoTime() < warmEnd) {
            step.run();
            warm++;
        }
        long end = System.nanoTime() + (long) (seconds * 2 / 3 * 1e9);
        long[] t = new long[4096];
        int count = 0;
        while (count < 3 || (System.nanoTime() < end && count < t.length)) {
            long t0 = System.nanoTime();
            step.run();
            t[count++] = System.nanoTime() - t0;
        }
        return DeviceBench.median(Arrays.copyOf(t, count)) / 1e9;
    }
}
