package io.nag4j.core.rule;

import java.util.Locale;

/**
 * How {@link MasterWeights} rounds the float32 master to its 16-bit param: to nearest (ties to
 * even), or stochastically with random bits keyed by {@code seed}, the step, the tensor's index
 * and the element's index ({@link io.nag4j.core.ir.Philox}), so every backend rounds the same.
 *
 * @param stochastic whether it rounds stochastically
 * @param seed       the generator's key (0 when rounding to nearest)
 */
public record Rounding(boolean stochastic, long seed) {
    public static final Rounding NEAREST = new Rounding(false, 0);

    public Rounding {
        if (!stochastic && seed != 0) throw new IllegalArgumentException("rounding to nearest takes no seed, got " + seed);
    }

    public static Rounding stochastic(long seed) { return new Rounding(true, seed); }

    /** {@code "nearest"} or {@code "stochastic"} (any case), the latter with {@code seed}. */
    public static Rounding of(String name, long seed) {
        return switch (name == null ? "" : name.strip().toLowerCase(Locale.ROOT)) {
            case "nearest" -> NEAREST;
            case "stochastic" -> stochastic(seed);
            default -> throw new IllegalArgumentException("rounding must be nearest or stochastic, got '" + name + "'");
        };
    }

    /** {@code nearest} or {@code stochastic}. */
    public String kind() { return stochastic ? "stochastic" : "nearest"; }

    @Override public String toString() { return stochastic ? "stochastic (seed " + seed + ")" : "nearest"; }
}
