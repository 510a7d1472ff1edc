package io.nag4j.bench.device;

import io.nag4j.bench.cpu.NagProbe;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Nag;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.CompiledKernel;
import io.nag4j.gpu.device.DeviceBuffer;
import io.nag4j.gpu.device.DeviceContext;
import io.nag4j.gpu.opencl.OpenCl;
import io.nag4j.core.bound.BoundOptimizer;
import io.nag4j.gpu.plan.Backends;
import io.nag4j.gpu.plan.DeviceOptimizer;
import io.nag4j.gpu.plan.Drivers;
import io.nag4j.gpu.plan.Profile;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The measurements behind {@code nag4j bench-device}: NAG with resident state through
 * {@link DeviceOptimizer} (as a user binds it, {@link Backends#bind}), timed step by step.
 *
 * <p>Wall time per step is taken with the profiler off (collecting event times costs host time:
 * events are created, waited on, queried and released). Device time per step (the OpenCL
 * events' own durations: the update copy-in plus the kernel) is taken in a second run of the
 * same optimizer with the profiler on. Host overhead = median wall time minus median device time.
 */
public final class DeviceBench {
    static final Nag RULE = Nag.INSTANCE;

    private DeviceBench() {}

    /** One size: wall and device times per step, and the CPU probe's time for the same step. */
    record Row(String paramSet, int tensors, long elements, int steps, double wallMedianNs, double wallP90Ns,
               double residentWallMedianNs, double residentWallP90Ns, double profiledWallMedianNs,
               double copyInMedianNs, double kernelMedianNs, double deviceMedianNs, double hostOverheadNs,
               double hostOverheadProfiledMedianNs, long kernelBytesPerStep, double kernelGBps, double stepGBps,
               double residentStepGBps, double copyInGBps, double probeNsPerStep, int probeThreads, double probeGBps,
               double probe1tNsPerStep, double probe1tGBps, double kernelVsProbe, double stepVsProbe) {}

    /**
     * The device's own memory bandwidth at {@code elements} floats: a device-to-device copy (which
     * reads and writes 4 bytes an element: 8 moved) and the NAG kernel (20 moved), each timed by
     * the driver's events and by the wall clock over back-to-back batches ended by one finish.
     */
    record Bandwidth(long elements, int batches, int perBatch, double copyEventNs, double copyWallNs, double copyGBps,
                     double copyWallGBps, double kernelEventNs, double kernelWallNs, double kernelGBps, double kernelWallGBps,
                     double kernelVsCopy, String kernelCompileLog) {}

    /** PoCL's (the driver's) own per-command latency, measured with the bare DeviceContext: no nag4j runtime on top. */
    record Floor(long elements, int reps, double finishEmptyNs, double write4kBlockingNs, double write4kThenFinishNs,
                 double launchThenFinishNs, double writeLaunchFinishNs, double launchThenFinishProfiledNs) {}


    static DeviceOptimizer bind(String backend, ParamSet params) {
        BoundOptimizer b = Backends.bind(backend, RULE, RULE.defaults(), params, null);
        if (b instanceof DeviceOptimizer d) return d;
        b.close();
        throw new IllegalArgumentException("bench-device needs a device backend (opencl[:N], cuda[:N]), got '" + backend + "'");
    }

    /** Times {@code steps} steps at {@code n} elements (after {@code warmup} untimed ones), then the probe. */
    static Row measure(String backend, long n, int warmup, double warmupSeconds, int steps, double probeSeconds) {
        try (ParamSet params = Workloads.params(Workloads.single(n)); ParamSet updates = Workloads.updates(Workloads.single(n))) {
            return measure("w[" + n + "]", backend, params, updates, warmup, warmupSeconds, steps, probeSeconds);
        }
    }

    /** The ResNet-50 ParamSet ({@link ResNet50}: 161 tensors) in one launch. */
    static Row measureResNet50(String backend, int warmup, double warmupSeconds, int steps, double probeSeconds) {
        try (ParamSet params = Workloads.params(ResNet50.shapes()); ParamSet updates = Workloads.updates(ResNet50.shapes())) {
            return measure("resnet50", backend, params, updates, warmup, warmupSeconds, steps, probeSeconds);
        }
    }

    static Row measure(String label, String backend, ParamSet params, ParamSet updates, int warmup, double warmupSeconds,
                       int steps, double probeSeconds) {
        long n = 0;
        for (int i = 0; i < params.size(); i++) n += params.get(i).size();
        long[] wall = new long[steps], resident = new long[steps], wallP = new long[steps], copyIn = new long[steps],
                kernel = new long[steps], device = new long[steps], overheadP = new long[steps];
        Hyperparams hp = RULE.defaults();
        try (DeviceOptimizer opt = bind(backend, params)) {
            // Until C2 has compiled the step path: a few thousand steps are not enough for it.
            long until = System.nanoTime() + (long) (warmupSeconds * 1e9);
            for (int i = 0; i < warmup || System.nanoTime() < until; i++) opt.step(updates, hp);
            // Wall time: profiler off.
            for (int i = 0; i < steps; i++) {
                long t0 = System.nanoTime();
                opt.step(updates, hp);
                wall[i] = System.nanoTime() - t0;
            }
            // Resident: the updates already on the device (as a training step on the same device has
            // them), so a step is one launch and one wait: nothing crosses the bus.
            DeviceBuffer onDevice = opt.allocateDeviceUpdates();
            opt.copyToDevice(updates, onDevice);
            long residentUntil = System.nanoTime() + (long) (warmupSeconds / 2 * 1e9);
            for (int i = 0; i < warmup || System.nanoTime() < residentUntil; i++) opt.step(onDevice, hp);
            for (int i = 0; i < steps; i++) {
                long t0 = System.nanoTime();
                opt.step(onDevice, hp);
                resident[i] = System.nanoTime() - t0;
            }
            // Device times: profiler on, same optimizer.
            opt.withProfiler(true);
            for (int i = 0; i < Math.max(1, warmup / 4); i++) opt.step(updates, hp);
            for (int i = 0; i < steps; i++) {
                long t0 = System.nanoTime();
                opt.step(updates, hp);
                wallP[i] = System.nanoTime() - t0;
                Profile p = opt.profile();
                copyIn[i] = p.copyInNanos();
                kernel[i] = p.kernelNanos();
                device[i] = p.copyInNanos() + p.kernelNanos();
                overheadP[i] = wallP[i] - device[i];
            }
            opt.withProfiler(false);
        }
        double wallMed = median(wall), devMed = median(device), kerMed = median(kernel), inMed = median(copyIn);
        long bytes = RULE.kernel().bytesPerElement() * n;
        int threads = Runtime.getRuntime().availableProcessors();
        double probeNs = probe((int) n, threads, probeSeconds);
        double probe1tNs = threads == 1 ? probeNs : probe((int) n, 1, probeSeconds);
        double kernelGBps = bytes / kerMed, stepGBps = bytes / wallMed, probeGBps = bytes / probeNs;
        double residentMed = median(resident);
        return new Row(label, params.size(), n, steps, wallMed, percentile(wall, 0.9), residentMed, percentile(resident, 0.9),
                median(wallP), inMed, kerMed, devMed, wallMed - devMed, median(overheadP), bytes, kernelGBps, stepGBps,
                bytes / residentMed, 4.0 * n / inMed, probeNs, threads, probeGBps, probe1tNs, bytes / probe1tNs,
                kernelGBps / probeGBps, stepGBps / probeGBps);
    }

    /** The CPU probe ({@link NagProbe}, all cores): median ns per step over batches of at least 200 µs. */
    static double probe(int n, int threads, double seconds) {
        try (NagProbe p = new NagProbe(n, threads, 0.01f, 0.9f)) {
            p.step(true);
            long warmEnd = System.nanoTime() + (long) (seconds / 3 * 1e9);
            int batch = 1;
            while (System.nanoTime() < warmEnd) {
                long t0 = System.nanoTime();
                for (int i = 0; i < batch; i++) p.step(false);
                if (System.nanoTime() - t0 < 200_000) batch *= 2;
            }
            long end = System.nanoTime() + (long) (seconds * 2 / 3 * 1e9);
            double[] perStep = new double[4096];
            int count = 0;
            do {
                long t0 = System.nanoTime();
                for (int i = 0; i < batch; i++) p.step(false);
                if (count < perStep.length) perStep[count++] = (System.nanoTime() - t0) / (double) batch;
            } while (System.nanoTime() < end || count < 3);
            if (p.checksum() == 42.4242f) System.out.print(""); // keep the work observable
            double[] d = Arrays.copyOf(perStep, count);
            Arrays.sort(d);
            return d[d.length / 2];
        }
    }

    /** See {@link Bandwidth}: {@code batches} batches of back-to-back commands, each batch at least ~2 ms of work. */
    static Bandwidth bandwidth(String backend, long n, int batches) {
        Drivers.Spec spec = Drivers.parseSpec(backend);
        Kernel k = RULE.kernel();
        long bytes = n * Float.BYTES;
        try (DeviceContext ctx = Drivers.get(spec.driver()).open(spec.index()); Arena arena = Arena.ofConfined()) {
            MemorySegment zeros = arena.allocate(Math.max(1, bytes), 64).asSlice(0, bytes); // defined values: no NaN or subnormal slow paths
            DeviceBuffer src = ctx.allocate("copy-src", bytes), dst = ctx.allocate("copy-dst", bytes);
            ctx.copyIn(src, 0, zeros, true);
            List<DeviceBuffer> bufs = kernelBuffers(ctx, k, zeros);
            CompiledKernel ck = ctx.compile(k, Mode.EXACT);
            float[] scalars = RULE.scalars(2, RULE.defaults());
            Runnable copy = () -> ctx.copy(src, 0, dst, 0, bytes);
            Runnable kernel = () -> ctx.launch(ck, n, bufs, scalars);
            // Batch size from one timed command of the slower kind, so each batch holds ~2 ms of device work.
            timeBatch(ctx, kernel, 3);
            timeBatch(ctx, copy, 3); // first uses are slow (lazy binding, first touch of the memory)
            long one = Math.max(timeBatch(ctx, kernel, 1), timeBatch(ctx, copy, 1));
            int perBatch = (int) Math.max(1, Math.min(1000, 2_000_000 / Math.max(1, one)));
            long[] copyWall = new long[batches], kernelWall = new long[batches], copyEvent = new long[batches],
                    kernelEvent = new long[batches];
            for (int pass = 0; pass < 2; pass++) { // the first pass warms clocks and caches up
                for (int b = 0; b < batches; b++) {
                    copyWall[b] = timeBatch(ctx, copy, perBatch);
                    kernelWall[b] = timeBatch(ctx, kernel, perBatch);
                }
            }
            ctx.profile(true);
            for (int b = 0; b < batches; b++) {
                timeBatch(ctx, copy, perBatch);
                copyEvent[b] = ctx.drainTimes().copyInNanos() / perBatch;
                timeBatch(ctx, kernel, perBatch);
                kernelEvent[b] = ctx.drainTimes().kernelNanos() / perBatch;
            }
            ctx.profile(false);
            double cE = median(copyEvent), cW = median(copyWall) / perBatch, kE = median(kernelEvent), kW = median(kernelWall) / perBatch;
            double copyGBps = 2.0 * bytes / cE, kernelGBps = (double) k.bytesPerElement() * n / kE;
            return new Bandwidth(n, batches, perBatch, cE, cW, copyGBps, 2.0 * bytes / cW, kE, kW, kernelGBps,
                    (double) k.bytesPerElement() * n / kW, kernelGBps / copyGBps, ck.compileLog());
        }
    }

    /** One device buffer per kernel input, each filled from {@code host} (its size). */
    private static List<DeviceBuffer> kernelBuffers(DeviceContext ctx, Kernel k, MemorySegment host) {
        List<DeviceBuffer> bufs = new java.util.ArrayList<>();
        for (String input : k.inputs()) {
            DeviceBuffer b = ctx.allocate(input, host.byteSize());
            ctx.copyIn(b, 0, host, true);
            bufs.add(b);
        }
        return bufs;
    }

    /** Wall time of {@code count} back-to-back commands and one finish. */
    private static long timeBatch(DeviceContext ctx, Runnable command, int count) {
        ctx.finish();
        long t0 = System.nanoTime();
        for (int i = 0; i < count; i++) command.run();
        ctx.finish();
        return System.nanoTime() - t0;
    }

    /** The driver's own latencies with the bare {@link DeviceContext}: what no runtime on top can remove. */
    static Floor floor(String backend, long n, int reps, double warmupSeconds) {
        Drivers.Spec spec = Drivers.parseSpec(backend);
        Kernel k = RULE.kernel();
        try (DeviceContext ctx = Drivers.get(spec.driver()).open(spec.index()); Arena arena = Arena.ofConfined()) {
            long bytes = n * Float.BYTES;
            MemorySegment host = arena.allocate(bytes, 64);
            DeviceBuffer small = ctx.allocate("4k", 4096);
            MemorySegment host4k = arena.allocate(4096, 64);
            List<DeviceBuffer> bufs = kernelBuffers(ctx, k, host);
            CompiledKernel ck = ctx.compile(k, Mode.EXACT);
            float[] scalars = RULE.scalars(2, RULE.defaults());
            long[] finish = new long[reps], write = new long[reps], writeFinish = new long[reps], launch = new long[reps],
                    all = new long[reps];
            long until = System.nanoTime() + (long) (warmupSeconds * 1e9);
            for (int pass = 0; pass < 2; pass++) { // the first pass warms the JIT and the driver up
                for (int i = 0; i < reps || pass == 0 && System.nanoTime() < until; i++) {
                    int at = i % reps;
                    long t0 = System.nanoTime();
                    ctx.finish();
                    long t1 = System.nanoTime();
                    ctx.copyIn(small, 0, host4k, true);
                    long t2 = System.nanoTime();
                    ctx.copyIn(small, 0, host4k, false);
                    ctx.finish();
                    long t3 = System.nanoTime();
                    ctx.launch(ck, n, bufs, scalars);
                    ctx.finish();
                    long t4 = System.nanoTime();
                    ctx.copyIn(bufs.get(1), 0, host, false);
                    ctx.launch(ck, n, bufs, scalars);
                    ctx.finish();
                    long t5 = System.nanoTime();
                    finish[at] = t1 - t0;
                    write[at] = t2 - t1;
                    writeFinish[at] = t3 - t2;
                    launch[at] = t4 - t3;
                    all[at] = t5 - t4;
                }
            }
            // The same launch + clFinish with an event per command, waited on, queried and released (the profiler's work).
            long[] profiled = new long[reps];
            ctx.profile(true);
            for (int pass = 0; pass < 2; pass++) {
                for (int i = 0; i < reps; i++) {
                    long t0 = System.nanoTime();
                    ctx.launch(ck, n, bufs, scalars);
                    ctx.finish();
                    profiled[i] = System.nanoTime() - t0;
                }
            }
            ctx.profile(false);
            return new Floor(n, reps, median(finish), median(write), median(writeFinish), median(launch), median(all), median(profiled));
        }
    }

    /**
     * Time to the first step of this process (run as a child with an empty or a warm program
     * cache): each phase from its own clock, and the total from the JVM's start.
     */
    static Map<String, Object> coldStart(String backend, long n) {
        long mainAt = System.nanoTime();
        long mainAtMs = ManagementFactory.getRuntimeMXBean().getUptime();
        Drivers.Spec spec = Drivers.parseSpec(backend);
        long libraryNs = -1, platformsNs = -1;
        if (spec.driver().equals("opencl")) {
            // Split the driver's start-up: binding libOpenCL, then the first clGetPlatformIDs (the ICD loader
            // reads /etc/OpenCL/vendors and initializes each platform: PoCL starts LLVM and its device threads here).
            long a = System.nanoTime();
            OpenCl cl = OpenCl.get();
            long b = System.nanoTime();
            cl.platforms();
            long c = System.nanoTime();
            libraryNs = b - a;
            platformsNs = c - b;
        }
        long t0 = System.nanoTime();
        int devices = Drivers.get(spec.driver()).devices().size();
        long t1 = System.nanoTime();
        Map<String, Object> m = new LinkedHashMap<>();
        try (ParamSet params = Workloads.params(Workloads.single(n)); ParamSet updates = Workloads.updates(Workloads.single(n))) {
            long t2 = System.nanoTime();
            try (DeviceOptimizer opt = bind(backend, params)) {
                long t3 = System.nanoTime();
                opt.step(updates, RULE.defaults());
                long t4 = System.nanoTime();
                long uptimeMs = ManagementFactory.getRuntimeMXBean().getUptime();
                // The parent's System.nanoTime() at spawn: CLOCK_MONOTONIC on Linux, the same clock in every process.
                long spawned = Long.getLong("nag4j.bench.spawnNanos", -1);
                m.put("elements", n);
                m.put("devices", devices);
                m.put("device", opt.where());
                m.put("spawnToMainNs", spawned < 0 ? -1 : mainAt - spawned);
                m.put("jvmUptimeAtMainMs", mainAtMs);
                m.put("libraryNs", libraryNs);
                m.put("platformsNs", platformsNs);
                m.put("deviceQueriesNs", t1 - t0);
                m.put("bindNs", t3 - t2);
                m.put("compileNs", opt.totalProfile().compileNanos());
                m.put("firstStepNs", t4 - t3);
                m.put("mainToFirstStepNs", t4 - mainAt);
                m.put("jvmUptimeAtFirstStepMs", uptimeMs);
                m.put("spawnToFirstStepNs", spawned < 0 ? -1 : t4 - spawned);
            }
        }
        return m;
    }

    /** The median of {@code v} (the upper middle for an even count); {@code v} is left as it was. */
    public static double median(long[] v) { return percentile(v, 0.5); }

    static double percentile(long[] v, double q) {
        long[] s = v.clone();
        Arrays.sort(s);
        return s[(int) Math.min(s.length - 1, Math.floor(q * s.length))];
    }
}
