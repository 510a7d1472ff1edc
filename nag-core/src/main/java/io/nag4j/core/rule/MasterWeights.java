package io.nag4j.core.rule;

import io.nag4j.core.ir.Kernel;
import io.nag4j.core.ir.Kernels;
import io.nag4j.core.ir.Op;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Any rule with 16-bit params and float32 master weights: its state gets one more slot,
 * {@code master} (float32), and each step runs {@code base} on the master exactly as on a float32
 * param (so the master's bits are the float32 rule's), then writes the param as the master
 * rounded to nearest even bfloat16 or float16 ({@link Kernels#withMaster}). The param's tensor
 * holds 16-bit values as float32 (exact); {@code master} starts as the param widened. Every
 * backend runs it as it runs {@code base}: the rule is a kernel like any other.
 *
 * @param base      the rule on the master weights
 * @param precision {@code "bf16"} or {@code "f16"}
 */
public record MasterWeights(Rule base, String precision) implements Rule {
    /** The state slot of the float32 master weights. */
    public static final String MASTER = "master";

    public MasterWeights {
        if (base == null) throw new IllegalArgumentException("base rule is null");
        if (base instanceof MasterWeights) throw new IllegalArgumentException("rule '" + base.name() + "' already has master weights");
        if (base.slots().contains(MASTER)) throw new IllegalArgumentException("rule '" + base.name() + "' has a slot named '" + MASTER + "' already");
        precision = precision == null ? "" : precision.strip().toLowerCase(Locale.ROOT);
        if (!precision.equals("bf16") && !precision.equals("f16")) throw new IllegalArgumentException("precision must be bf16 or f16, got '" + precision + "'");
    }

    /** The narrowing op the param is stored with. */
    public Op narrowing() { return precision.equals("bf16") ? Op.BF16 : Op.F16; }

    /** x as the param stores it (rounded to nearest even). */
    public float round(float x) { return narrowing().eval(x, 0, 0); }

    /** The base rule's name: checkpoints and state are the rule's, plus the {@code master} slot. */
    @Override public String name() { return base.name(); }

    @Override
    public List<String> slots() {
        List<String> s = new ArrayList<>(base.slots());
        s.add(MASTER);
        return s;
    }

    @Override public Hyperparams defaults() { return base.defaults(); }
    @Override public List<String> hostValueNames() { return base.hostValueNames(); }
    @Override public void hostValues(long t, Hyperparams hp, float[] out) { base.hostValues(t, hp, out); }
    @Override public List<Flag> flags() { return base.flags(); }
    @Override public void validate(Hyperparams hp) { base.validate(hp); }

    /** Traced through {@link #kernel(Hyperparams)}: the base rule's kernel, transformed. */
    @Override
    public void update(Trace t) {
        throw new UnsupportedOperationException("MasterWeights is traced through kernel(hp): " + base.name() + "'s kernel with master weights");
    }

    @Override public Kernel kernel() { return kernel(defaults()); }

    @Override public Kernel kernel(Hyperparams hp) { return Kernels.withMaster(base.kernel(hp), narrowing()); }
}
