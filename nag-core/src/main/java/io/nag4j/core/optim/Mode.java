package io.nag4j.core.optim;

import io.nag4j.core.ir.Fusion;
import io.nag4j.core.ir.Kernel;

/**
 * How a traced kernel becomes float32 arithmetic, one choice made above every target. Both modes
 * are bitwise reproducible across backends: a backend runs {@link #kernel(Kernel)} with IEEE
 * round-to-nearest on every op, no flush-to-zero, no contraction of its own and FMA as one
 * correctly rounded operation, so it gives the bits of the {@link io.nag4j.core.ir.Evaluator} on
 * that kernel.
 */
public enum Mode {
    /** The traced kernel as written: bitwise identical to the CPU reference optimizers. */
    EXACT,
    /**
     * Multiply-adds fused into FMA by one IR pass ({@link Fusion#fuse}): one rounding instead of two
     * where a MUL feeds an ADD or SUB, so bits differ from EXACT within the bound in
     * docs/numerics.md, and are the same on every backend.
     */
    FAST;

    /** The kernel a backend runs for {@code traced} in this mode. */
    public Kernel kernel(Kernel traced) {
        return this == FAST ? Fusion.fuse(traced) : traced;
    }
}
