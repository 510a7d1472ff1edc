package io.nag4j.core.optim;

import io.nag4j.core.ir.Kernel;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;

import java.util.List;

/** An optimizer that runs a rule's traced kernel on a host {@link KernelExecutor}. */
public final class KernelOptimizer implements Optimizer {
    private final Rule rule;
    private final Kernel kernel;
    private final Hyperparams hp;
    private final KernelExecutor executor;
    /** The inputs of the last step and their kernel groups: a training loop passes the same objects every step. */
    private volatile Bound last;

    private record Bound(OptState state, ParamSet params, ParamSet updates, List<Tensor[]> groups) {}

    public KernelOptimizer(Rule rule, Hyperparams hp, KernelExecutor executor) {
        this.rule = rule;
        this.kernel = rule.kernel();
        StepChecks.checkHyperparams(rule, hp);
        this.hp = hp;
        this.executor = executor;
    }

    public Rule rule() { return rule; }

    public Kernel kernel() { return kernel; }

    public KernelExecutor executor() { return executor; }

    @Override public String name() { return rule.name(); }

    @Override public Hyperparams hyperparams() { return hp; }

    @Override
    public OptState init(ParamSet params) {
        return OptState.zeros(rule.name(), rule.slots(), params);
    }

    @Override
    public void step(OptState state, ParamSet params, ParamSet updates, Hyperparams hp) {
        Bound b = last;
        if (b != null && b.state == state && b.params == params && b.updates == updates) {
            // Same objects as the last step: their shapes, names and aliasing cannot have changed
            // (ParamSets and state slots are immutable lists), only closing and the hyperparameters can.
            StepChecks.checkHyperparams(rule, hp);
            StepChecks.checkOpen(b.groups);
            if (state.step() == Long.MAX_VALUE) throw new IllegalArgumentException("step counter is at its maximum");
        } else {
            StepChecks.check(rule, state, params, updates, hp);
            b = new Bound(state, params, updates, StepChecks.groups(rule, state, params, updates));
            last = b;
        }
        long t = state.step() + 1;
        executor.execute(kernel, b.groups, rule.scalars(t, hp));
        state.setStep(t);
    }
}
