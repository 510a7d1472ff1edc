package io.nag4j.bench.report;

import io.nag4j.bench.device.DeviceBench;
import io.nag4j.gpu.device.DeviceBuffer;
import io.nag4j.gpu.device.DeviceContext;
import io.nag4j.gpu.plan.Drivers;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * What the machine can move, measured in the same run as the optimizers: the yardstick each
 * speed figure is a share of. These kernels are memory-bound, so the limit is bytes per second.
 */
final class Limits {
    private Limits() {}

    /** A measured limit: bytes per second and how it was measured. */
    record Limit(double bytesPerSecond, String probe) {}

    /**
     * A streaming loop over plain {@code float[]} on every core that reads {@code reads} arrays and
     * writes {@code writes} arrays of {@code n} elements: the same bytes per element as a kernel
     * with that many inputs and outputs, and nothing else. Blocks of 2048 elements keep the
     * partial sums in L1, so memory sees each array once.
     */
    static Limit cpuStream(int n, int reads, int writes, int threads, double seconds) {
        float[][] in = new float[reads][n], out = new float[writes][n];
        for (float[] a : in) Arrays.fill(a, 1f);
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "nag4j-stream-probe");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Callable<Void>> slices = new ArrayList<>();
            for (int s = 0; s < threads; s++) {
                int lo = (int) ((long) n * s / threads), hi = (int) ((long) n * (s + 1) / threads);
                slices.add(() -> {
                    stream(in, out, lo, hi);
                    return null;
                });
            }
            // One thread: on the caller, so the figure carries no hand-off to a pool.
            Runnable step = threads == 1 ? () -> stream(in, out, 0, n) : () -> {
                try {
                    for (Future<Void> f : pool.invokeAll(slices)) f.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", e);
                } catch (ExecutionException e) {
                    throw new IllegalStateException(e.getCause());
                }
            };
            double s = medianSeconds(step, seconds);
            long bytes = 4L * n * (reads + writes);
            return new Limit(bytes / s, "CPU streaming loop, " + threads + " threads, " + reads + " reads + " + writes + " writes of " + n + " floats");
        } finally {
            pool.shutdownNow();
        }
    }

    private static void stream(float[][] in, float[][] out, int lo, int hi) {
        float[] o0 = out[0];
        // One pass that reads every input once into a block of o0 (one plain loop per input count,
        // which C2 vectorizes); the other outputs are copied from that block while it is in L1.
        for (int b = lo; b < hi; b += 2048) {
            int e = Math.min(hi, b + 2048);
            switch (in.length) {
                case 1 -> System.arraycopy(in[0], b, o0, b, e - b);
                case 2 -> { float[] x = in[0], y = in[1]; for (int i = b; i < e; i++) o0[i] = x[i] + y[i]; }
                case 3 -> { float[] x = in[0], y = in[1], z = in[2]; for (int i = b; i < e; i++) o0[i] = x[i] + y[i] + z[i]; }
                case 4 -> {
                    float[] x = in[0], y = in[1], z = in[2], w = in[3];
                    for (int i = b; i < e; i++) o0[i] = x[i] + y[i] + z[i] + w[i];
                }
                case 5 -> {
                    float[] x = in[0], y = in[1], z = in[2], w = in[3], v = in[4];
                    for (int i = b; i < e; i++) o0[i] = x[i] + y[i] + z[i] + w[i] + v[i];
                }
                default -> {
                    float[] x = in[0], y = in[1], z = in[2], w = in[3], v = in[4];
                    for (int i = b; i < e; i++) o0[i] = x[i] + y[i] + z[i] + w[i] + v[i];
                    for (int r = 5; r < in.length; r++) { float[] a = in[r]; for (int i = b; i < e; i++) o0[i] += a[i]; }
                }
            }
            for (int w = 1; w < out.length; w++) System.arraycopy(o0, b, out[w], b, e - b);
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
