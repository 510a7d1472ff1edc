package io.nag4j.bench.cli;

import io.nag4j.core.io.Checkpoint;
import io.nag4j.core.io.Safetensors;
import io.nag4j.core.io.SafetensorsException;
import io.nag4j.core.io.SafetensorsReader;
import io.nag4j.core.optim.Mode;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.optim.StepChecks;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.MasterWeights;
import io.nag4j.core.rule.Rounding;
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
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Map;
import java.util.LinkedHashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code nag4j replay}: runs a recorded trajectory of updates through an optimizer and writes
 * the final params and state, so a user can compare with JAX or PyTorch bit for bit.
 *
 * <p>{@code --params} holds the initial F32 params; {@code --updates} holds, for each param, an
 * F32 tensor of shape {@code [steps, *param.shape]} (the same {@code steps} for all, possibly 0).
 * {@code --out} is a {@link Checkpoint}: the final params (same names and order) and
 * {@code state/<slot>/<name>}, with metadata {@code step}, {@code optimizer} and {@code hp.*}.
 * Everything is checked before the first step, and the output is written atomically, so bad
 * input writes nothing.
 */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = {"Replays a trajectory of updates from safetensors files and writes the final params and state.",
                "Exit 0 on success, 2 on bad input (one line on stderr, no output file), 1 on other failures."})
public final class ReplayCommand implements Callable<Integer> {
    @Option(names = "--optimizer", required = true, paramLabel = "NAME", description = "The update rule, e.g. nag.")
    String optimizer;

    @Option(names = "--hp", paramLabel = "NAME=VALUE",
            description = "A hyperparameter, parsed to the nearest float32 (decimal or Java hex-float); repeatable. Others keep the rule's defaults.")
    List<String> hyperparams = new ArrayList<>();

    @Option(names = "--params", paramLabel = "FILE", description = "Initial params: F32, BF16 or F16 tensors (safetensors; a 16-bit param steps with float32 master weights, state/master/NAME in the output). Either this or --resume.")
    Path params;

    @Option(names = "--resume", paramLabel = "CKPT", description = {"Start from this checkpoint (params, state, step counter, and its hyperparameters,"
            + " which --hp overrides) instead of --params: the updates file then holds the steps after it."})
    Path resume;

    @Option(names = "--updates", required = true, paramLabel = "FILE",
            description = "Per param, an F32, BF16 or F16 tensor of shape [steps, *param.shape] (safetensors; widened exactly).")
    Path updates;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Where to write the final params and state.")
    Path out;

    @Option(names = "--backend", defaultValue = "cpu", paramLabel = "SPEC", description = "A backend spec, as 'nag4j devices' lists them (cpu, reference, opencl[:N], cuda[:N], tornado[:N], tornado-prebuilt[:N]). Default: cpu.")
    String backend;

    @Option(names = "--mode", defaultValue = "exact", paramLabel = "MODE",
            description = {"exact (the default): the traced kernel, the reference optimizers' bits;",
                    "fast: multiply-adds fused into fma by one IR pass, the same bits on every backend (those of '--backend reference --mode fast')."})
    String mode;

    @Option(names = "--rounding", defaultValue = "nearest", paramLabel = "MODE",
            description = {"How a BF16/F16 param is rounded from its master each step: nearest (ties to even, the default) or stochastic",
                    "(Philox-4x32-10 keyed by --seed, the step, the tensor's index among the params of its dtype in the file's data order, and the element's:",
                    "docs/mixed-precision.md)."})
    String rounding;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "The key of --rounding stochastic (a 64-bit integer). Default: 0.")
    long seed;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        Mode m = KernelsCommand.parseMode(mode);
        Rule rule = Rules.byName(optimizer);
        if ((params == null) == (resume == null)) throw new IllegalArgumentException("give either --params FILE or --resume CKPT, not " + (params == null ? "neither" : "both"));
        checkOut();
        Checkpoint ck = resume == null ? null : loadCheckpoint(rule);
        Hyperparams hp = ck == null ? hyperparams(rule, hyperparams) : overridden(rule, ck.hyperparams(), hyperparams);
        long resumedAt = ck == null ? 0 : ck.state().step();
        try (ck; ParamSet initial = ck == null ? readParams() : ck.params().copy(); SafetensorsReader trajectory = openUpdates()) {
            long steps = checkTrajectory(initial, trajectory);
            Map<String, String> dtypes = ck == null ? paramDtypes : ck.dtypes();
            Rounding r = Rounding.of(rounding, seed);
            if (!dtypes.isEmpty()) return replayMixed(rule, hp, m, initial, trajectory, steps, dtypes, r, ck);
            if (r.stochastic()) throw new IllegalArgumentException("--rounding stochastic rounds BF16/F16 params; every param in " + (params != null ? params : resume) + " is F32");
            try (BoundOptimizer bound = Backends.bind(backend, rule, hp, initial, ck == null ? null : ck.state(), m);
                 ParamSet step = initial.zerosLike("")) {
                // Without a single element the steps change nothing but the counter, and a tiny file can claim
                // 2^40 of them ([2^40, 0] holds no bytes): count them instead of looping.
                boolean noElements = step.totalSize() == 0;
                for (long s = 0; s < (noElements ? 0 : steps); s++) {
                    // One step's slice of each update tensor, copied (and byte-order converted) from the mapped file.
                    for (int i = 0; i < step.size(); i++) {
                        Tensor u = step.get(i);
                        trajectory.copy(u.name(), s * u.size(), u);
                    }
                    bound.step(step);
                }
                try (ParamSet last = bound.readParams(); OptState state = bound.readState()) {
                    if (noElements) state.setStep(resumedAt + steps);
                    save(last, state, hp);
                    spec.commandLine().getOut().println("replayed " + steps + " steps of " + rule.name() + (m == Mode.FAST ? " (FAST)" : "") + " on "
                            + bound.where() + " over " + last.size() + " tensors (" + last.totalSize() + " elements) into " + out);
                }
            }
        }
        return 0;
    }

    /**
     * Mixed precision: each BF16 or F16 param steps with float32 master weights ({@link MasterWeights}:
     * the rule on the master, the param its rounding by {@code rounding}), the F32 ones as usual; one
     * binding per dtype on the same backend, all stepped every step. The output keeps each param's
     * dtype, the rule's slots in F32, and {@code state/master/<name>} (F32) for each 16-bit param.
     */
    private int replayMixed(Rule rule, Hyperparams hp, Mode m, ParamSet initial, SafetensorsReader trajectory, long steps,
                            Map<String, String> dtypes, Rounding rounding, Checkpoint ck) throws IOException {
        Map<String, List<Tensor>> byType = new LinkedHashMap<>();
        for (Tensor p : initial) byType.computeIfAbsent(dtypes.getOrDefault(p.name(), "F32"), k -> new ArrayList<>()).add(p);
        List<BoundOptimizer> bound = new ArrayList<>();
        List<ParamSet> stepSets = new ArrayList<>();
        try {
            for (var e : byType.entrySet()) {
                Rule r = e.getKey().equals("F32") ? rule : new MasterWeights(rule, e.getKey().toLowerCase(java.util.Locale.ROOT), rounding);
                ParamSet group = new ParamSet(e.getValue()); // views of initial's tensors: not closed here
                bound.add(Backends.bind(backend, r, hp, group, ck == null ? null : groupState(ck, rule, group, !e.getKey().equals("F32")), m));
                stepSets.add(group.zerosLike(""));
            }
            boolean noElements = initial.totalSize() == 0;
            for (long s = 0; s < (noElements ? 0 : steps); s++) {
                for (int g = 0; g < bound.size(); g++) {
                    for (Tensor u : stepSets.get(g)) trajectory.copy(u.name(), s * u.size(), u);
                    bound.get(g).step(stepSets.get(g));
                }
            }
            List<ParamSet> finals = new ArrayList<>();
            List<OptState> states = new ArrayList<>();
            try {
                for (BoundOptimizer b : bound) {
                    finals.add(b.readParams());
                    states.add(b.readState());
                }
                List<Tensor> outParams = new ArrayList<>(), master = new ArrayList<>();
                Map<String, List<Tensor>> slots = new LinkedHashMap<>();
                for (String slot : rule.slots()) slots.put(slot, new ArrayList<>());
                for (Tensor p : initial) {
                    for (int g = 0; g < finals.size(); g++) {
                        Tensor t = finals.get(g).find(p.name());
                        if (t == null) continue;
                        outParams.add(t);
                        for (String slot : rule.slots()) slots.get(slot).add(states.get(g).slot(slot).get(p.name()));
                        if (dtypes.containsKey(p.name())) master.add(states.get(g).slot(MasterWeights.MASTER).get(p.name()));
                    }
                }
                long step = states.getFirst().step() + (noElements ? steps : 0);
                Map<String, ParamSet> sets = new LinkedHashMap<>();
                slots.forEach((k, v) -> sets.put(k, new ParamSet(v)));
                OptState state = new OptState(rule.name(), sets, step); // views: the states below own the tensors
                try {
                    Checkpoint.save(out, new ParamSet(outParams), state, hp, dtypes, new ParamSet(master));
                } catch (IOException e) {
                    throw new IOException("cannot write " + out + ": " + e, e);
                }
                spec.commandLine().getOut().println("replayed " + steps + " steps of " + rule.name() + (m == Mode.FAST ? " (FAST)" : "")
                        + " with float32 master weights for " + dtypes.size() + " 16-bit params (" + String.join(", ", new java.util.LinkedHashSet<>(dtypes.values()))
                        + (rounding.stochastic() ? ", rounded stochastically with seed " + rounding.seed() : ", rounded to nearest even") + ") on " + bound.getFirst().where() + " over " + initial.size() + " tensors ("
                        + initial.totalSize() + " elements) into " + out);
            } finally {
                finals.forEach(ParamSet::close);
                states.forEach(OptState::close);
            }
        } finally {
            bound.forEach(BoundOptimizer::close);
            stepSets.forEach(ParamSet::close);
        }
        return 0;
    }

    private Checkpoint loadCheckpoint(Rule rule) {
        try {
            return Checkpoint.load(resume, rule);
        } catch (IOException e) {
            throw inputError("checkpoint", resume, e);
        }
    }

    /** The rule's defaults with each {@code NAME=VALUE} applied; refuses malformed, repeated, unknown or non-finite ones. */
    static Hyperparams hyperparams(Rule rule, List<String> args) {
        return overridden(rule, rule.defaults(), args);
    }

    /** {@code base} with each {@code NAME=VALUE} applied, checked as {@link #hyperparams(Rule, List)} does ({@code train} parses its --hp so too). */
    public static Hyperparams overridden(Rule rule, Hyperparams base, List<String> args) {
        Hyperparams hp = base;
        Set<String> seen = new HashSet<>();
        for (String a : args) {
            int eq = a.indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("--hp '" + a + "' is not NAME=VALUE (e.g. --hp eta=0.01)");
            String name = a.substring(0, eq).strip();
            if (!seen.add(name)) throw new IllegalArgumentException("--hp " + name + " is given more than once");
            hp = hp.with(name, a.substring(eq + 1));
        }
        StepChecks.checkHyperparams(rule, hp);
        return hp;
    }

    private void checkOut() {
        Path abs = out.toAbsolutePath();
        if (Files.isDirectory(abs)) throw new IllegalArgumentException("--out " + out + " is a directory");
        Path dir = abs.getParent();
        if (dir == null || !Files.isDirectory(dir)) throw new IllegalArgumentException("--out " + out + ": directory " + dir + " does not exist");
        // The output replaces its target on success: never let it replace an input the user still needs.
        if (params != null && sameFile(abs, params)) throw new IllegalArgumentException("--out " + out + " is the --params file; write the output elsewhere");
        if (resume != null && sameFile(abs, resume)) throw new IllegalArgumentException("--out " + out + " is the --resume checkpoint; write the output elsewhere");
        if (sameFile(abs, updates)) throw new IllegalArgumentException("--out " + out + " is the --updates file; write the output elsewhere");
    }

    /** Whether {@code out} names {@code input}'s file (the same path, or a link to it). */
    private static boolean sameFile(Path out, Path input) {
        if (out.normalize().equals(input.toAbsolutePath().normalize())) return true;
        try {
            return Files.exists(out) && Files.exists(input) && Files.isSameFile(out, input);
        } catch (IOException e) {
            return false;  // unreadable: reading the input reports it
        }
    }

    /**
     * The state of {@code group}'s params in the resumed checkpoint: the rule's slots and, for 16-bit
     * params, {@code master} from {@code state/master/<name>}; views of the checkpoint's tensors (the bind copies them).
     */
    private OptState groupState(Checkpoint ck, Rule rule, ParamSet group, boolean sixteen) {
        Map<String, ParamSet> slots = new LinkedHashMap<>();
        for (String slot : rule.slots()) slots.put(slot, subset(ck.state().slot(slot), group, "state/" + slot + "/"));
        if (sixteen) slots.put(MasterWeights.MASTER, subset(ck.master(), group, "state/master/"));
        return new OptState(rule.name(), slots, ck.state().step());
    }

    private ParamSet subset(ParamSet from, ParamSet group, String prefix) {
        List<Tensor> ts = new ArrayList<>();
        for (Tensor p : group) {
            Tensor t = from.find(p.name());
            if (t == null) throw new IllegalArgumentException(resume + ": param '" + p.name() + "' is stored 16-bit"
                    + " but the checkpoint has no '" + prefix + p.name() + "' (its float32 master weights)");
            ts.add(t);
        }
        return new ParamSet(ts);
    }

    /** The params stored as BF16 or F16 in {@code --params}, by name (F32 ones left out): found by {@link #readParams}. */
    private Map<String, String> paramDtypes = Map.of();

    private ParamSet readParams() {
        try (SafetensorsReader r = Safetensors.open(params)) {
            Map<String, String> d = new LinkedHashMap<>();
            for (Safetensors.Entry e : r.entries()) if (!e.dtype().equals("F32")) d.put(e.name(), e.dtype());
            paramDtypes = d;
            ParamSet p = r.loadAll();
            if (p.size() == 0) {
                p.close();
                throw new IllegalArgumentException("params file " + params + " holds no tensors");
            }
            return p;
        } catch (IOException e) {
            throw inputError("params", params, e);
        }
    }

    private SafetensorsReader openUpdates() {
        try {
            return Safetensors.open(updates);
        } catch (IOException e) {
            throw inputError("updates", updates, e);
        }
    }

    private static IllegalArgumentException inputError(String what, Path file, IOException e) {
        if (e instanceof SafetensorsException) return new IllegalArgumentException(e.getMessage(), e);
        if (e instanceof NoSuchFileException) return new IllegalArgumentException(what + " file " + file + " does not exist", e);
        if (Files.isDirectory(file)) return new IllegalArgumentException(what + " file " + file + " is a directory", e);
        return new IllegalArgumentException("cannot read " + what + " file " + file + ": " + e, e);
    }

    /** Checks that the updates match the params one to one, as [steps, *shape]; returns steps. */
    private long checkTrajectory(ParamSet initial, SafetensorsReader u) {
        for (Safetensors.Entry e : u.entries()) {
            if (initial.find(e.name()) == null) {
                throw new IllegalArgumentException("update tensor '" + e.name() + "' in " + updates + " has no param in " + params
                        + " (params: " + initial.names() + ")");
            }
        }
        long steps = -1;
        String first = null;
        for (Tensor p : initial) {
            if (p.name().startsWith(Checkpoint.STATE_PREFIX)) {
                throw new IllegalArgumentException("param '" + p.name() + "' in " + params + ": names starting with '"
                        + Checkpoint.STATE_PREFIX + "' are reserved for the optimizer state in the output");
            }
            Safetensors.Entry e = u.find(p.name());
            if (e == null) throw new IllegalArgumentException("param '" + p.name() + "' has no update tensor in " + updates);
            long[] want = p.shape();
            long[] got = e.shape();
            if (got.length != want.length + 1 || !Arrays.equals(Arrays.copyOfRange(got, 1, got.length), want)) {
                throw new IllegalArgumentException("update tensor '" + p.name() + "' has shape " + Arrays.toString(got)
                        + " but param '" + p.name() + "' has shape " + Arrays.toString(want) + ", so it must be [steps"
                        + (want.length == 0 ? "]" : ", " + Arrays.toString(want).substring(1)));
            }
            if (steps < 0) {
                steps = got[0];
                first = p.name();
            } else if (got[0] != steps) {
                throw new IllegalArgumentException("update tensor '" + p.name() + "' has " + got[0] + " steps but '" + first
                        + "' has " + steps);
            }
        }
        return steps;
    }

    private void save(ParamSet last, OptState state, Hyperparams hp) throws IOException {
        try {
            Checkpoint.save(out, last, state, hp);
        } catch (IOException e) {
            throw new IOException("cannot write " + out + ": " + e, e);
        }
    }
}
