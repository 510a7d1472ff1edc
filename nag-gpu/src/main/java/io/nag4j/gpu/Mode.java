package io.nag4j.gpu;

/**
 * How a renderer may treat float32 arithmetic. One choice, made above every target.
 */
public enum Mode {
    /** Bitwise identical to the CPU reference: no contraction, no flush-to-zero, IEEE rounding on every op. */
    EXACT,
    /** May contract a*b+c into fma and use the target's fast paths; its error bound is stated in docs/numerics.md. */
    FAST
}
