package io.nag4j.core.rule;

import io.nag4j.core.ir.Kernel;

import java.util.List;

/**
 * An elementwise optimizer update rule, written once in Java over symbolic values (optax's
 * {@code update}, traced as JAX traces). Every backend runs the {@link Kernel} it traces to.
 *
 * <p>A rule declares its state slots (zero at init), its hyperparameters with defaults (kernel
 * arguments, so a schedule never recompiles), and per-step host values: scalars computed on
 * the host from the step counter and the hyperparameters, rounded once to float32 and passed
 * to the kernel, so every backend sees the same bits.
 */
public interface Rule {
    /** Lower-case name, as in {@code --optimizer NAME}. */
    String name();

    /** State slot names, each a tensor per param, zero at init. */
    List<String> slots();

    /** Hyperparameter names and default values, in kernel-argument order. */
    Hyperparams defaults();

    /** Names of the per-step host values, in kernel-argument order (after the hyperparameters). */
    default List<String> hostValueNames() { return List.of(); }

    /** The host values for step {@code t} (1 on the first step), in {@link #hostValueNames()} order. */
    default float[] hostValues(long t, Hyperparams hp) { return new float[0]; }

    /** Rule-specific checks of hyperparameter values (beyond finiteness); throw IllegalArgumentException. */
    default void validate(Hyperparams hp) {}

    /** The element rule: read inputs from {@code t}, set the new param and every slot. */
    void update(Trace t);

    /** The traced kernel. */
    default Kernel kernel() { return Trace.of(this); }

    /** Kernel scalar arguments for step {@code t}: hyperparameters in order, then host values. */
    default float[] scalars(long t, Hyperparams hp) {
        float[] h = hp.toArray();
        float[] host = hostValues(t, hp);
        float[] all = new float[h.length + host.length];
        System.arraycopy(h, 0, all, 0, h.length);
        System.arraycopy(host, 0, all, h.length, host.length);
        return all;
    }
}
