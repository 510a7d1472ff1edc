package io.nag4j.core.reference;

import io.nag4j.core.optim.OptState;
import io.nag4j.core.optim.Optimizer;
import io.nag4j.core.optim.StepChecks;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.MasterWeights;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The oracle of {@link MasterWeights}: the base rule's own oracle on the master weights, then each
 * param set to the master rounded by {@link #bf16} or {@link #f16}, which are written here a
 * second time, differently from {@code io.nag4j.core.ir.Narrowing} (exact double arithmetic for
 * bf16, the JDK's IEEE conversion for f16), and checked against it on every float32.
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
        for (int i = 0; i < params.size(); i++) {
            Tensor p = params.get(i), m = master.get(i);
            for (long e = 0; e < p.size(); e++) p.set(e, bf ? bf16(m.get(e)) : f16(m.get(e)));
        }
        state.setStep(b.step());
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
