package io.nag4j.core.optim;

import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.tensor.ParamSet;

/**
 * An optimizer, as optax has it: {@link #init} makes the state, {@link #step} applies one
 * update to params and state in place (the seed's {@code nag_init} / {@code nag_step}).
 *
 * <p>Hyperparameters may change from step to step: pass them to
 * {@link #step(OptState, ParamSet, ParamSet, Hyperparams)}. Bad input (mismatched shapes or
 * counts, null, closed tensors, non-finite or unknown hyperparameters) throws
 * {@link IllegalArgumentException} naming the culprit, and a failed step changes nothing.
 */
public interface Optimizer {
    /** The rule's name, as in {@code --optimizer NAME}. */
    String name();

    /** The hyperparameters used by {@link #step(OptState, ParamSet, ParamSet)}. */
    Hyperparams hyperparams();

    OptState init(ParamSet params);

    /** One step with the given hyperparameters. */
    void step(OptState state, ParamSet params, ParamSet updates, Hyperparams hp);

    /** One step with {@link #hyperparams()}. */
    default void step(OptState state, ParamSet params, ParamSet updates) {
        step(state, params, updates, hyperparams());
    }
}
