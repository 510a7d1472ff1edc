package io.nag4j.core.reference;

import io.nag4j.core.optim.OptState;
import io.nag4j.core.optim.Optimizer;
import io.nag4j.core.optim.StepChecks;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.MasterWeights;
import io.nag4j.core.rule.Rounding;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The oracle of {@link MasterWeights}: the base rule's own oracle on the master weights, then each
 * param set to the master rounded by {@link #bf16} or {@link #f16}, which are written here a
 * second time, differently from {@code io.nag4j.core.ir.Narrowing} (exact double arithmetic for
 * bf16, the JDK's IEEE conversion for f16), and checked against it on every float32. Stochastic
 * rounding ({@link Rounding#stochastic}) is written here a second time too: Philox from its paper
 * and the rounding in doubles ({@link #uniform}, {@link #bf16Stochastic}, {@link #f16Stochastic}).
 */
public final class MasterWeightsReference implements Optimizer {
    private final MasterWeights rule;
    private final Optimizer base;

    /** {@code base} is the base rule's reference optimizer (its hand-written one, or the evaluator for a user's rule). */
    public MasterWeightsReference(MasterWeights rule, Optimizer base) {
        this.rule = rule;
        this.base = base;
    }

    @Override public String name() { return rule.name(); }

    @Override public Hyperparams hyperparams() { return base.hyperparams(); }

    /** The base rule's fresh state, and {@code master} a copy of the params (16-bit values, widened: exact). */
    @Override
    public OptState init(ParamSet params) {
        try (OptState b = base.init(params)) {
            Map<String, ParamSet> slots = new LinkedHashMap<>();
            b.slots().forEach((k, v) -> slots.put(k, v.copy()));
            slots.put(MasterWeights.MASTER, params.copy());
            return new OptState(rule.name(), slots, 0);
        }
    }

    @Override
    public void step(OptState state, ParamSet params, ParamSet updates, Hyperparams hp) {
        StepChecks.check(rule, state, params, updates, hp);
        ParamSet master = state.slot(MasterWeights.MASTER);
        Map<String, ParamSet> baseSlots = new LinkedHashMap<>(state.slots());
        baseSlots.remove(MasterWeights.MASTER);
        OptState b = new OptState(rule.name(), baseSlots, state.step()); // views of the same tensors: not closed here
        base.step(b, master, updates, hp);
        boolean bf = rule.precision().equals("bf16");
        Rounding rounding = rule.rounding();
        long t = b.step();
        for (int i = 0; i < params.size(); i++) {
            Tensor p = params.get(i), m = master.get(i);
            for (long e = 0; e < p.size(); e++) {
                float x = m.get(e);
                if (!rounding.stochastic()) {
                    p.set(e, bf ? bf16(x) : f16(x));
                } else {
                    float u = uniform(rounding.seed(), t, i, e);
                    p.set(e, bf ? bf16Stochastic(x, u) : f16Stochastic(x, u));
                }
            }
        }
        state.setStep(b.step());
    }

    /**
     * Philox-4x32-10 word 0 as a uniform, transcribed from the paper a second time (a key schedule
     * table, unsigned longs), for counter {@code (element, element >>> 32, tensor, step)} and key
     * {@code seed}: {@code (word >>> 8) / 2^24}.
     */
    public static float uniform(long seed, long step, int tensor, long element) {
        long[] ctr = {element & 0xffffffffL, element >>> 32, tensor & 0xffffffffL, step & 0xffffffffL};
        long[][] key = new long[10][2];
        for (int r = 0; r < 10; r++) {
            key[r][0] = ((seed & 0xffffffffL) + r * 0x9E3779B9L) & 0xffffffffL;
            key[r][1] = ((seed >>> 32) + r * 0xBB67AE85L) & 0xffffffffL;
        }
        for (int r = 0; r < 10; r++) {
            long p0 = 0xD2511F53L * ctr[0], p1 = 0xCD9E8D57L * ctr[2];
            ctr = new long[] {((p1 >>> 32) ^ ctr[1] ^ key[r][0]) & 0xffffffffL, p1 & 0xffffffffL,
                    ((p0 >>> 32) ^ ctr[3] ^ key[r][1]) & 0xffffffffL, p0 & 0xffffffffL};
        }
        return (float) ((ctr[0] >>> 8) / 16777216.0);
    }

    /** Stochastic rounding to bf16 by exact double arithmetic: the two neighbours on bf16's grid, the upper one when {@code u} is below the fraction. */
    public static float bf16Stochastic(float x, float u) {
        if (Float.isNaN(x)) return bf16(x);
        return stochastic(x, u, Float.MIN_EXPONENT, 7, Float.intBitsToFloat(0x7f7f0000), Double.POSITIVE_INFINITY);
    }

    /** Stochastic rounding to f16 likewise: grid steps of 2^-24 below 2^-14; from 2^16 (one step past 65504) infinity. */
    public static float f16Stochastic(float x, float u) {
        if (Float.isNaN(x)) return f16(x);
        return stochastic(x, u, -14, 10, 65504f, 65536.0);
    }

    private static float stochastic(float x, float u, int minExponent, int mantissaBits, float max, double overflow) {
        double a = Math.abs((double) x);
        if (Double.isInfinite(a) || a >= overflow) return Math.copySign(Float.POSITIVE_INFINITY, x);
        double ulp = Math.scalb(1.0, Math.max(Math.getExponent(x), minExponent) - mantissaBits);
        double lo = Math.floor(a / ulp) * ulp;
        double frac = (a - lo) / ulp;
        double r = frac > 0 && u < frac ? lo + ulp : lo;
        if (r > max) return Math.copySign(Float.POSITIVE_INFINITY, x);
        return Math.copySign((float) r, x);
    }

    /** x rounded to nearest even bfloat16, by exact double arithmetic: |x| to a multiple of its bf16 ulp with Math.rint. */
    public static float bf16(float x) {
        int bits = Float.floatToRawIntBits(x);
        if (Float.isNaN(x)) return Float.intBitsToFloat((bits | 0x00400000) & 0xffff0000);
        if (Float.isInfinite(x)) return x;
        int e = Math.max(Math.getExponent(x), Float.MIN_EXPONENT);
        double ulp = Math.scalb(1.0, e - 7);
        double r = Math.rint(x / ulp) * ulp;
        if (Math.abs(r) > Float.intBitsToFloat(0x7f7f0000)) return Math.copySign(Float.POSITIVE_INFINITY, x);
        return Math.copySign((float) r, x); // keeps -0
    }

    /** x rounded to nearest even float16 through the JDK's IEEE 754 conversion; NaN kept quiet with its top payload bits. */
    public static float f16(float x) {
        if (Float.isNaN(x)) return Float.intBitsToFloat((Float.floatToRawIntBits(x) | 0x00400000) & 0xffffe000);
        return Float.float16ToFloat(Float.floatToFloat16(x));
    }
}
