package io.nag4j.bench.train;

import java.util.Locale;

/**
 * A learning-rate schedule: the factor the base learning rate is multiplied by at step {@code t}
 * (1 for the first), computed in double and rounded once to float32 with the product, so every
 * backend (and a resumed run) gets the same bits. A linear warm-up over the first {@code warmup}
 * steps, then {@code constant} (1), {@code cosine} (from 1 to 0 over the remaining steps) or
 * {@code step} (0.1 after each third of the remaining steps).
 */
public record Schedule(String kind, long warmup, long steps) {
    public Schedule {
        kind = kind == null ? "" : kind.strip().toLowerCase(Locale.ROOT);
        if (!kind.equals("constant") && !kind.equals("cosine") && !kind.equals("step")) {
            throw new IllegalArgumentException("unknown schedule '" + kind + "'; known: constant, cosine, step");
        }
        if (warmup < 0 || warmup >= Math.max(1, steps)) throw new IllegalArgumentException("--warmup must be in [0, steps), got " + warmup);
    }

    public double factor(long t) {
        if (t <= warmup) return (double) t / (warmup + 1);
        long span = Math.max(1, steps - warmup);
        double progress = Math.min(1.0, (double) (t - warmup - 1) / span);
        return switch (kind) {
            case "cosine" -> 0.5 * (1 + StrictMath.cos(StrictMath.PI * progress));
            case "step" -> StrictMath.pow(0.1, Math.floor(progress * 3));
            default -> 1.0;
        };
    }

    /** {@code base} times the factor of step {@code t}, rounded once to float32. */
    public float value(float base, long t) { return (float) (base * factor(t)); }
}
