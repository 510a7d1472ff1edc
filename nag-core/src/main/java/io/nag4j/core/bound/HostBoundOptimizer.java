package io.nag4j.core.bound;

import io.nag4j.core.cpu.CpuBackend;
import io.nag4j.core.optim.EvaluatorExecutor;
import io.nag4j.core.optim.KernelOptimizer;
import io.nag4j.core.optim.Mode;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.reference.ReferenceOptimizer;
import io.nag4j.core.optim.StepChecks;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.optim.Optimizer;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A host optimizer (CPU backend or reference) bound to its own copy of the params. CPU-only users
 * bind here without nag-gpu: {@link #cpu} and {@link #reference} are what {@code Backends.bind("cpu", ...)}
 * and {@code Backends.bind("reference", ...)} return.
 */
public final class HostBoundOptimizer implements BoundOptimizer {
    /**
     * {@code rule} on the process-wide {@link CpuBackend}, in {@code mode} (FAST: the fused kernels),
     * bound to copies of {@code params} and {@code state} (null for a fresh state).
     */
    public static HostBoundOptimizer cpu(Rule rule, Hyperparams hp, ParamSet params, OptState state, Mode mode) {
        return new HostBoundOptimizer(rule, hostOptimizer("cpu", rule, hp, mode), "cpu", params, state);
    }

    /**
     * The oracle: in EXACT mode the hand-written reference optimizer of a built-in rule; in FAST
     * mode (which no hand-written code mirrors) the {@link EvaluatorExecutor} on the fused kernels.
     */
    public static HostBoundOptimizer reference(Rule rule, Hyperparams hp, ParamSet params, OptState state, Mode mode) {
        return new HostBoundOptimizer(rule, hostOptimizer("reference", rule, hp, mode), "reference", params, state);
    }

    /**
     * The unbound optimizer behind {@link #cpu} ({@code "cpu"}) or {@link #reference} ({@code "reference"}),
     * for a caller that steps tensors it owns in place (another library's weights, say) instead of
     * this class's copies. A user-written rule's reference is the {@link EvaluatorExecutor} on its kernel.
     */
    public static Optimizer hostOptimizer(String backend, Rule rule, Hyperparams hp, Mode mode) {
        if (backend.equals("reference") && rule instanceof io.nag4j.core.rule.MasterWeights mw) {
            return new io.nag4j.core.reference.MasterWeightsReference(mw, hostOptimizer(backend, mw.base(), hp, mode));
        }
        return switch (backend) {
            case "cpu" -> new KernelOptimizer(rule, hp, CpuBackend.shared(), mode);
            case "reference" -> mode == Mode.FAST || !io.nag4j.core.rule.Rules.all().contains(rule)
                    ? new KernelOptimizer(rule, hp, EvaluatorExecutor.INSTANCE, mode)
                    : ReferenceOptimizer.forRule(rule.name(), hp);
            default -> throw new IllegalArgumentException("'" + backend + "' is not a host backend (cpu or reference)");
        };
    }

    private final Rule rule;
    private final int structure;
    private final Optimizer optimizer;
    private final String where;
    private final ParamSet params;
    private final OptState state;
    private Hyperparams lastCheckedHp;
    private volatile boolean closed;
    private Hyperparams lastStepHp;

    /** Copies {@code initial}; the caller keeps ownership of it. */
    public HostBoundOptimizer(Rule rule, Optimizer optimizer, String where, ParamSet initial) {
        this(rule, optimizer, where, initial, null);
    }

    /**
     * Binds {@code optimizer} (running {@code rule}) to copies of {@code initial} and
     * {@code initialState} (a resumed checkpoint). Its flags are fixed from here on, as on a device.
     */
    public HostBoundOptimizer(Rule rule, Optimizer optimizer, String where, ParamSet initial, OptState initialState) {
        if (rule instanceof io.nag4j.core.rule.MasterWeights mw) StepChecks.checkSixteenBitParams(mw, initial); // as every device binding refuses them
        this.rule = rule;
        this.structure = rule.structure(optimizer.hyperparams());
        this.optimizer = optimizer;
        this.where = where;
        this.params = initial.copy();
        this.state = initialState == null ? optimizer.init(params) : copy(initialState);
    }

    @Override public String where() { return where; }

    @Override public Hyperparams hyperparams() { return optimizer.hyperparams(); }

    @Override public Hyperparams lastStepHyperparams() { return lastStepHp != null ? lastStepHp : optimizer.hyperparams(); }

    @Override
    public synchronized void step(ParamSet updates, Hyperparams hp) {
        checkOpen();
        if (hp != lastCheckedHp) { // immutable: the same object again needs no second check
            StepChecks.checkHyperparams(rule, optimizer.hyperparams(), hp);
            StepChecks.checkStructure(rule, structure, hp, where);
            lastCheckedHp = hp;
        }
        optimizer.step(state, params, updates, hp);
        lastStepHp = hp;
    }

    @Override
    public synchronized ParamSet readParams() {
        checkOpen();
        return params.copy();
    }

    @Override
    public synchronized void readParamsInto(ParamSet dst) {
        checkOpen();
        params.checkCompatible(dst, "the destination");
        for (int i = 0; i < params.size(); i++) dst.get(i).copyFrom(params.get(i));
    }

    @Override
    public synchronized void readParamInto(String name, Tensor dst) {
        checkOpen();
        Tensor src = params.get(name);
        if (dst == null || !src.sameShape(dst)) {
            throw new IllegalArgumentException("the destination for param '" + name + "' must have its shape " + java.util.Arrays.toString(src.shape())
                    + (dst == null ? ", got null" : ", has " + java.util.Arrays.toString(dst.shape())));
        }
        dst.copyFrom(src);
    }

    @Override
    public synchronized OptState readState() {
        checkOpen();
        return copy(state);
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("the optimizer on " + where + " is closed");
    }

    /** A deep copy of {@code s} (every slot's tensors, the step), owned by the caller. */
    public static OptState copy(OptState s) {
        Map<String, ParamSet> slots = new LinkedHashMap<>();
        s.slots().forEach((k, v) -> slots.put(k, v.copy()));
        return new OptState(s.optimizer(), slots, s.step());
    }

    @Override
    public synchronized void close() {
        closed = true;
        params.close();
        state.close();
    }
}
