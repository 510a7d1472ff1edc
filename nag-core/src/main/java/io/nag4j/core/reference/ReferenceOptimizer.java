package io.nag4j.core.reference;

import io.nag4j.core.optim.OptState;
import io.nag4j.core.optim.Optimizer;
import io.nag4j.core.optim.StepChecks;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;

/**
 * Base of the hand-written plain-Java optimizers: the oracles every backend is tested against.
 * They share only the rule's metadata (name, slots, defaults) and the input checks; the
 * arithmetic of each is written by hand, independently of the traced kernel.
 */
public abstract class ReferenceOptimizer implements Optimizer {
    protected final Rule rule;
    private final Hyperparams hp;

    protected ReferenceOptimizer(Rule rule, Hyperparams hp) {
        this.rule = rule;
        StepChecks.checkHyperparams(rule, hp);
        this.hp = hp;
    }

    @Override public String name() { return rule.name(); }

    @Override public Hyperparams hyperparams() { return hp; }

    @Override
    public OptState init(ParamSet params) {
        return OptState.zeros(rule.name(), rule.slots(), params);
    }

    @Override
    public final void step(OptState state, ParamSet params, ParamSet updates, Hyperparams hp) {
        StepChecks.check(rule, state, params, updates, hp);
        long t = state.step() + 1;
        for (Tensor[] g : StepChecks.groups(rule, state, params, updates)) stepTensor(g, t, hp);
        state.setStep(t);
    }

    /** Updates one param: {@code g} holds param, update, then the slots in the rule's order. */
    protected abstract void stepTensor(Tensor[] g, long t, Hyperparams hp);

    /** The reference optimizer for a built-in rule, with the given hyperparameters. */
    public static Optimizer forRule(String name, Hyperparams hp) {
        return switch (name) {
            case "nag" -> new NagReference(hp);
            case "sgd" -> new SgdReference(hp);
            case "adam" -> new AdamReference(hp);
            case "momentum" -> new MomentumReference(hp);
            case "adamw" -> new AdamWReference(hp);
            case "rmsprop" -> new RmsPropReference(hp);
            case "adagrad" -> new AdagradReference(hp);
            default -> throw new IllegalArgumentException("no reference optimizer for '" + name + "'");
        };
    }
}
