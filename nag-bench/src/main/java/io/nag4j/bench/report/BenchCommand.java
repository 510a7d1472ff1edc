package io.nag4j.bench.report;

import io.nag4j.bench.cli.Agreement;
import io.nag4j.bench.device.Workloads;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Rules;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.DeviceInfo;
import io.nag4j.gpu.plan.Backends;
import io.nag4j.core.bound.BoundOptimizer;
import io.nag4j.gpu.plan.Drivers;
import io.nag4j.gpu.plan.NotBitExactException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code nag4j bench}: the main job. For every backend and device this machine has and every
 * optimizer: does it give the reference's bits (agreement), and how fast is a step against what
 * the machine can move (speed, as a share of a limit measured in the same run). One table, one
 * JSON, charts and one self-contained HTML page. Exit 0, or 3 when EXACT mode disagrees anywhere.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Agreement and speed of every optimizer on every backend and device here, against the machine's own limit:",
                "a table, JSON, charts and one HTML page. Exit 0, or 3 if EXACT mode disagrees with the reference anywhere."})
public final class BenchCommand implements Callable<Integer> {
    static final int DISAGREE = 3;
    static final long[] SIZES = {1_000, 10_000, 100_000, 1_000_000, 16_000_000, 64_000_000};
    static final long[] QUICK_SIZES = {1_000, 100_000, 1_000_000};
    /** The workload every non-default configuration is also timed on. */
    static final String CONFIG_WORKLOAD = "1e6";

    @Option(names = "--quick", description = "Sizes 1e3, 1e5 and 1e6, 10,000 small tensors, short timings and agreement runs: under 2 minutes on 2 cores.")
    boolean quick;

    @Option(names = "--out", defaultValue = "bench-out", paramLabel = "DIR", description = "Where the charts and report.html go. Default: bench-out.")
    Path out;

    @Option(names = "--json", paramLabel = "FILE", description = "Where the JSON goes. Default: DIR/bench.json.")
    Path json;

    @Option(names = "--backend", paramLabel = "SPEC", description = "Only this backend (repeatable). Default: every one available here.")
    List<String> backends;

    @Option(names = "--optimizer", paramLabel = "NAME", description = "Only this optimizer (repeatable). Default: every built-in one.")
    List<String> optimizers;

    @Option(names = "--seconds", paramLabel = "S", description = "Time per speed measurement. Default: 0.1 with --quick, else 0.6.")
    Double seconds;

    @Option(names = "--seed", defaultValue = "20261124", paramLabel = "S", description = "Seed of the agreement trajectories. Default: 20261124.")
    long seed;

    @Spec
    CommandSpec spec;

    private record Workload(String name, Map<String, long[]> shapes) {}

    @Override
    public Integer call() throws IOException {
        double perMeasurement = seconds != null ? seconds : quick ? 0.1 : 0.6;
        if (!(perMeasurement > 0 && perMeasurement <= 60)) throw new IllegalArgumentException("--seconds must be in (0, 60], got " + seconds);
        if (Files.exists(out) && !Files.isDirectory(out)) throw new IllegalArgumentException("--out " + out + " is a file, not a directory");
        List<Rule> rules = optimizers == null ? Rules.all() : optimizers.stream().map(Rules::byName).toList();
        Path jsonFile = json != null ? json : out.resolve("bench.json");
        PrintWriter pw = spec.commandLine().getOut();

        Map<String, Object> machine = machine();
        Report report = new Report(machine, quick);
        List<String> specs = backends != null ? List.copyOf(backends) : available(report);
        if (backends != null) for (String s : specs) Backends.resolve(s); // an unknown or unavailable one fails before anything runs
        machine.put("backends", specs);

        List<Workload> workloads = new ArrayList<>();
        for (long n : quick ? QUICK_SIZES : SIZES) workloads.add(new Workload(sizeName(n), Workloads.single(n)));
        workloads.add(new Workload("10000x100", Workloads.many(10_000, 100)));
        if (!quick) {
            workloads.add(new Workload("resnet50", Workloads.resnet50()));
            workloads.add(new Workload("bert-base", Workloads.bertBase()));
        }
        int agreeSteps = quick ? 20 : 100, agreeTensors = quick ? 31 : 101;

        int configCount = rules.stream().mapToInt(r -> Rules.configurations(r).size()).sum();
        int mixedCount = rules.size() * MIXED.size();
        long nonReference = specs.stream().filter(s -> !s.equals("reference")).count();
        int total = (int) (nonReference * configCount + (long) specs.size() * rules.size() * (workloads.size() + 1)
                + nonReference * (configCount - rules.size()) + nonReference * rules.size() * (workloads.size() + 1) + 2 * nonReference * mixedCount);
        Progress progress = new Progress(total);

        // What each configuration streams: its flags' kernel.
        Map<Rule, Map<String, Hyperparams>> configs = new LinkedHashMap<>();
        for (Rule rule : rules) {
            configs.put(rule, Rules.configurations(rule));
            for (var c : configs.get(rule).entrySet()) {
                Kernel k = rule.kernel(c.getValue());
                List<String> streamed = new ArrayList<>(k.inputs());
                report.configurations.add(new Report.Configuration(rule.name(), c.getKey(), c.getValue().asMap(), k.name(), streamed, k.bytesPerElement()));
            }
            // Mixed precision (docs/mixed-precision.md): the defaults with bf16 and f16 params on float32 master weights.
            for (var m : mixed(rule).entrySet()) {
                Kernel k = m.getValue().kernel(rule.defaults());
                report.configurations.add(new Report.Configuration(rule.name(), m.getKey(), rule.defaults().asMap(), k.name(),
                        new ArrayList<>(k.inputs()), k.bytesPerElement()));
            }
        }

        // Agreement first: it is the promise, and cheap. Every configuration, since each is its own kernel.
        Map<String, Agreement.Outcome> agreed = new HashMap<>();
        for (String s : specs) {
            if (s.equals("reference")) continue;
            for (Rule rule : rules) {
                for (var c : configs.get(rule).entrySet()) {
                    progress.next("agreement " + s + " " + rule.name() + (c.getKey().equals("defaults") ? "" : " " + c.getKey()));
                    Agreement.Outcome o = Agreement.run(s, rule, c.getValue(), Mode.EXACT, agreeSteps, agreeTensors, seed);
                    agreed.put(s + "/" + rule.name() + "/" + c.getKey(), o);
                    report.agreement.add(new Report.AgreementRecord(s, o.where(), rule.name(), c.getKey(), o.steps(), o.elements(), o.compared(),
                            o.differing(), o.identicalFraction(), o.maxUlp(), o.first()));
                }
                for (var m : mixed(rule).entrySet()) {
                    progress.next("agreement " + s + " " + rule.name() + " " + m.getKey());
                    try {
                        Agreement.Outcome o = Agreement.run(s, m.getValue(), rule.defaults(), Mode.EXACT, agreeSteps, agreeTensors, seed);
                        agreed.put(s + "/" + rule.name() + "/" + m.getKey(), o);
                        report.agreement.add(new Report.AgreementRecord(s, o.where(), rule.name(), m.getKey(), o.steps(), o.elements(), o.compared(),
                                o.differing(), o.identicalFraction(), o.maxUlp(), o.first()));
                    } catch (IllegalArgumentException e) { // the tornado JIT does not lower the narrowings
                        report.notes.add(s + " " + rule.name() + " " + m.getKey() + ": " + e.getMessage());
                    }
                }
                // FAST promises bits too: the fused kernel's, as the reference evaluator computes them.
                progress.next("agreement " + s + " " + rule.name() + " FAST");
                try {
                    Agreement.Outcome f = Agreement.run(s, rule, rule.defaults(), Mode.FAST, agreeSteps, agreeTensors, seed);
                    report.agreement.add(new Report.AgreementRecord(s, f.where(), rule.name(), Report.FAST, f.steps(), f.elements(), f.compared(),
                            f.differing(), f.identicalFraction(), f.maxUlp(), f.first()));
                } catch (NotBitExactException e) {
                    report.notes.add(s + " " + rule.name() + ": FAST refused: " + e.getMessage());
                }
            }
        }

        // Warm-up: each backend's step path and each rule's loops compiled by the JIT before anything is timed
        // (interpreted, the CPU backend's Vector API loops are a hundred times slower).
        // Both sizes: small steps run on the caller, large ones split over the worker pool.
        for (long n : new long[] {1_000, 100_000}) {
            try (ParamSet params = Workloads.params(Workloads.single(n)); ParamSet updates = Workloads.updates(Workloads.single(n))) {
                for (String s : specs) {
                    // On the host every configuration is its own generated loop to compile; a device's host path is one for all.
                    boolean host = !Backends.get(Drivers.parseSpec(s).driver()).hasDevices();
                    for (Rule rule : rules) {
                        if (n == 1_000) progress.next("warm-up " + s + " " + rule.name());
                        for (Hyperparams hp : host && !s.equals("reference") ? configs.get(rule).values() : List.of(rule.defaults())) {
                            try (BoundOptimizer opt = Backends.bind(s, rule, hp, params, null)) {
                                double warm = (quick ? 0.25 : 0.5) * (hp == rule.defaults() ? 1 : 0.6);
                                long end = System.nanoTime() + (long) (warm * 1e9);
                                while (System.nanoTime() < end) opt.step(updates);
                            }
                        }
                    }
                }
            }
        }

        Limits.warmUp(quick ? 0.5 : 1.0);

        // Speed: each workload's ParamSets made once, for every backend and optimizer; the other configurations on one
        // workload (1e6 elements), where their bytes per element decide the time.
        Map<String, Limits.Limit> limits = new HashMap<>();
        for (Workload w : workloads) {
            try (ParamSet params = Workloads.params(w.shapes()); ParamSet updates = Workloads.updates(w.shapes())) {
                for (String s : specs) {
                    for (Rule rule : rules) {
                        for (var c : configs.get(rule).entrySet()) {
                            // The reference is the oracle: its speed is shown for the defaults only.
                            if (!c.getKey().equals("defaults") && (!w.name().equals(CONFIG_WORKLOAD) || s.equals("reference"))) continue;
                            progress.next("speed " + s + " " + rule.name() + (c.getKey().equals("defaults") ? "" : " " + c.getKey()) + " " + w.name());
                            measure(s, rule, c.getKey(), c.getValue(), w, params, updates, perMeasurement, limits, agreed, report);
                            if (c.getKey().equals("defaults") && !s.equals("reference")) {
                                progress.next("speed " + s + " " + rule.name() + " FAST " + w.name());
                                measureFast(s, rule, w, params, updates, perMeasurement, report);
                            }
                        }
                        if (!w.name().equals(CONFIG_WORKLOAD) || s.equals("reference")) continue;
                        for (var m : mixed(rule).entrySet()) {
                            progress.next("speed " + s + " " + rule.name() + " " + m.getKey() + " " + w.name());
                            if (!agreed.containsKey(s + "/" + rule.name() + "/" + m.getKey())) continue; // refused (noted with the agreement)
                            // 16-bit params from the start, as a user's would be: a copy, the workload's float32 ones serve the rest
                            try (ParamSet sixteen = Agreement.roundedTo(m.getValue(), params.copy())) {
                                measure(s, m.getValue(), m.getKey(), rule.defaults(), w, sixteen, updates, perMeasurement, limits, agreed, report);
                            }
                        }
                    }
                }
            }
        }
        progress.done();
        report.notes.add("bytes per element: what a step of each optimizer configuration reads and writes (param, update and the state slots"
                + " its kernel uses in; param and those slots out); the flags (RMSprop's centered and momentum, SGD-momentum's momentum and"
                + " nesterov) choose the kernel when the optimizer is bound");
        report.notes.add("command: nag4j bench" + (quick ? " --quick" : "") + "; " + machine.get("date"));
        report.printTable(pw);
        List<Path> written = report.writeAll(out, jsonFile);
        for (Path p : written) pw.println("wrote " + p);
        pw.flush();
        return report.allAgree() ? 0 : DISAGREE;
    }

    private void measure(String s, Rule rule, String config, Hyperparams hp, Workload w, ParamSet params, ParamSet updates, double perMeasurement,
                         Map<String, Limits.Limit> limits, Map<String, Agreement.Outcome> agreed, Report report) {
        Speed.Timing t;
        String where;
        try (BoundOptimizer opt = Backends.bind(s, rule, hp, params, null)) {
            where = opt.where();
            // On the host the rule's own loop must be compiled; a device backend's host path is shared by every rule.
            boolean host = !Backends.get(Drivers.parseSpec(s).driver()).hasDevices();
            t = Speed.time(opt, updates, perMeasurement, host, quick ? 0.2 : 2.0);
        }
        Kernel kernel = rule.kernel(hp);
        Limits.Limit limit = limit(s, kernel, params.totalSize(), perMeasurement, limits, report);
        Agreement.Outcome a = agreed.get(s + "/" + rule.name() + "/" + config);
        long n = params.totalSize(), bpe = kernel.bytesPerElement();
        double bps = bpe * n / t.secondsPerStep();
        report.measurements.add(new Report.Measurement(s, where, rule.name(), config, w.name(), n, params.size(), bpe, t.secondsPerStep(),
                n / t.secondsPerStep(), bpe * n, bps, limit == null ? null : limit.bytesPerSecond(),
                limit == null ? null : bps / limit.bytesPerSecond(), limit == null ? null : limit.probe(),
                t.hostOverheadSeconds(), t.transferShare(), t.steps(), a == null ? 1.0 : a.identicalFraction(), a == null ? 0 : a.maxUlp()));
    }

    /** The mixed-precision configurations of {@code rule} every backend agrees on and times: bf16 and f16 params, each rounding. */
    static final List<String> MIXED = List.of("bf16", "f16", "bf16 stochastic", "f16 stochastic");

    static Map<String, io.nag4j.core.rule.MasterWeights> mixed(Rule rule) {
        Map<String, io.nag4j.core.rule.MasterWeights> m = new LinkedHashMap<>();
        for (String c : MIXED) {
            String precision = c.split(" ")[0];
            boolean sr = c.endsWith("stochastic");
            m.put("defaults, " + precision + " params + master" + (sr ? ", stochastic rounding" : ""),
                    new io.nag4j.core.rule.MasterWeights(rule, precision, sr ? io.nag4j.core.rule.Rounding.stochastic(1) : io.nag4j.core.rule.Rounding.NEAREST));
        }
        return m;
    }

    /** FAST's time per step beside EXACT's just measured (same backend, optimizer, workload, data). */
    private void measureFast(String s, Rule rule, Workload w, ParamSet params, ParamSet updates, double perMeasurement, Report report) {
        Report.Measurement exact = report.measurements.getLast();
        Speed.Timing t;
        try (BoundOptimizer opt = Backends.bind(s, rule, rule.defaults(), params, null, Mode.FAST)) {
            boolean host = !Backends.get(Drivers.parseSpec(s).driver()).hasDevices();
            t = Speed.time(opt, updates, perMeasurement, host, quick ? 0.2 : 2.0);
        } catch (NotBitExactException e) {
            return; // noted with the agreement
        }
        Kernel fused = Mode.FAST.kernel(rule.kernel());
        report.fastVsExact.add(new Report.FastVsExact(s, exact.device(), rule.name(), w.name(), params.totalSize(), rule.kernel().eqns().size(),
                fused.eqns().size(), exact.secondsPerStep(), t.secondsPerStep(), exact.secondsPerStep() / t.secondsPerStep()));
    }

    /** A size as the issue and the docs write it: 1e3, 1.6e7, 6.4e7; other counts as digits. */
    static String sizeName(long n) {
        int exp = (int) Math.floor(Math.log10(n));
        long unit = (long) Math.pow(10, exp - 1);
        if (n >= 10 && n % unit == 0) {
            long mantissa10 = n / unit; // 10..99: the mantissa times ten
            return (mantissa10 % 10 == 0 ? String.valueOf(mantissa10 / 10) : (mantissa10 / 10) + "." + (mantissa10 % 10)) + "e" + exp;
        }
        return Long.toString(n);
    }

    /** Every backend spec with a device here (host backends by name), noting the ones that cannot start. */
    private static List<String> available(Report report) {
        List<String> specs = new ArrayList<>();
        for (Backends.Listing l : Backends.devices()) {
            if (!l.unavailable().isEmpty()) {
                report.notes.add(l.backend().name() + ": " + l.unavailable());
            } else if (!l.backend().hasDevices()) {
                specs.add(l.backend().name());
            } else {
                for (DeviceInfo d : l.devices()) specs.add(d.spec());
            }
        }
        return specs;
    }

    /**
     * The limit a backend's figure is a share of, at the same element count (so caches favour
     * both alike): on the host, a streaming loop with the kernel's reads and writes (the better of
     * one thread and every core); on a device of a nag4j driver, its device-to-device copy; on
     * another backend's device (TornadoVM), the copy of the driver device of the same name if there
     * is one. Measured once per kind and size, cached.
     */
    private static Limits.Limit limit(String spec, Kernel k, long n, double seconds, Map<String, Limits.Limit> cache, Report report) {
        Drivers.Spec s = Drivers.parseSpec(spec);
        var backend = Backends.get(s.driver());
        if (backend != null && !backend.hasDevices()) {
            int reads = k.inputs().size(), writes = k.outputs().size(), cores = Runtime.getRuntime().availableProcessors();
            // Past 16M elements every array is far out of cache: the streaming rate no longer depends on n (and the heap stays small).
            int probeN = (int) Math.min(n, 16_000_000);
            double probeSeconds = Math.max(0.15, seconds);
            return cache.computeIfAbsent("cpu/" + probeN + "/" + reads + "/" + writes, key -> {
                Limits.Limit all = Limits.cpuStream(probeN, reads, writes, cores, probeSeconds);
                if (cores == 1) return all;
                Limits.Limit one = Limits.cpuStream(probeN, reads, writes, 1, probeSeconds);
                return one.bytesPerSecond() > all.bytesPerSecond() ? one : all;
            });
        }
        String driverSpec = Drivers.isRegistered(s.driver()) ? spec : sameDeviceOnADriver(spec);
        if (driverSpec == null) return null;
        String key = "copy/" + driverSpec + "/" + n;
        if (!cache.containsKey(key)) {
            try {
                cache.put(key, Limits.deviceCopy(driverSpec, n, seconds));
            } catch (RuntimeException e) {
                report.notes.add("no limit for " + spec + ": its device-to-device copy failed: " + e.getMessage());
                cache.put(key, null);
            }
        }
        return cache.get(key);
    }

    private static String sameDeviceOnADriver(String spec) {
        Backends.Resolved r = Backends.resolve(spec);
        for (Backends.Listing l : Backends.devices()) {
            if (!l.unavailable().isEmpty() || !Drivers.isRegistered(l.backend().name())) continue;
            for (DeviceInfo d : l.devices()) if (d.name().equals(r.info().name())) return l.backend().name() + ":" + d.index();
        }
        return null;
    }

    static Map<String, Object> machine() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("date", Instant.now().toString());
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
        m.put("cpu", cpuModel());
        m.put("cores", Runtime.getRuntime().availableProcessors());
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            m.put("memory_gib", Math.round(os.getTotalMemorySize() / (1024.0 * 1024 * 1024) * 10) / 10.0);
        }
        m.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        List<String> devices = new ArrayList<>();
        for (Backends.Listing l : Backends.devices()) {
            for (DeviceInfo d : l.devices()) devices.add(l.backend().name() + ":" + d.index() + " " + d.name() + " (" + d.vendor() + ", " + d.version() + ")");
        }
        m.put("devices", devices);
        return m;
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).strip();
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: the architecture says enough
        }
        return System.getProperty("os.arch");
    }

    /** A counter with an estimate on stderr, only when stdout is a terminal (bench and train use it). */
    public static final class Progress {
        private final int total;
        private final boolean on;
        private final long start = System.nanoTime();
        private int done = -1;

        public Progress(int total) {
            this.total = total;
            java.io.Console c = System.console();
            this.on = c != null && c.isTerminal();
        }

        public void next(String what) {
            done++;
            if (!on) return;
            double elapsed = (System.nanoTime() - start) / 1e9;
            String eta = done == 0 ? "" : String.format(Locale.ROOT, ", ~%.0f s left", elapsed / done * (total - done));
            System.err.printf(Locale.ROOT, "\r\033[K[%d/%d] %.0f s%s: %s", done + 1, total, elapsed, eta, what);
            System.err.flush();
        }

        public void done() { clear(); }

        /** Clears the progress line (before printing a line of results). */
        public void clear() {
            if (on) {
                System.err.print("\r\033[K");
                System.err.flush();
            }
        }
    }
}
