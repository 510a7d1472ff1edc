package io.nag4j.bench.device;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.gpu.plan.Backends;
import io.nag4j.core.bound.BoundOptimizer;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code bench-device --compare A,B,...}: the same NAG steps on several backends, side by side,
 * through nothing but the public {@link BoundOptimizer} (so any backend, TornadoVM's included):
 * wall time per step at each size, and the first step of a fresh process, which a child JVM
 * measures from its own start (with this JVM's options, so a tornado backend gets TornadoVM's).
 */
final class SideBySide {
    private SideBySide() {}

    /** Wall time per step of {@code backend} at {@code n} elements: median and 90th percentile of {@code steps}, after the warm-up. */
    record Row(String backend, String device, long elements, int steps, double wallMedianNs, double wallP90Ns, double gbPerSecond) {}

    static Row wall(String backend, long n, double warmupSeconds, int steps) {
        Hyperparams hp = DeviceBench.RULE.defaults();
        long[] wall = new long[steps];
        try (ParamSet params = Workloads.params(Workloads.single(n)); ParamSet updates = Workloads.updates(Workloads.single(n));
             BoundOptimizer opt = Backends.bind(backend, DeviceBench.RULE, hp, params, null)) {
            long until = System.nanoTime() + (long) (warmupSeconds * 1e9);
            for (int i = 0; i < 10 || System.nanoTime() < until; i++) opt.step(updates, hp);
            for (int i = 0; i < steps; i++) {
                long t0 = System.nanoTime();
                opt.step(updates, hp);
                wall[i] = System.nanoTime() - t0;
            }
            double med = DeviceBench.median(wall);
            return new Row(backend, opt.where(), n, steps, med, DeviceBench.percentile(wall, 0.9),
                    DeviceBench.RULE.kernel().bytesPerElement() * n / med);
        }
    }

    /** In the child: from this JVM's start to the end of its first step, and the bind and step within it. */
    static Map<String, Object> firstStep(String backend, long n) {
        long mainAtMs = ManagementFactory.getRuntimeMXBean().getUptime();
        Map<String, Object> m = new LinkedHashMap<>();
        try (ParamSet params = Workloads.params(Workloads.single(n)); ParamSet updates = Workloads.updates(Workloads.single(n))) {
            long t0 = System.nanoTime();
            try (BoundOptimizer opt = Backends.bind(backend, DeviceBench.RULE, DeviceBench.RULE.defaults(), params, null)) {
                long t1 = System.nanoTime();
                opt.step(updates);
                long t2 = System.nanoTime();
                m.put("backend", backend);
                m.put("device", opt.where());
                m.put("elements", n);
                m.put("jvmUptimeAtMainMs", mainAtMs);
                m.put("bindNs", t1 - t0);
                m.put("firstStepNs", t2 - t1);
                m.put("jvmUptimeAtFirstStepMs", ManagementFactory.getRuntimeMXBean().getUptime());
            }
        }
        return m;
    }

    /** A child JVM running {@code bench-device --first-step}; its JSON, with the parent's wall time from spawn to exit. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> spawnFirstStep(String backend, long n) throws IOException, InterruptedException {
        Path result = Files.createTempFile("nag4j-first-step", ".json");
        try {
            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
                if (!a.startsWith("-agentlib") && !a.startsWith("-javaagent")) cmd.add(a);
            }
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.nag4j.bench.cli.Main", "bench-device", "--first-step",
                    "--backend", backend, "--sizes", Long.toString(n), "--json", result.toString()));
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("first-step child on " + backend + " did not finish in 300 s");
            }
            long wall = System.nanoTime() - t0;
            if (p.exitValue() != 0) throw new IllegalStateException("first-step child on " + backend + " failed (exit " + p.exitValue() + "): " + output.strip());
            Map<String, Object> m = new ObjectMapper().readValue(result.toFile(), LinkedHashMap.class);
            m.put("spawnToExitNs", wall);
            return m;
        } finally {
            Files.deleteIfExists(result);
        }
    }

    /** Every backend at every size, then each backend's first step in a fresh process; printed and returned for the JSON report. */
    static Map<String, Object> run(List<String> backends, long[] sizes, double warmupSeconds, int steps, int bigSteps, boolean firstStep)
            throws IOException, InterruptedException {
        List<Row> rows = new ArrayList<>();
        System.out.println("# NAG through BoundOptimizer (the public API), one tensor, wall time per step in µs (updates sent from the host each step)");
        System.out.printf(java.util.Locale.ROOT, "%-22s %10s %6s %10s %10s %9s  %s%n", "backend", "elements", "steps", "wall-med", "wall-p90", "GB/s", "device");
        for (long n : sizes) {
            for (String b : backends) {
                Row r = wall(b, n, warmupSeconds, n <= 64 * 1024 ? steps : bigSteps);
                rows.add(r);
                System.out.printf(java.util.Locale.ROOT, "%-22s %10d %6d %10.1f %10.1f %9.2f  %s%n", b, n, r.steps(), r.wallMedianNs() / 1e3,
                        r.wallP90Ns() / 1e3, r.gbPerSecond(), r.device());
            }
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("rows", rows);
        if (firstStep) {
            List<Map<String, Object>> first = new ArrayList<>();
            long n = Arrays.stream(sizes).min().orElse(1024);
            for (String b : backends) {
                Map<String, Object> m = spawnFirstStep(b, n);
                first.add(m);
                System.out.printf(java.util.Locale.ROOT, "# first step of a fresh process, %s at %d elements: %d ms from JVM start (main at %d ms, bind %.0f ms, step %.1f ms);"
                                + " spawn to exit %.0f ms%n", b, n, ((Number) m.get("jvmUptimeAtFirstStepMs")).longValue(),
                        ((Number) m.get("jvmUptimeAtMainMs")).longValue(), ((Number) m.get("bindNs")).doubleValue() / 1e6,
                        ((Number) m.get("firstStepNs")).doubleValue() / 1e6, ((Number) m.get("spawnToExitNs")).doubleValue() / 1e6);
            }
            doc.put("firstStep", first);
        }
        return doc;
    }
}
