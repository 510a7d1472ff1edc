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
        doc.put("kernel", "nag");
        doc.put("bytesPerElement", DeviceBench.RULE.kernel().bytesPerElement());
        doc.put("processors", Runtime.getRuntime().availableProcessors());
        doc.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version"));
        System.out.println("# NAG, resident state, DeviceOptimizer on " + backend + "; wall time with the profiler off, device"
                + " times (OpenCL events: update copy-in + kernel) from a second run with it on; times in µs");
        System.out.println(String.format(Locale.ROOT, "%10s %6s %10s %10s %10s %10s %10s %10s %9s %9s %9s %9s %9s",
                "elements", "steps", "wall-med", "wall-p90", "copy-in", "kernel", "overhead", "ovh-prof", "kern-GB/s",
                "step-GB/s", "probe-GB/s", "probe1t-GB/s", "kern/probe"));
        List<DeviceBench.Row> rows = new ArrayList<>();
        String device = null;
        for (long size : n) {
            int s = size <= SMALL ? steps : bigSteps;
            DeviceBench.Row r = DeviceBench.measure(backend, size, Math.max(10, s / 3), warmupSeconds, s, probeSeconds);
            rows.add(r);
            System.out.println(String.format(Locale.ROOT, "%10d %6d %10.1f %10.1f %10.1f %10.1f %10.1f %10.1f %9.2f %9.2f %9.2f %9.2f %9.2f",
                    r.elements(), r.steps(), r.wallMedianNs() / 1e3, r.wallP90Ns() / 1e3, r.copyInMedianNs() / 1e3,
                    r.kernelMedianNs() / 1e3, r.hostOverheadNs() / 1e3, r.hostOverheadProfiledMedianNs() / 1e3,
                    r.kernelGBps(), r.stepGBps(), r.probeGBps(), r.probe1tGBps(), r.kernelVsProbe()));
            System.out.flush();
        }
        doc.put("rows", rows);

        long floorN = n[0] <= SMALL ? n[0] : 1024;
        DeviceBench.Floor f = DeviceBench.floor(backend, floorN, Math.max(3, Math.min(steps, 3000)), warmupSeconds);
        doc.put("floor", f);
        System.out.println(String.format(Locale.ROOT, "# driver floor (bare DeviceContext, no nag4j runtime, n=%d, µs median): clFinish on an empty queue %.1f;"
                        + " 4 KiB blocking write %.1f; 4 KiB write + clFinish %.1f; launch + clFinish %.1f; write + launch + clFinish %.1f; launch + clFinish with events (profiling) %.1f",
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
