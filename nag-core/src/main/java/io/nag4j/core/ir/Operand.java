package io.nag4j.core.ir;

/**
 * What an equation reads: a per-element input (a param, its update, or a state slot), a
 * runtime scalar (a hyperparameter or a per-step host value), an exact float32 constant,
 * or the result of an earlier equation.
 */
public sealed interface Operand {
    /** Element input number {@code index} of {@link Kernel#inputs()}. */
    record Input(int index) implements Operand {}

    /** Scalar argument number {@code index} of {@link Kernel#scalars()}. */
    record Scalar(int index) implements Operand {}

    /** A constant, held as its exact bit pattern. */
    record Const(int bits) implements Operand {
        public float value() { return Float.intBitsToFloat(bits); }
    }

    /** The result of equation {@code id} (equations are numbered in order from 0). */
    record Var(int id) implements Operand {}
}
