package io.nag4j.bench.cli;

import io.nag4j.core.optim.OptState;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.plan.Backends;
import io.nag4j.core.bound.BoundOptimizer;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One backend against the hand-written reference, for one optimizer: the same random trajectory
 * (odd-shaped tensors, every kind of special value, a learning-rate schedule) on both, every param
 * and state value compared bit for bit (NaN by class) at checkpoints and at the end. Used by
 * {@code agree} and {@code bench}.
 */
public final class Agreement {
    private Agreement() {}

    /** The first value that differs: where, and both bit patterns. */
    public record Mismatch(int step, String what, String tensor, long index, int reference, int backend) {
        public String describe() {
            return String.format("step %d %s '%s' element %d: reference %08x (%s), backend %08x (%s)", step, what, tensor, index, reference,
                    Float.intBitsToFloat(reference), backend, Float.intBitsToFloat(backend));
        }
    }

    /**
     * What one run found. {@code maxUlp} is the largest distance between two compared values on
     * the ordered line of float bit patterns (0 when all agree; NaN against a number counts by its bits).
     */
    public record Outcome(String optimizer, String where, int steps, long elements, long compared, long differing, long maxUlp,
                          Mismatch first) {
        public double identicalFraction() { return compared == 0 ? 1.0 : (double) (compared - differing) / compared; }
    }

    /**
     * Runs {@code rule} with its defaults for {@code steps} steps on {@code backend} and on the
     * reference, both in {@code mode} (FAST's reference is the evaluator on the fused kernel).
     */
    public static Outcome run(String backend, Rule rule, Mode mode, int steps, int tensors, long seed) {
        return run(backend, rule, rule.defaults(), mode, steps, tensors, seed);
    }

    /** As {@link #run(String, Rule, Mode, int, int, long)} from hyperparameters {@code base} (and so their flags' kernel). */
    public static Outcome run(String backend, Rule rule, Hyperparams base, Mode mode, int steps, int tensors, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed ^ rule.name().hashCode());
        try (ParamSet params = roundedTo(rule, oddParams(rnd, tensors)); ParamSet updates = params.zerosLike("");
             BoundOptimizer ref = Backends.bind("reference", rule, base, params, null, mode);
             BoundOptimizer dev = Backends.bind(backend, rule, base, params, null, mode)) {
            Tally tally = new Tally();
            for (int s = 1; s <= steps; s++) {
                for (Tensor u : updates) for (long e = 0; e < u.size(); e++) u.set(e, value(rnd));
                // A schedule: the learning rate (every rule's first hyperparameter) changes each step.
                String lr = base.names().get(0);
                Hyperparams hp = base.with(lr, (float) (base.get(lr) * (1 + 0.5 * Math.sin(s))));
                ref.step(updates, hp);
                dev.step(updates, hp);
                if (s == 1 || s == 2 || s == steps || s % 25 == 0) compare(rule, s, ref, dev, tally);
            }
            return new Outcome(rule.name(), dev.where(), steps, params.totalSize(), tally.compared, tally.differing, tally.maxUlp, tally.first);
        }
    }

    /** {@code params} rounded in place to a {@link io.nag4j.core.rule.MasterWeights} rule's type (a 16-bit param holds a 16-bit value from the start); unchanged for other rules. */
    public static ParamSet roundedTo(Rule rule, ParamSet params) {
        if (rule instanceof io.nag4j.core.rule.MasterWeights mw) {
            for (Tensor t : params) for (long e = 0; e < t.size(); e++) t.set(e, mw.round(t.get(e)));
        }
        return params;
    }

    /** Running counts of one comparison or several. */
    public static final class Tally {
        long compared, differing, maxUlp;
        Mismatch first;

        /** The first value that differed (NaNs compare by class), or null. */
        public Mismatch first() { return first; }

        /** How many compared values differed. */
        public long differing() { return differing; }
    }

    /** Compares params and every slot of {@code ref} and {@code dev} after {@code step}, into {@code tally}. */
    public static void compare(Rule rule, int step, BoundOptimizer ref, BoundOptimizer dev, Tally tally) {
        try (ParamSet rp = ref.readParams(); ParamSet dp = dev.readParams(); OptState rs = ref.readState(); OptState ds = dev.readState()) {
            List<ParamSet[]> pairs = new ArrayList<>();
            pairs.add(new ParamSet[] {rp, dp});
            List<String> what = new ArrayList<>(List.of("param"));
            for (String slot : rule.slots()) {
                pairs.add(new ParamSet[] {rs.slot(slot), ds.slot(slot)});
                what.add("state/" + slot);
            }
            for (int k = 0; k < pairs.size(); k++) compare(step, what.get(k), pairs.get(k)[0], pairs.get(k)[1], tally);
        }
    }

    /**
     * Compares {@code other} with {@code reference} tensor by tensor (the same names and shapes),
     * bit for bit with NaNs by class, into {@code tally}; {@code what} names the set in a mismatch.
     */
    public static void compare(int step, String what, ParamSet reference, ParamSet other, Tally tally) {
        for (int i = 0; i < reference.size(); i++) {
            Tensor x = reference.get(i), y = other.get(i);
            tally.compared += x.size();
            for (long e = 0; e < x.size(); e++) {
                float u = x.get(e), v = y.get(e);
                int ub = Float.floatToRawIntBits(u), vb = Float.floatToRawIntBits(v);
                if (ub == vb || (Float.isNaN(u) && Float.isNaN(v))) continue;
                tally.differing++;
                tally.maxUlp = Math.max(tally.maxUlp, ulpDistance(ub, vb));
                if (tally.first == null) tally.first = new Mismatch(step, what, x.name(), e, ub, vb);
            }
        }
    }

    /** Distance between two float bit patterns on the ordered line (-0 and +0 are 1 apart). */
    public static long ulpDistance(int a, int b) {
        return Math.abs(ordered(a) - ordered(b));
    }

    private static long ordered(int bits) {
        return bits < 0 ? -(long) (bits & 0x7fffffff) - 1 : bits;
    }

    static ParamSet oddParams(SplittableRandom rnd, int tensors) {
        List<Tensor> ts = new ArrayList<>();
        for (int i = 0; i < tensors; i++) {
            long[] shape = switch (i % 5) {
                case 0 -> new long[] {1 + rnd.nextInt(37)};
                case 1 -> new long[] {1 + rnd.nextInt(7), 1 + rnd.nextInt(13)};
                case 2 -> new long[] {};
                case 3 -> new long[] {2, 1 + rnd.nextInt(5), 3};
                default -> new long[] {257 + rnd.nextInt(1000)};
            };
            Tensor t = Tensor.zeros("t" + i, shape);
            for (long e = 0; e < t.size(); e++) t.set(e, value(rnd));
            ts.add(t);
        }
        return new ParamSet(ts);
    }

    /** Mostly ordinary values over many magnitudes, with every kind of special value mixed in. */
    static float value(SplittableRandom rnd) {
        return switch (rnd.nextInt(64)) {
            case 0 -> Float.NaN;
            case 1 -> rnd.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
            case 2 -> rnd.nextBoolean() ? 0f : -0f;
            case 3 -> Float.intBitsToFloat(1 + rnd.nextInt(0x007fffff)) * (rnd.nextBoolean() ? 1 : -1);
            case 4 -> (rnd.nextBoolean() ? 1 : -1) * Float.MAX_VALUE / (1 + rnd.nextInt(8));
            case 5 -> Float.intBitsToFloat(rnd.nextInt());
            default -> (float) ((rnd.nextDouble() * 2 - 1) * Math.pow(10, rnd.nextInt(9) - 4));
        };
    }
}
