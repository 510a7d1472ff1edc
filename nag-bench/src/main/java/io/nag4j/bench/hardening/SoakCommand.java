package io.nag4j.bench.hardening;

import io.nag4j.core.io.Checkpoint;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Rules;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import io.nag4j.gpu.plan.Backends;
import io.nag4j.core.bound.BoundOptimizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * {@code nag4j soak}: a long run on one backend with a checkpoint saved and restored into a fresh
 * binding every {@code --every} steps, against an uninterrupted run on another backend; exit 0
 * when the end is bit-identical (params and every state slot), 3 when not. The updates cycle
 * through 16 seeded sets (with special values) and the learning rate follows a cosine, so each
 * resume must carry the step counter and the state exactly.
 */
@Command(name = "soak", mixinStandardHelpOptions = true,
        description = "A long run with checkpoint save/restore into fresh bindings, against an uninterrupted run; exit 0 if bit-identical, 3 if not.")
public final class SoakCommand implements Callable<Integer> {
    @Option(names = "--backend", defaultValue = "opencl:0", paramLabel = "SPEC", description = "The backend that is checkpointed and restored. Default: opencl:0.")
    String backend;

    @Option(names = "--against", defaultValue = "cpu", paramLabel = "SPEC", description = "The uninterrupted run's backend. Default: cpu.")
    String against;

    @Option(names = "--optimizer", defaultValue = "adam", paramLabel = "NAME", description = "Optimizer. Default: adam.")
    String optimizer;

    @Option(names = "--steps", defaultValue = "100000", paramLabel = "N", description = "Steps. Default: 100000.")
    long steps;

    @Option(names = "--every", defaultValue = "10000", paramLabel = "K", description = "Save, close and restore every K steps. Default: 10000.")
    long every;

    @Option(names = "--elements", defaultValue = "1000000", paramLabel = "N", description = "Elements (three tensors). Default: 1000000.")
    int elements;

    @Option(names = "--dir", paramLabel = "DIR", description = "Where the checkpoints go. Default: a temporary directory, deleted after.")
    Path dir;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (steps < 1 || every < 1) throw new IllegalArgumentException("--steps and --every must be at least 1");
        if (elements < 3) throw new IllegalArgumentException("--elements must be at least 3, got " + elements);
        Rule rule = Rules.byName(optimizer);
        Backends.resolve(backend);
        Backends.resolve(against);
        PrintWriter out = spec.commandLine().getOut();
        Path where = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("nag4j-soak");
        Hyperparams base = rule.defaults();
        String lr = base.names().getFirst();
        SplittableRandom r = new SplittableRandom(20261203);
        int a = elements / 2, b = elements / 3, c = elements - a - b;
        List<ParamSet> updates = new ArrayList<>();
        long t0 = System.nanoTime();
        try (ParamSet init = ParamSet.of(filled("w", a, r, 1f), filled("v", b, r, 1f), filled("u", c, r, 1f))) {
            for (int k = 0; k < 16; k++) updates.add(ParamSet.of(filled("w", a, r, 1e-2f), filled("v", b, r, 1e-2f), filled("u", c, r, 1e-2f)));
            long saves = 0;
            BoundOptimizer soaked = Backends.bind(backend, rule, base, init, null);
            try (BoundOptimizer straight = Backends.bind(against, rule, base, init, null)) {
                for (long t = 1; t <= steps; t++) {
                    Hyperparams hp = base.with(lr, (float) (base.get(lr) * (0.55 + 0.45 * StrictMath.cos(StrictMath.PI * t / steps))));
                    ParamSet u = updates.get((int) (t % 16));
                    straight.step(u, hp);
                    soaked.step(u, hp);
                    if (t % every == 0 && t < steps) {
                        Path file = where.resolve("soak.safetensors");
                        soaked.save(file);
                        soaked.close();
                        try (Checkpoint ck = Checkpoint.load(file, rule)) {
                            soaked = Backends.bind(backend, rule, base, ck.params(), ck.state()); // a fresh binding from the file
                        }
                        saves++;
                    }
                }
                String diff = firstDifference(rule, steps, straight, soaked);
                double seconds = (System.nanoTime() - t0) / 1e9;
                out.printf(Locale.ROOT, "%d steps of %s over %d elements on %s, saved and restored %d times, against %s uninterrupted: %.0f s%n",
                        steps, rule.name(), elements, soaked.where(), saves, straight.where(), seconds);
                out.println(diff == null ? "params and every state slot bit-identical at the end" : "NOT bit-identical: " + diff);
                out.flush();
                return diff == null ? 0 : 3;
            } finally {
                soaked.close();
            }
        } finally {
            for (ParamSet u : updates) u.close();
            if (dir == null) {
                Files.deleteIfExists(where.resolve("soak.safetensors"));
                Files.deleteIfExists(where);
            }
        }
    }

    private static Tensor filled(String name, int n, SplittableRandom r, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * scale);
        if (n > 4) {
            v[0] = -0f;
            v[1] = Float.MIN_VALUE;
            v[2] = 1e-40f;
        }
        return Tensor.of(name, v, n);
    }

    /** The first element (params, then each state slot) that differs in bits (NaN by class), or null: bench's and agree's comparison. */
    private static String firstDifference(Rule rule, long steps, BoundOptimizer x, BoundOptimizer y) {
        try (OptState sx = x.readState(); OptState sy = y.readState()) {
            if (sx.step() != sy.step()) return "step counters " + sx.step() + " and " + sy.step();
        }
        io.nag4j.bench.cli.Agreement.Tally tally = new io.nag4j.bench.cli.Agreement.Tally();
        io.nag4j.bench.cli.Agreement.compare(rule, (int) Math.min(Integer.MAX_VALUE, steps), x, y, tally);
        return tally.first() == null ? null : tally.differing() + " values differ; first: " + tally.first().describe();
    }
}
