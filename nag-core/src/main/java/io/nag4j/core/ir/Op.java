package io.nag4j.core.ir;

/**
 * The closed set of elementwise float32 operations. Every value in a kernel is a float32;
 * comparisons give {@code 1.0f} or {@code +0.0f}, and {@link #SELECT} takes any float as its
 * condition (true when {@code c != 0}, so NaN counts as true).
 *
 * <p>{@link #eval} is the IEEE meaning of each op, written once: round-to-nearest-even on
 * every op, subnormals kept, no contraction. Every backend is held against it bit for bit.
 * A renderer lowers ops with an exhaustive {@code switch}, so a new op that a target forgets
 * is a compile error.
 */
public enum Op {
    ADD(2, "add"), SUB(2, "sub"), MUL(2, "mul"), DIV(2, "div"),
    NEG(1, "neg"), SQRT(1, "sqrt"), ABS(1, "abs"),
    /** Java's {@code Math.min}: NaN if either is NaN, and -0 below +0. */
    MIN(2, "min"),
    /** Java's {@code Math.max}: NaN if either is NaN, and +0 above -0. */
    MAX(2, "max"),
    /** {@code a*b + c} with one rounding (explicit only: nothing else is ever fused). */
    FMA(3, "fma"),
    LT(2, "lt"), LE(2, "le"), GT(2, "gt"), GE(2, "ge"), EQ(2, "eq"), NE(2, "ne"),
    /** {@code c != 0 ? a : b}, arguments (c, a, b). */
    SELECT(3, "select"),
    /** Rounded to the nearest bfloat16, ties to even, as a float32 ({@link Narrowing#bf16}: its exact integer definition). */
    BF16(1, "bf16"),
    /** Rounded to the nearest float16, ties to even, subnormals kept, as a float32 ({@link Narrowing#f16}). */
    F16(1, "f16"),
    /**
     * {@code x} rounded stochastically to bfloat16 with the uniform {@code u} in [0, 1): toward
     * zero, then one ulp away from zero when {@code u} is below the discarded fraction
     * ({@link Narrowing#bf16Stochastic}), arguments (x, u).
     */
    BF16_SR(2, "bf16_sr"),
    /** As {@link #BF16_SR} to float16, subnormals kept ({@link Narrowing#f16Stochastic}), arguments (x, u). */
    F16_SR(2, "f16_sr"),
    /**
     * A uniform float32 in [0, 1) with 24 random bits, from the counter-based generator
     * {@link Philox} keyed by seed, step, tensor index and element index: the only op that reads
     * where the element is. Arguments (word, seed0, seed1, seed2, seed3, step0, step1): the
     * constant word (0..3) of Philox's output, then the seed's and step's 16-bit pieces, low
     * first, each an integer float (the binding's host values; {@link Kernel#RANDOM_SCALARS}).
     */
    RANDOM(7, "random");

    private final int arity;
    private final String mnemonic;

    Op(int arity, String mnemonic) {
        this.arity = arity;
        this.mnemonic = mnemonic;
    }

    public int arity() { return arity; }

    /** Lower-case name used by the IR printer. */
    public String mnemonic() { return mnemonic; }

    public boolean isComparison() {
        return switch (this) {
            case LT, LE, GT, GE, EQ, NE -> true;
            default -> false;
        };
    }

    /** Whether the op rounds to a 16-bit type (nearest or stochastically). */
    public boolean isNarrowing() {
        return switch (this) {
            case BF16, F16, BF16_SR, F16_SR -> true;
            default -> false;
        };
    }

    /** The float32 meaning of the op. Unused arguments are ignored; {@link #RANDOM} has none here (see {@link Evaluator}). */
    public float eval(float a, float b, float c) {
        return switch (this) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case NEG -> -a;
            // Correctly rounded: a double holds over 2*24+2 bits, so double rounding is harmless.
            case SQRT -> (float) Math.sqrt(a);
            case ABS -> Math.abs(a);
            case MIN -> Math.min(a, b);
            case MAX -> Math.max(a, b);
            case FMA -> Math.fma(a, b, c);
            case LT -> a < b ? 1f : 0f;
            case LE -> a <= b ? 1f : 0f;
            case GT -> a > b ? 1f : 0f;
            case GE -> a >= b ? 1f : 0f;
            case EQ -> a == b ? 1f : 0f;
            case NE -> a != b ? 1f : 0f;
            case SELECT -> a != 0f ? b : c;
            case BF16 -> Narrowing.bf16(a);
            case F16 -> Narrowing.f16(a);
            case BF16_SR -> Narrowing.bf16Stochastic(a, b);
            case F16_SR -> Narrowing.f16Stochastic(a, b);
            case RANDOM -> throw new UnsupportedOperationException("random depends on the element: Evaluator.evalElement with its tensor and element");
        };
    }
}
