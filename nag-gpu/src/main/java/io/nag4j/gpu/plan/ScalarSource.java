package io.nag4j.gpu.plan;

/**
 * The scalar kernel arguments of a task, asked for at every {@code execute()}: hyperparameters
 * then host values, in {@link io.nag4j.core.ir.Kernel#scalars()} order. Because they are asked
 * for per execution, a schedule can change them every step without recompiling.
 */
@FunctionalInterface
public interface ScalarSource {
    /** No scalars. */
    ScalarSource NONE = of();

    /** Fixed values (copied). */
    static ScalarSource of(float... values) {
        float[] v = values.clone();
        return () -> v;
    }

    /** The scalars for this execution; the runtime reads the array before {@code execute()} returns. */
    float[] scalars();
}
