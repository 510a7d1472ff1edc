package io.nag4j.bench.train;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.nag4j.bench.cli.Agreement;
import io.nag4j.core.io.AtomicFiles;
import io.nag4j.core.optim.Mode;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Rules;
import io.nag4j.djl.Nag4jOptimizer;
import io.nag4j.djl.ReferenceShadow;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * {@code nag4j djl-compare}: DJL's own optimizers on its PyTorch engine ({@code Optimizer.sgd()}
 * with momentum 0.9, {@code Optimizer.adam()}) beside {@link Nag4jOptimizer} with the matching
 * nag4j rules ({@code momentum}, {@code adam}), on the same model, initial weights and data: time
 * per {@code Trainer.step()} and how far each one's weights are from nag4j's reference, in ULP,
 * after the first step (same weights and gradients in: the optimizer's arithmetic alone) and after
 * the last (the trajectories). Each Nag4jOptimizer run is also checked against the reference on
 * its own gradients every step.
 */
@Command(name = "djl-compare", mixinStandardHelpOptions = true,
        description = {"DJL's own optimizers (sgd with momentum, adam) against Nag4jOptimizer (momentum, adam) in a DJL training",
                "loop on PyTorch: time per Trainer.step() and distance (ULP) from nag4j's reference, small and large MLPs."})
public final class DjlCompareCommand implements Callable<Integer> {
    @Option(names = "--steps", defaultValue = "30", paramLabel = "N", description = "Training steps per run. Default: 30.")
    int steps;

    @Option(names = "--batch", defaultValue = "32", paramLabel = "B", description = "Samples per step. Default: 32.")
    int batch;

    @Option(names = "--sizes", defaultValue = "small,large", split = ",", paramLabel = "LIST",
            description = "small (16-32-4 MLP, 676 params), large (1024-2048-512 MLP, 3.1M params). Default: both.")
    List<String> sizes;

    @Option(names = "--backends", defaultValue = "cpu,opencl:0", split = ",", paramLabel = "LIST",
            description = "Backends of Nag4jOptimizer (one that cannot start here is left out, saying why). Default: cpu,opencl:0.")
    List<String> backends;

    @Option(names = "--seed", defaultValue = "1", paramLabel = "S", description = "Seed of weights and data. Default: 1.")
    long seed;

    @Option(names = "--json", paramLabel = "FILE", description = "Every figure as JSON.")
    Path json;

    @Spec
    CommandSpec spec;

    /** One row: an optimizer on one model. */
    record Row(String size, long params, String optimizer, String where, double stepMicros, Distance afterFirstStep, Distance afterLastStep,
               String referenceCheck) {}

    record Size(String name, int features, int hidden, int classes) {
        long params() { return (long) hidden * features + hidden + (long) classes * hidden + classes; }
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        if (steps < 2) throw new IllegalArgumentException("--steps must be at least 2, got " + steps);
        if (batch < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
        String engine = DjlTraining.engineVersion();
        List<String> usable = new ArrayList<>();
        for (String b : backends) {
            try {
                io.nag4j.gpu.plan.Backends.resolve(b.strip());
                usable.add(b.strip());
            } catch (RuntimeException e) {
                out.println("  (" + b.strip() + " left out: " + e.getMessage() + ")");
            }
        }
        // The JIT first: nag4j's side of a step is Java (DJL's is mostly native), so each configuration
        // trains the small model once before anything is timed.
        Size warm = new Size("warm-up", 16, 32, 4);
        for (String ruleName : List.of("momentum", "adam")) {
            for (String b : usable) {
                for (Nag4jOptimizer.Launches l : Nag4jOptimizer.Launches.values()) {
                    for (Mode mode : Mode.values()) {
                        try (Nag4jOptimizer opt = Nag4jOptimizer.builder().optRule(ruleName).optBackend(b).optLaunches(l).optMode(mode).build()) {
                            train(warm, opt, null, null, 200);
                        }
                    }
                }
            }
        }
        List<Row> rows = new ArrayList<>();
        out.printf(Locale.ROOT, "DJL's optimizers on %s against Nag4jOptimizer; %d steps of %d samples; ULP = distance from nag4j's reference%n", engine, steps, batch);
        out.printf(Locale.ROOT, "%-6s %-24s %-24s %14s  %-34s %-28s %s%n", "model", "optimizer", "where", "Trainer.step()", "after step 1, vs nag4j's reference",
                "after step N, vs reference", "against nag4j's reference on its own gradients");
        for (String s : sizes) {
            Size size = switch (s.strip()) {
                case "small" -> new Size("small", 16, 32, 4);
                case "large" -> new Size("large", 1024, 2048, 512);
                default -> throw new IllegalArgumentException("--sizes: unknown size '" + s + "' (small, large)");
            };
            compare(out, rows, size, "momentum", Rules.byName("momentum").defaults().with("lr", 0.01f).with("momentum", 0.9f),
                    "DJL sgd, momentum 0.9", () -> Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.01f)).optMomentum(0.9f).build(), usable);
            compare(out, rows, size, "adam", Rules.byName("adam").defaults(), "DJL adam", () -> Optimizer.adam().build(), usable);
        }
        if (json != null) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("command", "nag4j djl-compare");
            doc.put("engine", engine);
            doc.put("steps", steps);
            doc.put("batch", batch);
            doc.put("seed", seed);
            doc.put("rows", rows);
            AtomicFiles.write(json, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(doc));
        }
        out.flush();
        return 0;
    }

    private void compare(PrintWriter out, List<Row> rows, Size size, String ruleName, Hyperparams hp, String djlName, Supplier<Optimizer> djl,
                         List<String> usable) {
        Rule rule = Rules.byName(ruleName);
        Trajectory ref;
        try (Nag4jOptimizer reference = Nag4jOptimizer.builder().optRule(rule).optHyperparams(hp).optBackend("reference").build()) {
            ref = train(size, reference, null, null);
        }
        Trajectory theirs = train(size, djl.get(), null, null);
        rows.add(row(out, size, djlName, "DJL, " + DjlTraining.engineVersion(), theirs, ref, "-"));
        for (String b : usable) {
            for (Nag4jOptimizer.Launches l : Nag4jOptimizer.Launches.values()) {
                if (l == Nag4jOptimizer.Launches.PER_PARAMETER && !b.equals("cpu")) continue;
                List<String> check = new ArrayList<>();
                Trajectory mine;
                try (Nag4jOptimizer opt = Nag4jOptimizer.builder().optRule(rule).optHyperparams(hp).optBackend(b).optLaunches(l).build()) {
                    mine = train(size, opt, rule, check);
                }
                rows.add(row(out, size, "Nag4jOptimizer " + ruleName, b + ", " + l.name().toLowerCase(Locale.ROOT).replace('_', ' '), mine, ref,
                        check.isEmpty() ? "bit-identical every step" : check.getFirst()));
            }
        }
        // FAST mode fuses a*b+c into one rounding, as PyTorch's CPU kernels do: how close does that come to DJL's bits?
        List<String> check = new ArrayList<>();
        Trajectory fast;
        try (Nag4jOptimizer opt = Nag4jOptimizer.builder().optRule(rule).optHyperparams(hp).optBackend("cpu").optMode(Mode.FAST).build()) {
            fast = train(size, opt, rule, check);
        }
        Distance toDjl = Distance.of(fast.afterFirst, theirs.afterFirst), toDjlLast = Distance.of(fast.afterLast, theirs.afterLast);
        rows.add(row(out, size, "Nag4jOptimizer " + ruleName, "cpu, per step, FAST", fast, ref,
                (check.isEmpty() ? "FAST reference: bit-identical every step" : check.getFirst()) + "; vs DJL after step 1: " + toDjl.describe(size.params())
                        + ", after step N: " + toDjlLast.describe(size.params())));
    }

    private Row row(PrintWriter out, Size size, String name, String where, Trajectory t, Trajectory ref, String check) {
        Distance first = Distance.of(t.afterFirst, ref.afterFirst), last = Distance.of(t.afterLast, ref.afterLast);
        Row r = new Row(size.name(), size.params(), name, where, t.medianStepMicros, first, last, check);
        out.printf(Locale.ROOT, "%-6s %-24s %-24s %11.1f us  %-34s %-28s %s%n", size.name(), name, where, r.stepMicros(), first.describe(size.params()),
                last.describe(size.params()), check);
        out.flush();
        return r;
    }

    /**
     * How far weights are from the reference's: how many differ, the median ULP distance among
     * those (the typical rounding gap; the largest would be dominated by values either side of
     * zero, where one ULP is tiny), and the largest relative difference.
     */
    record Distance(long differing, long medianUlp, double maxRelative) {
        static Distance of(List<float[]> a, List<float[]> b) {
            List<Long> ulps = new ArrayList<>();
            double rel = 0;
            for (int i = 0; i < a.size(); i++) {
                for (int k = 0; k < a.get(i).length; k++) {
                    float x = a.get(i)[k], y = b.get(i)[k];
                    int xb = Float.floatToRawIntBits(x), yb = Float.floatToRawIntBits(y);
                    if (xb == yb) continue;
                    ulps.add(Agreement.ulpDistance(xb, yb));
                    rel = Math.max(rel, Math.abs((double) x - y) / Math.max(Math.abs((double) x), Math.abs((double) y)));
                }
            }
            if (ulps.isEmpty()) return new Distance(0, 0, 0);
            java.util.Collections.sort(ulps);
            return new Distance(ulps.size(), ulps.get(ulps.size() / 2), rel);
        }

        String describe(long of) {
            return differing == 0 ? "identical"
                    : String.format(Locale.ROOT, "%.1f%% differ, median %d ULP, max rel %.1e", 100.0 * differing / of, medianUlp, maxRelative);
        }
    }

    record Trajectory(List<float[]> afterFirst, List<float[]> afterLast, double medianStepMicros) {}

    /** Trains the size's MLP with {@code optimizer}; with {@code rule}, also checks it against the reference on its own gradients. */
    private Trajectory train(Size size, Optimizer optimizer, Rule rule, List<String> check) {
        return train(size, optimizer, rule, check, steps);
    }

    private Trajectory train(Size size, Optimizer optimizer, Rule rule, List<String> check, int steps) {
        SequentialBlock block = new SequentialBlock().add(Linear.builder().setUnits(size.hidden()).build()).add(Activation::tanh)
                .add(Linear.builder().setUnits(size.classes()).build());
        try (Model model = Model.newInstance("djl-compare", "PyTorch")) {
            model.setBlock(block);
            try (Trainer trainer = model.newTrainer(new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss()).optOptimizer(optimizer))) {
                trainer.initialize(new Shape(batch, size.features()));
                SplittableRandom r = new SplittableRandom(seed);
                for (Pair<String, Parameter> p : block.getParameters()) {
                    NDArray a = p.getValue().getArray();
                    float[] v = new float[Math.toIntExact(a.size())];
                    double scale = 1 / Math.sqrt(a.getShape().dimension() > 1 ? a.getShape().get(1) : 1);
                    for (int i = 0; i < v.length; i++) v[i] = a.getShape().dimension() > 1 ? (float) (r.nextGaussian() * scale) : 0f;
                    a.set(v);
                }
                ReferenceShadow shadow = rule == null ? null : new ReferenceShadow(block, rule, ((Nag4jOptimizer) optimizer).hyperparams(), null, ((Nag4jOptimizer) optimizer).mode());
                try {
                    List<Long> times = new ArrayList<>();
                    List<float[]> afterFirst = null;
                    for (int t = 1; t <= steps; t++) {
                        SplittableRandom d = new SplittableRandom(seed * 1_000_003L + t);
                        float[] x = new float[batch * size.features()];
                        for (int i = 0; i < x.length; i++) x[i] = (float) d.nextGaussian();
                        long[] y = new long[batch];
                        for (int i = 0; i < batch; i++) y[i] = d.nextInt(size.classes());
                        try (NDManager m = trainer.getManager().newSubManager()) {
                            try (GradientCollector gc = trainer.newGradientCollector()) {
                                NDList pred = trainer.forward(new NDList(m.create(x, new Shape(batch, size.features()))));
                                gc.backward(trainer.getLoss().evaluate(new NDList(m.create(y)), pred));
                            }
                        }
                        if (shadow != null) shadow.captureGradients();
                        long t0 = System.nanoTime();
                        trainer.step();
                        times.add(System.nanoTime() - t0);
                        if (shadow != null && check.isEmpty()) {
                            ReferenceShadow.Difference diff = shadow.stepAndCompare(((Nag4jOptimizer) optimizer).hyperparams());
                            if (diff != null) check.add("NOT identical at step " + t + ": " + diff.describe("nag4j"));
                        }
                        if (t == 1) afterFirst = weights(block);
                    }
                    List<Long> sorted = times.subList(times.size() / 3, times.size()).stream().sorted().toList(); // the median of the last two thirds
                    return new Trajectory(afterFirst, weights(block), sorted.get(sorted.size() / 2) / 1e3);
                } finally {
                    if (shadow != null) shadow.close();
                }
            }
        }
    }

    private static List<float[]> weights(SequentialBlock block) {
        List<float[]> w = new ArrayList<>();
        for (Pair<String, Parameter> p : block.getParameters()) w.add(p.getValue().getArray().toFloatArray());
        return w;
    }
}
