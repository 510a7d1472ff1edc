package io.nag4j.core.rule;

import java.util.List;

/**
 * Plain SGD as ngc-learn's {@code sgd.py}: {@code param' = param - update * eta}, two ops, each
 * rounded to float32. Default {@code eta = 0.001}. No state.
 */
public final class Sgd implements Rule {
    public static final Sgd INSTANCE = new Sgd();
    /** Immutable, so built once: a step compares against it without allocating. */
    private static final Hyperparams DEFAULTS = Hyperparams.of("eta", 0.001f);

    @Override public String name() { return "sgd"; }
    @Override public List<String> slots() { return List.of(); }
    @Override public Hyperparams defaults() { return DEFAULTS; }

    @Override
    public void update(Trace x) {
        x.setParam(x.param().sub(x.update().mul(x.hyper("eta"))));
    }
}
