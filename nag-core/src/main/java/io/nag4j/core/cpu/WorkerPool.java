package io.nag4j.core.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed set of daemon threads that help the calling thread work through the units of one job
 * at a time. Handing over a job allocates nothing: the caller publishes the job and a count of
 * unclaimed units; every participant (caller included) claims units by decrementing that count
 * until it reaches zero. Idle workers spin briefly (a step that follows soon is picked up within
 * a microsecond) and then park until the next job wakes them.
 *
 * <p>One job at a time: {@link #tryRun} refuses (returns false) while another caller's job runs,
 * and that caller then works alone rather than wait.
 */
final class WorkerPool implements AutoCloseable {
    /** What the participants run: unit {@code u} of the current job, on participant {@code p} (0: the caller, 1..: workers). */
    interface Job {
        void runUnit(int u, int p, float[] scalars);
    }

    /** How long an idle worker spins before it parks, in nanoseconds. */
    private static final long SPIN_NANOS = 50_000;

    private final Worker[] workers;
    /** Units not yet claimed; participants decrement it to claim unit {@code remaining - 1}. */
    private final AtomicInteger remaining = new AtomicInteger();
    /** Units not yet finished; the caller waits for zero. */
    private final AtomicInteger unfinished = new AtomicInteger();
    private final java.util.concurrent.atomic.AtomicBoolean busy = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile Job job;
    private volatile float[] scalars;
    private volatile Throwable failure;
    private volatile boolean closed;

    WorkerPool(int workerCount, String name) {
        workers = new Worker[workerCount];
        for (int i = 0; i < workerCount; i++) {
            workers[i] = new Worker(name + "-" + i, i + 1);
            workers[i].start();
        }
    }

    /** Number of threads besides the caller. */
    int workerCount() { return workers.length; }

    /**
     * Runs units {@code 0 .. units-1} of {@code j} on the caller and the workers and returns true
     * when all are done; returns false at once, running nothing, if another caller's job holds the pool.
     */
    boolean tryRun(Job j, int units, float[] scalars) {
        if (closed) throw new IllegalStateException("the CPU backend's worker pool is closed");
        if (!busy.compareAndSet(false, true)) return false;
        try {
            run(j, units, scalars);
        } finally {
            busy.set(false);
        }
        return true;
    }

    private void run(Job j, int units, float[] scalars) {
        if (units <= 0) return;
        failure = null;
        this.scalars = scalars;
        job = j;
        unfinished.set(units);
        remaining.set(units); // publishes the job: a participant reads it only after a successful claim
        for (Worker w : workers) if (w.parked) LockSupport.unpark(w);
        work(0);
        int spins = 0;
        while (unfinished.get() != 0) {
            if ((++spins & 1023) == 0) Thread.yield(); else Thread.onSpinWait();
        }
        job = null;
        this.scalars = null;
        Throwable f = failure;
        if (f != null) {
            failure = null;
            if (f instanceof RuntimeException re) throw re;
            if (f instanceof Error er) throw er;
            throw new IllegalStateException(f);
        }
    }

    /** Claims and runs units until none is left. Returns whether it ran any. */
    private boolean work(int participant) {
        boolean any = false;
        for (int r; (r = remaining.get()) > 0; ) {
            if (!remaining.compareAndSet(r, r - 1)) continue;
            // The job cannot change before this unit is finished, so reading it now is safe.
            try {
                job.runUnit(r - 1, participant, scalars);
            } catch (Throwable t) {
                failure = t;
            } finally {
                unfinished.decrementAndGet();
            }
            any = true;
        }
        return any;
    }

    @Override
    public void close() {
        closed = true;
        for (Worker w : workers) LockSupport.unpark(w);
    }

    private final class Worker extends Thread {
        volatile boolean parked;
        private final int participant;

        Worker(String name, int participant) {
            super(name);
            this.participant = participant;
            setDaemon(true);
        }

        @Override
        public void run() {
            long idleSince = System.nanoTime();
            while (!closed) {
                if (work(participant)) {
                    idleSince = System.nanoTime();
                } else if (System.nanoTime() - idleSince < SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    parked = true;
                    // Re-check after announcing: either the caller sees parked, or we see its units.
                    if (remaining.get() == 0 && !closed) LockSupport.park(this);
                    parked = false;
                    idleSince = System.nanoTime();
                }
            }
        }
    }
}
