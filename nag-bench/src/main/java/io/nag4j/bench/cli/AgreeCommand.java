package io.nag4j.bench.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.nag4j.core.rule.MasterWeights;
import io.nag4j.core.rule.Rounding;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Rules;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.plan.Backends;
import io.nag4j.gpu.plan.Drivers;
import io.nag4j.tornado.TornadoBackends;
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
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code nag4j agree}: the parity proof for one backend. Every optimizer (or the one named) runs
 * the same random trajectory, special values included (NaN, infinities, signed zeros,
 * subnormals, extremes), on a ParamSet of many odd-shaped tensors, on the chosen backend and on
 * the hand-written reference, with hyperparameters changing every step; params and every state
 * slot are compared bit for bit (NaN by class) at checkpoints and at the end.
 * Exit 0 when every element agrees, 3 when any differs, 2 on bad input, 1 when the backend fails.
 */
@Command(name = "agree", mixinStandardHelpOptions = true,
        description = {"Checks that a backend gives the hand-written reference's bits for every optimizer (--mode fast: the fused kernels' evaluator's bits).",
                "Exit 0 if all agree, 3 if any element differs."})
public final class AgreeCommand implements Callable<Integer> {
    static final int DISAGREE = 3;

    @Option(names = "--backend", defaultValue = "cpu", paramLabel = "SPEC", description = "A backend spec, as 'nag4j devices' lists them. Default: cpu.")
    String backend;

    @Option(names = "--tornado-defaults", description = {"With --backend tornado[:N]: run TornadoVM with its own default numerics (its FMA pass,",
            "native math functions, -cl-mad-enable -cl-fast-relaxed-math) instead of EXACT's, and report how many values",
            "differ. A measurement, not a promise: exit 0 whatever differs."})
    boolean tornadoDefaults;

    @Option(names = "--mode", defaultValue = "exact", paramLabel = "MODE",
            description = {"exact (the default): the backend against the hand-written reference optimizers;",
                    "fast: the backend's FAST kernels (multiply-adds fused into fma by one IR pass) against the reference evaluator running",
                    "the same fused kernels. Both promise bitwise agreement."})
    String mode;

    @Option(names = "--optimizer", paramLabel = "NAME", description = "Only this optimizer. Default: every built-in one.")
    String optimizer;

    @Option(names = "--param-dtype", split = ",", paramLabel = "LIST",
            description = {"Param types to check: f32, and bf16 / f16 (16-bit params with float32 master weights, each step's param",
                    "the master rounded by --rounding; params, slots and state/master compared). Default: f32,bf16,f16",
                    "(f32 alone on the tornado JIT backend, whose renderer does not lower bf16/f16 yet)."})
    List<String> paramDtypes;

    @Option(names = "--rounding", split = ",", paramLabel = "LIST",
            description = {"How 16-bit params are rounded from their master: nearest (ties to even) and/or stochastic (Philox-4x32-10",
                    "keyed by --seed, the step, the tensor's index and the element's: docs/mixed-precision.md). Default: nearest,stochastic."})
    List<String> roundings;

    @Option(names = "--steps", defaultValue = "100", paramLabel = "N", description = "Steps per optimizer. Default: 100.")
    int steps;

    @Option(names = "--tensors", defaultValue = "101", paramLabel = "N", description = "Tensors of odd shapes in the ParamSet. Default: 101.")
    int tensors;

    @Option(names = "--seed", defaultValue = "20261124", paramLabel = "S",
            description = "Random seed of the data, and the key of stochastic rounding. Default: 20261124.")
    long seed;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the report as JSON to this file.")
    Path json;

    @Spec
    CommandSpec spec;

    /** What one optimizer's run found. */
    record Result(String optimizer, String paramDtype, String rounding, String backend, int steps, long elements, long compared, long differing,
                  long maxUlp, String firstDifference) {}

    @Override
    public Integer call() throws IOException {
        if (steps < 1) throw new IllegalArgumentException("--steps must be at least 1, got " + steps);
        if (tensors < 1) throw new IllegalArgumentException("--tensors must be at least 1, got " + tensors);
        List<Rule> rules = optimizer == null ? Rules.all() : List.of(Rules.byName(optimizer));
        Mode mode = KernelsCommand.parseMode(this.mode);
        List<Rounding> roundingList = new ArrayList<>();
        for (String r : roundings == null ? List.of("nearest", "stochastic") : roundings) {
            Rounding parsed;
            try {
                parsed = Rounding.of(r, seed);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--rounding: " + e.getMessage());
            }
            if (roundingList.contains(parsed)) throw new IllegalArgumentException("--rounding names " + parsed.kind() + " twice");
            roundingList.add(parsed);
        }
        if (roundingList.isEmpty()) throw new IllegalArgumentException("--rounding names no rounding");
        List<String> dtypes = new ArrayList<>();
        List<String> asked = paramDtypes;
        boolean onlyF32 = false;
        if (asked == null) {
            boolean jit = Backends.get(Drivers.parseSpec(backend).driver()) instanceof TornadoBackends.Jit;
            asked = jit ? List.of("f32") : List.of("f32", "bf16", "f16");
            onlyF32 = jit;
        }
        for (String d : asked) {
            String t = d.strip().toLowerCase(java.util.Locale.ROOT);
            if (!List.of("f32", "bf16", "f16").contains(t)) throw new IllegalArgumentException("--param-dtype: unknown type '" + d + "' (f32, bf16, f16)");
            if (dtypes.contains(t)) throw new IllegalArgumentException("--param-dtype names " + t + " twice");
            dtypes.add(t);
        }
        if (dtypes.isEmpty()) throw new IllegalArgumentException("--param-dtype names no type");
        if (tornadoDefaults) dtypes.retainAll(List.of("f32")); // TornadoVM's own numerics: measured on the float32 kernels
        if (tornadoDefaults) {
            if (mode != Mode.EXACT) throw new IllegalArgumentException("--tornado-defaults measures TornadoVM's numerics on the traced kernel: it takes no --mode fast");
            // By name only: resolving the device would start TornadoVM with EXACT's switches.
            if (!(Backends.get(Drivers.parseSpec(backend).driver()) instanceof TornadoBackends.Jit)) {
                throw new IllegalArgumentException("--tornado-defaults measures TornadoVM's JIT: it needs --backend tornado[:N], got '" + backend + "'");
            }
            // TornadoVM reads these switches once, when its runtime starts: before anything binds.
            System.setProperty(TornadoBackends.NUMERICS_PROPERTY, "defaults");
        }
        PrintWriter out = spec.commandLine().getOut();
        List<Result> results = new ArrayList<>();
        for (String dtype : dtypes) for (Rounding rounding : dtype.equals("f32") ? List.of(Rounding.NEAREST) : roundingList) for (Rule base : rules) {
            Rule rule = dtype.equals("f32") ? base : new MasterWeights(base, dtype, rounding);
            Result r = run(rule, dtype, dtype.equals("f32") ? "none" : rounding.kind(), mode);
            results.add(r);
            String label = r.optimizer() + (dtype.equals("f32") ? "" : "@" + dtype + (rounding.stochastic() ? "-sr" : ""));
            out.printf("%-16s on %-24s %4d steps, %8d elements: %s%n", label, r.backend(), r.steps(), r.elements(),
                    r.differing() == 0 ? "bitwise identical (" + r.compared() + " values compared)"
                            : r.differing() + " of " + r.compared() + " values differ (" + percent(r.differing(), r.compared()) + "); first: "
                            + r.firstDifference());
            out.flush();
        }
        // Said once the runs are done (a backend that cannot start says only why).
        if (onlyF32) spec.commandLine().getErr().println("nag4j: agree on " + backend + ": f32 params only (the tornado JIT does not lower bf16/f16; tornado-prebuilt does)");
        if (json != null) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("backend", backend);
            doc.put("numerics", tornadoDefaults ? "tornadovm-defaults" : mode.name().toLowerCase(java.util.Locale.ROOT));
            doc.put("seed", seed);
            doc.put("rounding", "stochastic: Philox-4x32-10 keyed by seed, step, tensor index and element index (docs/mixed-precision.md)");
            doc.put("results", results);
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), doc);
        }
        if (tornadoDefaults) {
            out.println("# TornadoVM's default numerics: a measurement of what a TornadoVM user gets, not a nag4j promise (EXACT mode gives 0 differences)");
            out.flush();
            return 0;
        }
        return results.stream().allMatch(r -> r.differing() == 0) ? 0 : DISAGREE;
    }

    static String percent(long part, long whole) {
        return String.format(java.util.Locale.ROOT, "%.2f%%", 100.0 * part / Math.max(1, whole));
    }

    private Result run(Rule rule, String dtype, String rounding, Mode mode) {
        Agreement.Outcome o = Agreement.run(backend, rule, mode, steps, tensors, seed);
        return new Result(o.optimizer(), dtype, rounding, o.where(), o.steps(), o.elements(), o.compared(), o.differing(), o.maxUlp(),
                o.first() == null ? null : o.first().describe());
    }
}
