package io.nag4j.core.rule;

import io.nag4j.core.ir.Kernel;

import java.util.List;
import java.util.Objects;

/**
 * An elementwise optimizer update rule, written once in Java over symbolic values (optax's
 * {@code update}, traced as JAX traces). Every backend runs the {@link Kernel} it traces to.
 *
 * <p>A rule declares its state slots (zero at init), its hyperparameters with defaults (kernel
 * arguments, so a schedule never recompiles), and per-step host values: scalars computed on
 * the host from the step counter and the hyperparameters, rounded once to float32 and passed
 * to the kernel, so every backend sees the same bits.
 *
 * <p>A rule may also declare {@link #flags() flags}: structural choices computed from the
 * hyperparameters (PyTorch's Python-level {@code if}s, such as RMSprop's {@code centered}).
 * The trace reads them as Java booleans ({@link Trace#flag}), so each combination is its own
 * kernel, and a slot the chosen kernel never touches is not streamed at all.
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

    /**
     * Writes the host values for step {@code t} (1 on the first step) into {@code out}, one per
     * {@link #hostValueNames() name}, in that order. Called every step: it should not allocate.
     */
    default void hostValues(long t, Hyperparams hp, float[] out) {
        if (!hostValueNames().isEmpty()) {
            throw new IllegalStateException("rule " + name() + " names host values " + hostValueNames()
                    + " but does not implement hostValues(long, Hyperparams, float[])");
        }
    }

    /**
     * A structural choice: whether hyperparameter {@code hyperparameter} passes {@code test},
     * fixed in the traced kernel. {@code example} is a value that turns it on (for benchmarks and
     * tests that run every configuration); 0 turns every built-in flag off.
     */
    record Flag(String hyperparameter, FloatTest test, float example) {
        public Flag {
            Objects.requireNonNull(hyperparameter, "flag hyperparameter");
            Objects.requireNonNull(test, "flag test");
            if (!test.test(example)) throw new IllegalArgumentException("flag " + hyperparameter + ": example " + example + " does not turn it on");
        }

        /** On when the hyperparameter is not zero (PyTorch's {@code if momentum != 0}). */
        public static Flag nonZero(String hyperparameter, float example) { return new Flag(hyperparameter, v -> v != 0f, example); }

        /** On when the hyperparameter is above zero (PyTorch's {@code if momentum > 0}). */
        public static Flag positive(String hyperparameter, float example) { return new Flag(hyperparameter, v -> v > 0f, example); }

        /** The flag's name: its hyperparameter's. */
        public String name() { return hyperparameter; }

        public boolean on(Hyperparams hp) { return test.test(hp.get(hyperparameter)); }
    }

    /** A test of one float, unboxed (a step evaluates it, and must not allocate). */
    @FunctionalInterface
    interface FloatTest {
        boolean test(float value);
    }

    /** The rule's flags (at most 16), in a fixed order; none by default. */
    default List<Flag> flags() { return List.of(); }

    /** Which flags are on for {@code hp}, bit {@code i} for flag {@code i}: the kernel's key. Allocates nothing. */
    default int structure(Hyperparams hp) {
        List<Flag> flags = flags();
        int bits = 0;
        for (int i = 0; i < flags.size(); i++) if (flags.get(i).on(hp)) bits |= 1 << i;
        return bits;
    }

    /** The names of the flags on in {@code structure}, for messages. */
    default List<String> flagsOn(int structure) {
        List<Flag> flags = flags();
        java.util.ArrayList<String> on = new java.util.ArrayList<>();
        for (int i = 0; i < flags.size(); i++) if ((structure & 1 << i) != 0) on.add(flags.get(i).name());
        return on;
    }

    /** Rule-specific checks of hyperparameter values (beyond finiteness); throw IllegalArgumentException. */
    default void validate(Hyperparams hp) {}

    /** The element rule: read inputs from {@code t}, set the new param and every slot. */
    void update(Trace t);

    /** The kernel traced for the default hyperparameters' flags. */
    default Kernel kernel() { return Trace.of(this, defaults()); }

    /** The kernel traced for the flags {@code hp} turns on (see {@link #flags()}). */
    default Kernel kernel(Hyperparams hp) { return Trace.of(this, hp); }

    /** Kernel scalar arguments for step {@code t}: hyperparameters in order, then host values. */
    default float[] scalars(long t, Hyperparams hp) {
        return scalars(t, hp, new float[hp.size() + hostValueNames().size()], new float[hostValueNames().size()]);
    }

    /**
     * As {@link #scalars(long, Hyperparams)}, into {@code out} (hyperparameters then host values)
     * through {@code hostScratch} (one float per host value): allocates nothing. Returns {@code out}.
     */
    default float[] scalars(long t, Hyperparams hp, float[] out, float[] hostScratch) {
        int n = hp.copyTo(out);
        hostValues(t, hp, hostScratch);
        System.arraycopy(hostScratch, 0, out, n, hostScratch.length);
        return out;
    }
}
