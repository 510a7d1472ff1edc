package io.nag4j.core.optim;

import io.nag4j.core.ir.Kernel;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.tensor.ParamSet;

/** An optimizer that runs a rule's traced kernel on a host {@link KernelExecutor}. */
public final class KernelOptimizer implements Optimizer {
    private final Rule rule;
    private final Kernel kernel;
    private final Hyperparams hp;
    private final KernelExecutor executor;

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
        if (params == null) throw new IllegalArgumentException("params are null");
        params.checkCompatible(params, "params");
        return OptState.zeros(rule.name(), rule.slots(), params);
    }

    @Override
    public void step(OptState state, ParamSet params, ParamSet updates, Hyperparams hp) {
        StepChecks.check(rule, state, params, updates, hp);
        long t = state.step() + 1;
        executor.execute(kernel, StepChecks.groups(rule, state, params, updates), rule.scalars(t, hp));
        state.setStep(t);
    }
}
