package io.nag4j.bench.cpu;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The probe the CPU backend is measured against: NAG's update written by hand as a plain Java
 * loop over {@code float[]} (3 reads and 2 writes per element, the kernel's own traffic), run on
 * the calling thread or split in equal contiguous slices over a fixed set of threads.
 *
 * <p>The helper threads spin on a volatile counter between steps (they never park; they only
 * yield now and then), so a multi-threaded step pays the least handoff the JVM allows: an upper
 * bound for a backend that must also be polite to other work. Close it to stop them.
 */
public final class NagProbe implements AutoCloseable {
    private final float[] param, update, phi;
    private final float eta, mu;
    private final Thread[] helpers;
    private final AtomicInteger unfinished = new AtomicInteger();
    private volatile long generation;
    private volatile float mask;
    private volatile boolean closed;

    /** Arrays of {@code n} elements; {@code threads} slices (1: no helper threads). */
    public NagProbe(int n, int threads, float eta, float mu) {
        param = new float[n];
        update = new float[n];
        phi = new float[n];
        for (int i = 0; i < n; i++) {
            param[i] = 1f + (i % 1000) * 1e-3f;
            update[i] = ((i * 7919) % 2001 - 1000) * 1e-6f;
        }
        this.eta = eta;
        this.mu = mu;
        helpers = new Thread[threads - 1];
        for (int h = 0; h < helpers.length; h++) {
            int slice = h + 1;
            helpers[h] = new Thread(() -> helperLoop(slice), "nag-probe-" + slice);
            helpers[h].setDaemon(true);
            helpers[h].start();
        }
    }

    public int threads() { return helpers.length + 1; }

    /** One NAG step over all elements; {@code first} is the seed's step-1 mask (mu_eff = 0). */
    public void step(boolean first) {
        mask = first ? 0f : 1f;
        if (helpers.length == 0) {
            run(0, param.length);
            return;
        }
        unfinished.set(helpers.length);
        generation++;
        runSlice(0);
        for (int spins = 1; unfinished.get() != 0; spins++) pause(spins);
    }

    private void helperLoop(int slice) {
        long seen = 0;
        int idle = 0;
        while (!closed) {
            long g = generation;
            if (g == seen) {
                pause(++idle);
                continue;
            }
            idle = 0;
            seen = g;
            runSlice(slice);
            unfinished.decrementAndGet();
        }
    }

    /** Spin, but give the core away now and then: on a busy machine a pure spin starves the thread it waits for. */
    private static void pause(int spins) {
        if ((spins & 1023) == 0) Thread.yield(); else Thread.onSpinWait();
    }

    private void runSlice(int slice) {
        int n = param.length, t = threads();
        long from = (long) n * slice / t, to = (long) n * (slice + 1) / t;
        run((int) from, (int) to);
    }

    /** NAG exactly as the rule traces it: mu_eff = mu*mask; phi' = param - update*eta; param' = phi' + (phi' - phi)*mu_eff. */
    private void run(int from, int to) {
        float[] p = param, u = update, f = phi;
        float muEff = mu * mask, e = eta;
        for (int i = from; i < to; i++) {
            float ph = p[i] - u[i] * e;
            p[i] = ph + (ph - f[i]) * muEff;
            f[i] = ph;
        }
    }

    /** A checksum of the params, so the JIT cannot drop the work. */
    public float checksum() {
        float s = 0;
        for (int i = 0; i < param.length; i += 4096) s += param[i];
        return s;
    }

    @Override
    public void close() {
        closed = true;
    }
}
