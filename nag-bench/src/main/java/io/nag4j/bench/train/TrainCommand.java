package io.nag4j.bench.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.nag4j.bench.cli.Agreement;
import io.nag4j.bench.cli.ReplayCommand;
import io.nag4j.bench.report.BenchCommand;
import io.nag4j.core.io.AtomicFiles;
import io.nag4j.core.io.Checkpoint;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Rules;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import io.nag4j.gpu.plan.Backends;
import io.nag4j.core.bound.BoundOptimizer;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code nag4j train}: trains a small model in plain Java on seeded data, with the optimizer
 * bound on each backend asked for (state resident there), and checks that every backend's loss
 * curve and final weights are bit-identical. Each step reads each backend's params into a host
 * set made once ({@code readParamsInto}), computes the loss and gradients on the host (the same
 * code for all), and steps each backend with its gradients and the step's scheduled
 * hyperparameters: the loop docs/training.md describes. Exit 0 when identical (a line says so), 3
 * when not (naming the first step, tensor and element that differ, with both values), 2 for bad input.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Trains a model (softmax or mlp) on seeded data with one optimizer on several backends and checks that",
                "their loss curves and final weights are bit-identical. Exit 0 if identical, 3 if not, 2 for bad input."})
public final class TrainCommand implements Callable<Integer> {
    /** Exit code when the backends' curves or weights differ. */
    public static final int DIFFERENT = 3;
    static final int SAMPLES = 2048, FEATURES = 16, CLASSES = 4;

    @Option(names = "--model", defaultValue = "mlp", paramLabel = "NAME", description = "softmax (softmax regression) or mlp (two layers, tanh). Default: mlp.")
    String model;

    @Option(names = "--optimizer", defaultValue = "nag", paramLabel = "NAME", description = "Optimizer. Default: nag.")
    String optimizer;

    @Option(names = "--hp", paramLabel = "NAME=VALUE", description = "A hyperparameter (repeatable); the first one of the rule (eta or lr) is the scheduled learning rate.")
    List<String> hyperparams = new ArrayList<>();

    @Option(names = "--steps", defaultValue = "200", paramLabel = "N", description = "Steps in all (a resumed run continues to N). Default: 200.")
    long steps;

    @Option(names = "--batch", defaultValue = "64", paramLabel = "B", description = "Samples per step. Default: 64.")
    int batch;

    @Option(names = "--schedule", defaultValue = "constant", paramLabel = "KIND", description = "constant, cosine or step (x0.1 after each third). Default: constant.")
    String schedule;

    @Option(names = "--warmup", defaultValue = "0", paramLabel = "W", description = "Linear warm-up steps before the schedule. Default: 0.")
    long warmup;

    @Option(names = "--backend", defaultValue = "reference,cpu", paramLabel = "LIST", split = ",",
            description = "Backends, comma-separated (e.g. cpu,opencl:0,tornado); the first one's checkpoints are saved. Default: reference,cpu.")
    List<String> backends;

    @Option(names = "--seed", defaultValue = "1", paramLabel = "S", description = "Seed of the data and the initial weights. Default: 1.")
    long seed;

    @Option(names = "--print-every", paramLabel = "K", description = "Print the loss every K steps. Default: a tenth of the steps.")
    Long printEvery;

    @Option(names = "--plot", paramLabel = "FILE", description = "PNG of every backend's loss curve.")
    Path plot;

    @Option(names = "--json", paramLabel = "FILE", description = "JSON: the run and each backend's loss per step.")
    Path json;

    @Option(names = "--checkpoint", paramLabel = "DIR", description = "Where checkpoints go (step-NNNNNN.safetensors, from the first backend).")
    Path checkpointDir;

    @Option(names = "--save-every", paramLabel = "K", description = "Save a checkpoint every K steps (needs --checkpoint); the last step is always saved then.")
    Long saveEvery;

    @Option(names = "--resume", paramLabel = "FILE", description = "Start from this checkpoint (params, state, step and hyperparameters; --hp overrides), on any backend.")
    Path resume;

    @Option(names = "--gradients", defaultValue = "host", paramLabel = "FROM",
            description = {"host (nag4j's own float32 gradients, every backend stepped on the same ones) or djl (a DJL SequentialBlock",
                    "on the PyTorch engine, autograd, Nag4jOptimizer on each backend and always on reference; each run also checked",
                    "against nag4j's reference on DJL's own gradients). Default: host."})
    String gradients;

    @Option(names = "--param-dtype", defaultValue = "f32", paramLabel = "TYPE",
            description = {"f32 (default), or bf16 / f16: 16-bit params with float32 master weights (the optimizer steps the master,",
                    "each param is the master rounded by --rounding; the gradients are computed at the 16-bit params). Host gradients only."})
    String paramDtype;

    @Option(names = "--rounding", defaultValue = "nearest", paramLabel = "MODE",
            description = {"With --param-dtype bf16/f16: how each param is rounded from its master: nearest (ties to even, the default) or",
                    "stochastic (Philox-4x32-10 keyed by --seed, the step, the tensor's index and the element's: docs/mixed-precision.md)."})
    String rounding;

    @Spec
    CommandSpec spec;

    /** The first difference between a backend and the first one. */
    record Difference(long step, String what, String tensor, long index, String backend, int expectedBits, int actualBits) {
        String describe(String first) {
            return String.format(Locale.ROOT, "step %d %s '%s' element %d: %s %08x (%s), %s %08x (%s)", step, what, tensor, index, first,
                    expectedBits, Float.intBitsToFloat(expectedBits), backend, actualBits, Float.intBitsToFloat(actualBits));
        }
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        Rule rule = Rules.byName(optimizer);
        String dtype = paramDtype.strip().toLowerCase(Locale.ROOT);
        if (!List.of("f32", "bf16", "f16").contains(dtype)) throw new IllegalArgumentException("--param-dtype must be f32, bf16 or f16, got '" + paramDtype + "'");
        if (!dtype.equals("f32")) {
            if (gradients.strip().equalsIgnoreCase("djl")) throw new IllegalArgumentException("--param-dtype " + dtype + " works with host gradients; DJL's weights are float32");
            rule = new io.nag4j.core.rule.MasterWeights(rule, dtype, io.nag4j.core.rule.Rounding.of(rounding, seed));
        } else if (!rounding.strip().equalsIgnoreCase("nearest")) {
            throw new IllegalArgumentException("--rounding " + rounding + " rounds 16-bit params: it needs --param-dtype bf16 or f16");
        }
        if (steps < 1) throw new IllegalArgumentException("--steps must be at least 1, got " + steps);
        if (batch < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
        if (saveEvery != null && (saveEvery < 1 || checkpointDir == null)) throw new IllegalArgumentException("--save-every needs a positive K and --checkpoint DIR");
        if (printEvery != null && printEvery < 1) throw new IllegalArgumentException("--print-every must be at least 1, got " + printEvery);
        List<String> specs = backends.stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
        if (specs.isEmpty()) throw new IllegalArgumentException("--backend names no backend");
        if (new HashSet<>(specs).size() != specs.size()) throw new IllegalArgumentException("--backend names a backend twice: " + specs);
        for (String s : specs) Backends.resolve(s); // an unknown or unavailable one fails before anything runs
        Schedule sched = new Schedule(schedule, warmup, steps);
        Data data = new Data(seed, SAMPLES, FEATURES, CLASSES);
        Model m = Model.of(model, data);
        switch (gradients.strip().toLowerCase(Locale.ROOT)) {
            case "host" -> { }
            case "djl" -> { return trainDjl(out, rule, m, data, sched, specs); }
            default -> throw new IllegalArgumentException("--gradients must be host or djl, got '" + gradients + "'");
        }

        ParamSet init = Agreement.roundedTo(rule, m.init(seed)); // 16-bit params from the start: the master starts as them
        OptState initState = null;
        Hyperparams base;
        long start = 0;
        Checkpoint ck = null;
        try {
            if (resume != null) {
                ck = Checkpoint.load(resume, rule);
                checkSameShapes(init, ck.params(), resume);
                initState = ck.state();
                start = initState.step();
                if (start >= steps) throw new IllegalArgumentException("--resume " + resume + " is at step " + start + ", not before --steps " + steps);
                init.close();
                init = ck.params();
            }
            // A resumed run's hyperparameters are its checkpoint's (the schedule's base), --hp overriding them.
            base = ReplayCommand.overridden(rule, ck == null ? rule.defaults() : ck.hyperparams(), hyperparams);
            return train(out, rule, base, m, data, sched, specs, init, initState, start);
        } finally {
            if (ck != null) ck.close();
            else init.close();
        }
    }

    private int train(PrintWriter out, Rule rule, Hyperparams base, Model m, Data data, Schedule sched, List<String> specs,
                      ParamSet init, OptState initState, long start) throws IOException {
        String lr = base.names().getFirst();
        List<BoundOptimizer> opts = new ArrayList<>();
        List<ParamSet> grads = new ArrayList<>(), current = new ArrayList<>();
        Map<String, List<Float>> losses = new LinkedHashMap<>();
        Difference first = null;
        long every = printEvery != null ? printEvery : Math.max(1, (steps - start) / 10);
        BenchCommand.Progress progress = new BenchCommand.Progress((int) Math.min(Integer.MAX_VALUE, steps - start));
        try {
            for (String s : specs) {
                opts.add(Backends.bind(s, rule, base, init, initState));
                grads.add(init.zerosLike(""));
                current.add(init.zerosLike(""));
                losses.put(s, new ArrayList<>());
            }
            out.printf(Locale.ROOT, "train %s (%s: %d params) with %s %s, schedule %s%s, steps %d..%d of %d samples, on %s%n", m.name(),
                    shapes(init), init.totalSize(), rule.name(), base, sched.kind(), sched.warmup() > 0 ? " after " + sched.warmup() + " warm-up" : "",
                    start + 1, steps, batch, String.join(", ", opts.stream().map(BoundOptimizer::where).toList()));
            if (checkpointDir != null) Files.createDirectories(checkpointDir);
            for (long t = start + 1; t <= steps; t++) {
                progress.next("step " + t);
                Data.Batch b = data.batch(t, batch);
                Hyperparams hp = base.with(lr, sched.value(base.get(lr), t));
                float[] stepLoss = new float[opts.size()];
                for (int i = 0; i < opts.size(); i++) {
                    opts.get(i).readParamsInto(current.get(i)); // one set per backend, made once: no allocation per step
                    stepLoss[i] = m.lossAndGradients(current.get(i), b, grads.get(i));
                    losses.get(specs.get(i)).add(stepLoss[i]);
                    if (i > 0 && first == null) first = firstDifference(t, "param before the step", current.get(0), current.get(i), specs.get(i));
                    if (i > 0 && first == null && Float.floatToRawIntBits(stepLoss[i]) != Float.floatToRawIntBits(stepLoss[0])) {
                        first = new Difference(t, "loss", "-", 0, specs.get(i), Float.floatToRawIntBits(stepLoss[0]), Float.floatToRawIntBits(stepLoss[i]));
                    }
                }
                for (int i = 0; i < opts.size(); i++) opts.get(i).step(grads.get(i), hp);
                if (t % every == 0 || t == start + 1 || t == steps) {
                    progress.clear();
                    out.printf(Locale.ROOT, "step %6d  loss %s  lr %s%n", t, lossLine(specs, stepLoss), Float.toString(hp.get(lr)));
                    out.flush();
                }
                if (saveEvery != null && (t % saveEvery == 0 || t == steps)) {
                    Path file = checkpointDir.resolve(String.format(Locale.ROOT, "step-%06d.safetensors", t));
                    opts.getFirst().save(file, base); // the schedule's base: a resume recomputes each step's value from it
                }
            }
            progress.done();
            // The final weights and state, after the last step.
            try (ParamSet p0 = opts.getFirst().readParams(); OptState s0 = opts.getFirst().readState()) {
                for (int i = 1; i < opts.size() && first == null; i++) {
                    try (ParamSet p = opts.get(i).readParams(); OptState s = opts.get(i).readState()) {
                        first = firstDifference(steps, "final param", p0, p, specs.get(i));
                        for (String slot : s0.slotNames()) {
                            if (first == null) first = firstDifference(steps, "final state slot '" + slot + "'", s0.slot(slot), s.slot(slot), specs.get(i));
                        }
                    }
                }
            }
        } finally {
            for (BoundOptimizer o : opts) o.close();
            for (ParamSet g : grads) g.close();
            for (ParamSet c : current) c.close();
        }
        List<Float> curve = losses.get(specs.getFirst());
        if (json != null) writeJson(rule, base, sched, specs, start, losses, first);
        if (plot != null) writePlot(m, rule, start, losses);
        String summary = String.format(Locale.ROOT, "loss %s -> %s over steps %d..%d", Float.toString(curve.getFirst()), Float.toString(curve.getLast()),
                start + 1, steps);
        if (first == null) {
            out.println(specs.size() == 1 ? summary + "; one backend (" + specs.getFirst() + "): nothing to compare, trivially identical"
                    : summary + "; all " + specs.size() + " backends (" + String.join(", ", specs) + "): loss curves and final weights bit-identical");
            out.flush();
            return 0;
        }
        out.println(summary + "; NOT bit-identical: first difference at " + first.describe(specs.getFirst()));
        out.flush();
        return DIFFERENT;
    }

    /**
     * {@code --gradients djl}: one DJL run per backend and one on the reference (the baseline), the
     * same data, initial weights and schedule; each run's weights checked after every step against
     * nag4j's reference stepped on the gradients DJL computed in that run, and every loss and the
     * final weights against the reference run's.
     */
    private int trainDjl(PrintWriter out, Rule rule, Model m, Data data, Schedule sched, List<String> specs) throws IOException {
        String engine = DjlTraining.engineVersion();
        List<String> names = new ArrayList<>(specs);
        names.remove("reference");
        names.addFirst("reference"); // the baseline every run is compared with
        Checkpoint ck = resume == null ? null : Checkpoint.load(resume, rule);
        try (ck; ParamSet init = m.init(seed)) {
            long start = ck == null ? 0 : ck.state().step();
            if (start >= steps) throw new IllegalArgumentException("--resume " + resume + " is at step " + start + ", not before --steps " + steps);
            Hyperparams base = ReplayCommand.overridden(rule, ck == null ? rule.defaults() : ck.hyperparams(), hyperparams);
            String lr = base.names().getFirst();
            long every = printEvery != null ? printEvery : Math.max(1, (steps - start) / 10);
            Difference first = null;
            try (DjlTraining djl = new DjlTraining(rule, base, data, sched, batch)) {
                for (String s : names) djl.add(s, init, ck == null ? null : new DjlTraining.Resume(resume, ck));
                DjlTraining.Run ref = djl.runs.getFirst();
                out.printf(Locale.ROOT, "train %s (DJL SequentialBlock: %s; %d params) with %s %s, schedule %s%s, steps %d..%d of %d samples; gradients: DJL autograd on %s;"
                                + " Nag4jOptimizer on %s%n", m.name(), String.join(", ", ref.names()), init.totalSize(), rule.name(), base, sched.kind(),
                        sched.warmup() > 0 ? " after " + sched.warmup() + " warm-up" : "", start + 1, steps, batch, engine,
                        String.join(", ", names));
                if (checkpointDir != null) Files.createDirectories(checkpointDir);
                BenchCommand.Progress progress = new BenchCommand.Progress((int) Math.min(Integer.MAX_VALUE, steps - start));
                DjlTraining.Run saver = djl.runs.get(names.indexOf(specs.getFirst()));
                for (long t = start + 1; t <= steps; t++) {
                    progress.next("step " + t);
                    Data.Batch b = data.batch(t, batch);
                    float[] x = DjlTraining.features(b);
                    long[] y = DjlTraining.labels(b);
                    Hyperparams hp = base.with(lr, sched.value(base.get(lr), t));
                    for (DjlTraining.Run r : djl.runs) {
                        float loss = r.step(x, y);
                        var d = r.shadow.stepAndCompare(hp);
                        if (first == null && d != null) first = new Difference(t, "param after the step", d.tensor(), d.index(), r.backend, d.referenceBits(), d.djlBits());
                        float refLoss = ref.losses.getLast();
                        if (first == null && Float.floatToRawIntBits(loss) != Float.floatToRawIntBits(refLoss)) {
                            first = new Difference(t, "loss", "-", 0, r.backend, Float.floatToRawIntBits(refLoss), Float.floatToRawIntBits(loss));
                        }
                    }
                    if (t % every == 0 || t == start + 1 || t == steps) {
                        progress.clear();
                        float[] l = new float[djl.runs.size()];
                        for (int i = 0; i < l.length; i++) l[i] = djl.runs.get(i).losses.getLast();
                        out.printf(Locale.ROOT, "step %6d  loss %s  lr %s%n", t, lossLine(names, l), Float.toString(hp.get(lr)));
                        out.flush();
                    }
                    if (saveEvery != null && (t % saveEvery == 0 || t == steps)) {
                        saver.optimizer.save(checkpointDir.resolve(String.format(Locale.ROOT, "step-%06d.safetensors", t)), saver.block);
                    }
                }
                progress.done();
                List<float[]> refWeights = ref.weights();
                for (DjlTraining.Run r : djl.runs) {
                    List<float[]> w = r.weights();
                    for (int i = 0; i < w.size() && first == null; i++) {
                        for (int k = 0; k < w.get(i).length && first == null; k++) {
                            int a = Float.floatToRawIntBits(refWeights.get(i)[k]), c = Float.floatToRawIntBits(w.get(i)[k]);
                            if (a != c) first = new Difference(steps, "final param", ref.names().get(i), k, r.backend, a, c);
                        }
                    }
                    io.nag4j.djl.Nag4jOptimizer.Counters c = r.optimizer.counters();
                    long n = steps - start;
                    out.printf(Locale.ROOT, "  %-10s %d launches for %d updates (%d parameters a step); copied per step: gradients %s, weights %s, by the engine %s; Trainer.step() median %.1f us%n",
                            r.backend + ":", c.launches(), c.updates(), c.updates() / n, bytes(c.gradientBytesCopied() / n), bytes(c.weightBytesCopied() / n),
                            bytes(c.engineBytesCopied() / n), r.medianStepMicros());
                }
                Map<String, List<Float>> losses = new LinkedHashMap<>();
                for (DjlTraining.Run r : djl.runs) losses.put(r.backend, r.losses);
                if (json != null) writeJson(rule, base, sched, names, start, losses, first);
                if (plot != null) writePlot(m, rule, start, losses);
                List<Float> curve = ref.losses;
                String summary = String.format(Locale.ROOT, "loss %s -> %s over steps %d..%d", Float.toString(curve.getFirst()), Float.toString(curve.getLast()), start + 1, steps);
                List<String> checked = names.size() > 1 ? names.subList(1, names.size()) : names;
                if (first == null) {
                    out.println(summary + "; DJL gradients, Nag4jOptimizer on " + String.join(", ", checked)
                            + ": loss curves and final weights bit-identical to nag4j's reference stepping on the same gradients");
                    out.flush();
                    return 0;
                }
                out.println(summary + "; NOT bit-identical: first difference at " + first.describe("reference"));
                out.flush();
                return DIFFERENT;
            }
        }
    }

    private static String bytes(long b) {
        return b < 1024 ? b + " B" : b < 1 << 20 ? String.format(Locale.ROOT, "%.1f KiB", b / 1024.0) : String.format(Locale.ROOT, "%.1f MiB", b / 1048576.0);
    }

    private static void checkSameShapes(ParamSet want, ParamSet got, Path file) {
        if (!want.names().equals(got.names())) {
            throw new IllegalArgumentException("--resume " + file + " holds params " + got.names() + ", the model has " + want.names());
        }
        for (int i = 0; i < want.size(); i++) {
            if (!Arrays.equals(want.get(i).shape(), got.get(i).shape())) {
                throw new IllegalArgumentException("--resume " + file + ": param '" + got.get(i).name() + "' has shape " + Arrays.toString(got.get(i).shape())
                        + ", the model's has " + Arrays.toString(want.get(i).shape()));
            }
        }
    }

    /** The first element where {@code actual} differs from {@code expected} in bits, or null. */
    static Difference firstDifference(long step, String what, ParamSet expected, ParamSet actual, String backend) {
        Agreement.Tally tally = new Agreement.Tally(); // the comparison bench and agree use: bits, NaN by class
        Agreement.compare((int) Math.min(Integer.MAX_VALUE, step), what, expected, actual, tally);
        Agreement.Mismatch m = tally.first();
        return m == null ? null : new Difference(step, what, m.tensor(), m.index(), backend, m.reference(), m.backend());
    }

    private static String shapes(ParamSet p) {
        List<String> s = new ArrayList<>();
        for (Tensor t : p) s.add(t.name() + " " + String.join("x", Arrays.stream(t.shape()).mapToObj(Long::toString).toList()));
        return String.join(", ", s);
    }

    private static String lossLine(List<String> specs, float[] loss) {
        boolean same = true;
        for (float l : loss) same &= Float.floatToRawIntBits(l) == Float.floatToRawIntBits(loss[0]);
        if (same) return String.format(Locale.ROOT, "%-12s", Float.toString(loss[0])) + (loss.length > 1 ? " (all " + loss.length + " backends, identical)" : "");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < loss.length; i++) sb.append(i == 0 ? "" : ", ").append(specs.get(i)).append(' ').append(loss[i]);
        return sb.toString();
    }

    private void writeJson(Rule rule, Hyperparams base, Schedule sched, List<String> specs, long start, Map<String, List<Float>> losses,
                           Difference first) throws IOException {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("command", "nag4j train");
        doc.put("model", model);
        doc.put("gradients", gradients);
        doc.put("param_dtype", paramDtype);
        doc.put("rounding", rule instanceof io.nag4j.core.rule.MasterWeights mw ? mw.rounding().kind() : "none");
        doc.put("optimizer", rule.name());
        doc.put("hyperparameters", base.asMap());
        doc.put("schedule", sched.kind());
        doc.put("warmup", sched.warmup());
        doc.put("batch", batch);
        doc.put("seed", seed);
        doc.put("first_step", start + 1);
        doc.put("last_step", steps);
        doc.put("backends", specs);
        doc.put("identical", first == null);
        doc.put("first_difference", first == null ? null : first.describe(specs.getFirst()));
        doc.put("loss", losses);
        ObjectMapper mapper = new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE).enable(SerializationFeature.INDENT_OUTPUT);
        AtomicFiles.write(json, mapper.writeValueAsBytes(doc));
    }

    private void writePlot(Model m, Rule rule, long start, Map<String, List<Float>> losses) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYSeriesCollection data = new XYSeriesCollection();
        for (var e : losses.entrySet()) {
            XYSeries s = new XYSeries(e.getKey());
            for (int i = 0; i < e.getValue().size(); i++) s.add(start + 1 + i, e.getValue().get(i));
            data.addSeries(s);
        }
        XYPlot p = new XYPlot(data, new NumberAxis("step"), new NumberAxis("loss (mean cross-entropy of the batch)"), new XYLineAndShapeRenderer(true, false));
        JFreeChart chart = new JFreeChart("nag4j train: " + m.name() + " with " + rule.name() + ", every backend", JFreeChart.DEFAULT_TITLE_FONT, p, true);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        ChartUtils.writeChartAsPNG(b, chart, 900, 520);
        AtomicFiles.write(plot, b.toByteArray());
    }
}
