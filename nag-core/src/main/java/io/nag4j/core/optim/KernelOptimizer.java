package io.nag4j.core.optim;

import io.nag4j.core.ir.Kernel;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;

import java.util.List;

/**
 * An optimizer that runs a rule's traced kernel on a host {@link KernelExecutor}.
 *
 * <p>Each combination of the rule's {@link Rule#flags() flags} is its own kernel, traced on first
 * use, so changing a flag between steps (RMSprop's {@code centered}, say) is allowed here. A
 * training loop passes the same state, params and updates every step; for those the step reuses
 * its checks and its prepared launch and allocates nothing. A step with the same
 * {@link Hyperparams} object as the step before skips re-checking them (they are immutable).
 */
public final class KernelOptimizer implements Optimizer {
    private final Rule rule;
    private final Hyperparams hp;
    private final KernelExecutor executor;
    private final Mode mode;
    /** Kernels by {@link Rule#structure}, traced on first use. */
    private final Kernel[] kernels;
    /**
     * The inputs of recent steps, each with its kernel and launch: a training loop passes the same
     * objects every step (or a few sets in turn, one per parameter group), so a step finds its own.
     */
    private final Bound[] recent = new Bound[4];
    private int nextSlot;

    /** One step's binding; {@code hp} is the last hyperparameters checked for it. Its scratch arrays make a step allocation-free. */
    private static final class Bound {
        final OptState state;
        final ParamSet params, updates;
        final int structure;
        final Kernel kernel;
        final List<Tensor[]> groups;
        final KernelExecutor.Launch launch;
        final float[] scalars, host;
        Hyperparams hp;

        Bound(OptState state, ParamSet params, ParamSet updates, Hyperparams hp, int structure, Kernel kernel, KernelExecutor executor) {
            this.state = state;
            this.params = params;
            this.updates = updates;
            this.hp = hp;
            this.structure = structure;
            this.kernel = kernel;
            this.groups = StepChecks.groups(kernel.slots(), state, params, updates);
            this.launch = executor.prepare(kernel, groups);
            this.scalars = new float[kernel.scalars().size()];
            this.host = new float[kernel.scalars().size() - hp.size()];
        }

        boolean sameInputs(OptState s, ParamSet p, ParamSet u) { return state == s && params == p && updates == u; }
    }

    /** Runs {@code rule}'s EXACT kernels on {@code executor}. */
    public KernelOptimizer(Rule rule, Hyperparams hp, KernelExecutor executor) {
        this(rule, hp, executor, Mode.EXACT);
    }

    /** Runs {@code rule}'s kernels in {@code mode} ({@link Mode#kernel}: FAST's are fused) on {@code executor}. */
    public KernelOptimizer(Rule rule, Hyperparams hp, KernelExecutor executor, Mode mode) {
        this.rule = rule;
        StepChecks.checkHyperparams(rule, hp);
        this.hp = hp;
        this.executor = executor;
        this.mode = java.util.Objects.requireNonNull(mode, "mode");
        this.kernels = new Kernel[1 << rule.flags().size()];
        kernelFor(rule.structure(hp), hp);
    }

    public Rule rule() { return rule; }

    /** The kernel (in this optimizer's mode) for its own hyperparameters. */
    public Kernel kernel() { return kernelFor(rule.structure(hp), hp); }

    /** The kernel for {@code hp}'s flags. */
    public Kernel kernel(Hyperparams hp) {
        StepChecks.checkHyperparams(rule, hp);
        return kernelFor(rule.structure(hp), hp);
    }

    private Kernel kernelFor(int structure, Hyperparams hp) {
        Kernel k = kernels[structure];
        if (k == null) kernels[structure] = k = mode.kernel(rule.kernel(hp)); // a race traces twice, harmlessly: same kernel
        return k;
    }

    public KernelExecutor executor() { return executor; }

    /** EXACT or FAST. */
    public Mode mode() { return mode; }

    @Override public String name() { return rule.name(); }

    @Override public Hyperparams hyperparams() { return hp; }

    @Override
    public OptState init(ParamSet params) {
        return OptState.fresh(rule, params);
    }

    @Override
    public void step(OptState state, ParamSet params, ParamSet updates, Hyperparams hp) {
        if (state == null) throw new IllegalArgumentException(rule.name() + " state is null");
        // Two threads stepping one state take turns (a step reads and writes it whole); different states run in parallel.
        synchronized (state) {
            stepLocked(state, params, updates, hp);
        }
    }

    private Bound find(OptState state, ParamSet params, ParamSet updates) {
        synchronized (recent) {
            for (Bound b : recent) if (b != null && b.sameInputs(state, params, updates)) return b;
        }
        return null;
    }

    /** Keeps {@code b} among the recent bindings, in place of {@code old} if given, else of the oldest. */
    private Bound remember(Bound old, Bound b) {
        synchronized (recent) {
            for (int i = 0; i < recent.length; i++) {
                if (old != null && recent[i] == old) {
                    recent[i] = b;
                    return b;
                }
            }
            recent[nextSlot] = b;
            nextSlot = (nextSlot + 1) % recent.length;
        }
        return b;
    }

    private void stepLocked(OptState state, ParamSet params, ParamSet updates, Hyperparams hp) {
        Bound b = find(state, params, updates);
        if (b != null) {
            // Same objects as the last step: their shapes, names and aliasing cannot have changed
            // (ParamSets and state slots are immutable lists), only closing and the hyperparameters can.
            if (hp != b.hp) {
                StepChecks.checkHyperparams(rule, this.hp, hp);
                int structure = rule.structure(hp);
                if (structure != b.structure) b = remember(b, new Bound(state, params, updates, hp, structure, kernelFor(structure, hp), executor));
                b.hp = hp;
            }
            StepChecks.checkOpen(b.groups);
            if (state.step() == Long.MAX_VALUE) throw new IllegalArgumentException("step counter is at its maximum");
        } else {
            StepChecks.check(rule, state, params, updates, hp);
            int structure = rule.structure(hp);
            b = remember(null, new Bound(state, params, updates, hp, structure, kernelFor(structure, hp), executor));
        }
        long t = state.step() + 1;
        b.launch.run(rule.scalars(t, hp, b.scalars, b.host));
        state.setStep(t);
    }
}
