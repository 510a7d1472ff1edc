package io.nag4j.bench.device;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.nag4j.bench.cpu.CpuBench;
import io.nag4j.gpu.plan.Drivers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code nag4j bench-device}: NAG with resident state on a device through {@code DeviceOptimizer}:
 * per-step wall time and host overhead, bytes per second against the CPU probe, the driver's own
 * per-command latency, and the time to the first step of a fresh process with an empty and with a
 * warm on-disk program cache (two child processes).
 */
@Command(name = "bench-device", mixinStandardHelpOptions = true,
        description = "Time NAG steps on a device (resident state, DeviceOptimizer): wall time and host overhead per step, "
                + "GB/s against the CPU probe, the driver's own latencies, and time to first step of a cold and a cached process.")
public final class DeviceBenchCommand implements Callable<Integer> {
    @Option(names = "--backend", description = "Device spec (opencl[:N], cuda[:N]). Default: ${DEFAULT-VALUE}.", defaultValue = "opencl:0")
    String backend;

    @Option(names = "--sizes", description = "Comma-separated element counts (1024, 1M = 2^20, 1e6). Default: ${DEFAULT-VALUE}.",
            defaultValue = "1024,1M,16M")
    String sizes;

    @Option(names = "--steps", description = "Timed steps at sizes up to 64k elements (larger sizes: --big-steps). Default: ${DEFAULT-VALUE}.",
            defaultValue = "3000")
    int steps;

    @Option(names = "--big-steps", description = "Timed steps at sizes over 64k elements. Default: ${DEFAULT-VALUE}.", defaultValue = "30")
    int bigSteps;

    @Option(names = "--warmup-seconds", description = "Untimed steps for at least this long first (the JIT compiles the step path). Default: ${DEFAULT-VALUE}.",
            defaultValue = "2")
    double warmupSeconds;

    @Option(names = "--probe-seconds", description = "Seconds the CPU probe runs per size. Default: ${DEFAULT-VALUE}.", defaultValue = "1")
    double probeSeconds;

    @Option(names = "--no-cold-start", negatable = false, description = "Skip the two child processes that time the first step.")
    boolean noColdStart;

    @Option(names = "--cold-start", description = "Only time this process's first step (what each child process runs) and exit.")
    boolean coldStartOnly;

    @Option(names = "--resnet50", description = "Also time ResNet-50's 161 parameter tensors (25,557,032 floats) packed into one launch.")
    boolean resnet50;

    @Option(names = "--bandwidth-elements", description = "Elements for the device's own bandwidth (device-to-device copy, bare NAG kernel); "
            + "0 skips it. Default: the largest working set of the run (--sizes, and ResNet-50's with --resnet50).", defaultValue = "-1")
    long bandwidthElements;

    @Option(names = "--compare", split = ",", paramLabel = "SPEC", description = {"Instead: the same NAG steps on each of these backends side by side",
            "(any backend, e.g. opencl:0,tornado-prebuilt,tornado): wall time per step at each size through the public",
            "BoundOptimizer, and the first step of a fresh process for each."})
    List<String> compare;

    @Option(names = "--first-step", description = "Only time this process's first step on --backend (any backend: what each --compare child runs) and exit.")
    boolean firstStepOnly;

    @Option(names = "--json", description = "Also write the results as JSON to this file.")
    File json;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final long SMALL = 64 * 1024;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (steps < 3 || bigSteps < 3) throw new IllegalArgumentException("--steps and --big-steps must be at least 3");
        if (!(warmupSeconds >= 0)) throw new IllegalArgumentException("--warmup-seconds must be >= 0, got " + warmupSeconds);
        if (!(probeSeconds > 0)) throw new IllegalArgumentException("--probe-seconds must be positive, got " + probeSeconds);
        long[] n = CpuBench.parseSizes(sizes);
        if (firstStepOnly || compare != null) {
            Map<String, Object> m = firstStepOnly ? SideBySide.firstStep(backend, n[0])
                    : SideBySide.run(compare, n, warmupSeconds, steps, bigSteps, !noColdStart);
            if (firstStepOnly) System.out.println(new ObjectMapper().writeValueAsString(m));
            if (json != null) JSON.writeValue(json, m);
            return 0;
        }
        if (!Drivers.isRegistered(Drivers.parseSpec(backend).driver())) {
            throw new IllegalArgumentException("bench-device needs a device backend (" + String.join(", ", Drivers.names())
                    + ", with :N), got '" + backend + "'");
        }
        if (coldStartOnly) {
            Map<String, Object> m = DeviceBench.coldStart(backend, n[0]);
            String line = new ObjectMapper().writeValueAsString(m);
            System.out.println(line);
            if (json != null) JSON.writeValue(json, m);
            return 0;
        }

        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("benchmark", "bench-device");
        doc.put("backend", backend);
        Drivers.Spec spec = Drivers.parseSpec(backend);
        var devices = Drivers.get(spec.driver()).devices();
        if (spec.index() >= devices.size()) {
            throw new IllegalArgumentException("no device " + backend + ": " + spec.driver() + " has " + devices.size() + " device(s)");
        }
        doc.put("device", devices.get(spec.index()));
        doc.put("kernel", "nag");
        doc.put("bytesPerElement", DeviceBench.RULE.kernel().bytesPerElement());
        doc.put("processors", Runtime.getRuntime().availableProcessors());
        doc.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version"));
        System.out.println("# NAG, resident state, DeviceOptimizer on " + backend + " (" + devices.get(spec.index()).name() + "); wall time with the profiler off, device"
                + " times (driver events: update copy-in + kernel) from a second run with it on; times in µs");
        System.out.println("# resident: the updates already on the device (step(DeviceBuffer)): one launch and one wait per step");
        System.out.println(String.format(Locale.ROOT, "%10s %10s %6s %10s %10s %10s %10s %10s %10s %10s %9s %9s %9s %9s %9s",
                "params", "elements", "steps", "wall-med", "wall-p90", "resident", "copy-in", "kernel", "overhead", "ovh-prof",
                "kern-GB/s", "step-GB/s", "probe-GB/s", "probe1t-GB/s", "kern/probe"));
        List<DeviceBench.Row> rows = new ArrayList<>();
        for (long size : n) {
            int s = size <= SMALL ? steps : bigSteps;
            print(DeviceBench.measure(backend, size, Math.max(10, s / 3), warmupSeconds, s, probeSeconds), rows);
        }
        if (resnet50) print(DeviceBench.measureResNet50(backend, Math.max(10, bigSteps / 3), warmupSeconds, bigSteps, probeSeconds), rows);
        doc.put("rows", rows);

        // The yardstick at the largest working set of the run: small sizes would measure caches, not memory.
        long bwN = bandwidthElements >= 0 ? bandwidthElements
                : Math.max(Arrays.stream(n).max().orElse(0), resnet50 ? ResNet50.elements() : 0);
        DeviceBench.Bandwidth bw = null;
        if (bwN > 0) {
            bw = DeviceBench.bandwidth(backend, bwN, 10);
            doc.put("bandwidth", bw);
            System.out.println(String.format(Locale.ROOT, "# device bandwidth at %d elements (driver events; wall clock over batches of %d):"
                            + " device-to-device copy %.1f GB/s (%.1f), bare NAG kernel %.1f GB/s (%.1f): kernel/copy %.3f",
                    bw.elements(), bw.perBatch(), bw.copyGBps(), bw.copyWallGBps(), bw.kernelGBps(), bw.kernelWallGBps(), bw.kernelVsCopy()));
        }
        Map<String, Object> targets = targets(rows, bw);
        doc.put("targets", targets);
        for (var e : targets.entrySet()) System.out.println("# target " + e.getKey() + ": " + e.getValue());

        long floorN = n[0] <= SMALL ? n[0] : 1024;
        DeviceBench.Floor f = DeviceBench.floor(backend, floorN, Math.max(3, Math.min(steps, 3000)), warmupSeconds);
        doc.put("floor", f);
        System.out.println(String.format(Locale.ROOT, "# driver floor (bare DeviceContext, no nag4j runtime, n=%d, µs median): finish on an empty queue %.1f;"
                        + " 4 KiB blocking write %.1f; 4 KiB write + finish %.1f; launch + finish %.1f; write + launch + finish %.1f; launch + finish with events (profiling) %.1f",
                f.elements(), f.finishEmptyNs() / 1e3, f.write4kBlockingNs() / 1e3, f.write4kThenFinishNs() / 1e3,
                f.launchThenFinishNs() / 1e3, f.writeLaunchFinishNs() / 1e3, f.launchThenFinishProfiledNs() / 1e3));

        if (!noColdStart) {
            Map<String, Object> cold = coldStarts(floorN);
            doc.put("coldStart", cold);
        }
        if (json != null) {
            JSON.writeValue(json, doc);
            System.out.println("# wrote " + json);
        }
        return 0;
    }

    private static void print(DeviceBench.Row r, List<DeviceBench.Row> rows) {
        rows.add(r);
        System.out.println(String.format(Locale.ROOT, "%10s %10d %6d %10.1f %10.1f %10.1f %10.1f %10.1f %10.1f %10.1f %9.2f %9.2f %9.2f %9.2f %9.2f",
                r.paramSet().startsWith("w[") ? r.tensors() + "x" : r.paramSet(), r.elements(), r.steps(), r.wallMedianNs() / 1e3,
                r.wallP90Ns() / 1e3, r.residentWallMedianNs() / 1e3, r.copyInMedianNs() / 1e3, r.kernelMedianNs() / 1e3,
                r.hostOverheadNs() / 1e3, r.hostOverheadProfiledMedianNs() / 1e3, r.kernelGBps(), r.stepGBps(), r.probeGBps(),
                r.probe1tGBps(), r.kernelVsProbe()));
        System.out.flush();
    }

    /**
     * Issue 5's speed targets, each with the measured figure, the target and whether it is met
     * (or why it cannot be judged from this run): NAG at 64M elements (kernel, resident state) at
     * 90% of the device-to-device copy bandwidth, a resident step at 1024 elements within 10 µs,
     * ResNet-50's ParamSet in one launch at 85%.
     */
    static Map<String, Object> targets(List<DeviceBench.Row> rows, DeviceBench.Bandwidth bw) {
        Map<String, Object> t = new LinkedHashMap<>();
        DeviceBench.Row big = rows.stream().filter(r -> r.paramSet().startsWith("w[") && r.elements() == 64L << 20).findFirst().orElse(null);
        DeviceBench.Row small = rows.stream().filter(r -> r.paramSet().startsWith("w[") && r.elements() == 1024).findFirst().orElse(null);
        DeviceBench.Row resnet = rows.stream().filter(r -> r.paramSet().equals("resnet50")).findFirst().orElse(null);
        t.put("nag64M", big == null || bw == null ? "not measured (needs --sizes with 64M and the bandwidth run)"
                : judge(big.kernelGBps() / bw.copyGBps(), 0.90, true, "kernel %.1f GB/s / copy %.1f GB/s".formatted(big.kernelGBps(), bw.copyGBps())));
        t.put("step1024", small == null ? "not measured (needs --sizes with 1024)"
                : judge(small.residentWallMedianNs() / 1e3, 10, false, "µs per resident step (launch + wait); with the update sent from the host %.1f µs"
                        .formatted(small.wallMedianNs() / 1e3)));
        t.put("resnet50", resnet == null || bw == null ? "not measured (needs --resnet50 and the bandwidth run)"
                : judge(resnet.kernelGBps() / bw.copyGBps(), 0.85, true, "kernel %.1f GB/s / copy %.1f GB/s, %d tensors in one launch"
                        .formatted(resnet.kernelGBps(), bw.copyGBps(), resnet.tensors())));
        return t;
    }

    private static String judge(double value, double target, boolean atLeast, String what) {
        boolean met = atLeast ? value >= target : value <= target;
        return String.format(Locale.ROOT, "%.3f (%s %s) %s: %s", value, atLeast ? ">=" : "<=", target, met ? "MET" : "MISSED", what);
    }

    /** Runs {@code bench-device --cold-start} as a child twice with one fresh cache directory: empty, then warm. */
    private Map<String, Object> coldStarts(long n) throws IOException, InterruptedException {
        Path cache = Files.createTempDirectory("nag4j-bench-cache");
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("cacheDir", cache.toString());
        try {
            for (String which : List.of("emptyCache", "warmCache")) {
                Path result = Files.createTempFile("nag4j-cold", ".json");
                try {
                    List<String> cmd = new ArrayList<>();
                    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
                    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
                        // The JVM options of this process, but our own cache directory and no debugger agent.
                        if (!a.startsWith("-Dnag4j.cache.dir=") && !a.startsWith("-agentlib") && !a.startsWith("-javaagent")) cmd.add(a);
                    }
                    cmd.add("-Dnag4j.cache.dir=" + cache);
                    cmd.add("-cp");
                    cmd.add(System.getProperty("java.class.path"));
                    cmd.addAll(List.of("io.nag4j.bench.cli.Main", "bench-device", "--cold-start", "--backend", backend,
                            "--sizes", Long.toString(n), "--json", result.toString()));
                    long t0 = System.nanoTime();
                    cmd.add(cmd.indexOf("-cp"), "-Dnag4j.bench.spawnNanos=" + t0);
                    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
                    String output = new String(p.getInputStream().readAllBytes());
                    if (!p.waitFor(120, TimeUnit.SECONDS)) {
                        p.destroyForcibly();
                        throw new IllegalStateException("cold-start child did not finish in 120 s");
                    }
                    long wallNs = System.nanoTime() - t0;
                    if (p.exitValue() != 0) throw new IllegalStateException("cold-start child failed (exit " + p.exitValue() + "): " + output.strip());
                    JsonNode r = new ObjectMapper().readTree(result.toFile());
                    Map<String, Object> m = new ObjectMapper().convertValue(r, LinkedHashMap.class);
                    m.put("childWallNs", wallNs);
                    out.put(which, m);
                    System.out.println(String.format(Locale.ROOT, "# first step, %s: spawn -> end of first step %.0f ms = spawn -> main %.0f ms"
                                    + " + libOpenCL %.1f ms + clGetPlatformIDs %.1f ms + device queries %.1f ms + bind %.1f ms (compile %.1f ms)"
                                    + " + first step %.2f ms + rest %.1f ms; JVM uptime at first step %d ms",
                            which, r.get("spawnToFirstStepNs").asLong() / 1e6, r.get("spawnToMainNs").asLong() / 1e6,
                            r.get("libraryNs").asLong() / 1e6, r.get("platformsNs").asLong() / 1e6, r.get("deviceQueriesNs").asLong() / 1e6,
                            r.get("bindNs").asLong() / 1e6, r.get("compileNs").asLong() / 1e6, r.get("firstStepNs").asLong() / 1e6,
                            (r.get("mainToFirstStepNs").asLong() - Math.max(0, r.get("libraryNs").asLong()) - Math.max(0, r.get("platformsNs").asLong())
                                    - r.get("deviceQueriesNs").asLong() - r.get("bindNs").asLong() - r.get("firstStepNs").asLong()) / 1e6,
                            r.get("jvmUptimeAtFirstStepMs").asLong()));
                } finally {
                    Files.deleteIfExists(result);
                }
            }
        } finally {
            try (var files = Files.walk(cache)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
        return out;
    }
}
