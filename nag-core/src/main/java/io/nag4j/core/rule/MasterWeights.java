package io.nag4j.core.rule;

import io.nag4j.core.ir.Kernel;
import io.nag4j.core.ir.Kernels;
import io.nag4j.core.ir.Op;
import io.nag4j.core.ir.Philox;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Any rule with 16-bit params and float32 master weights: its state gets one more slot,
 * {@code master} (float32), and each step runs {@code base} on the master exactly as on a float32
 * param (so the master's bits are the float32 rule's), then writes the param as the master
 * rounded to nearest even bfloat16 or float16 ({@link Kernels#withMaster}). The kernel stores
 * the param as its 16-bit type ({@link io.nag4j.core.ir.Storage}: 2 bytes on a device; host
 * tensors hold the same values as float32, exact); {@code master} starts as the param widened. Every
 * backend runs it as it runs {@code base}: the rule is a kernel like any other.
 *
 * <p>With {@link Rounding#stochastic} rounding the param is the master rounded stochastically
 * ({@link Op#BF16_SR}, {@link Op#F16_SR}) with the uniform of {@link Op#RANDOM}, keyed by the
 * rounding's seed, the step, the tensor's index and the element's; the rule's host values then
 * end with {@link Kernel#RANDOM_SCALARS}.
 *
 * @param base      the rule on the master weights
 * @param precision {@code "bf16"} or {@code "f16"}
 * @param rounding  how the master is rounded to the param
 */
public record MasterWeights(Rule base, String precision, Rounding rounding) implements Rule {
    /** The state slot of the float32 master weights. */
    public static final String MASTER = "master";

    public MasterWeights {
        if (base == null) throw new IllegalArgumentException("base rule is null");
        if (base instanceof MasterWeights) throw new IllegalArgumentException("rule '" + base.name() + "' already has master weights");
        if (base.slots().contains(MASTER)) throw new IllegalArgumentException("rule '" + base.name() + "' has a slot named '" + MASTER + "' already");
        precision = precision == null ? "" : precision.strip().toLowerCase(Locale.ROOT);
        if (!precision.equals("bf16") && !precision.equals("f16")) throw new IllegalArgumentException("precision must be bf16 or f16, got '" + precision + "'");
        if (rounding == null) rounding = Rounding.NEAREST;
    }

    /** Rounded to nearest. */
    public MasterWeights(Rule base, String precision) { this(base, precision, Rounding.NEAREST); }

    /** The op that rounds the master to the param: to nearest, or stochastically. */
    public Op narrowing() {
        boolean bf16 = precision.equals("bf16");
        if (rounding.stochastic()) return bf16 ? Op.BF16_SR : Op.F16_SR;
        return bf16 ? Op.BF16 : Op.F16;
    }

    /** x rounded to nearest even in the param's type (how params are first made 16-bit, whatever the rounding). */
    public float round(float x) { return (precision.equals("bf16") ? Op.BF16 : Op.F16).eval(x, 0, 0); }

    /** The base rule's name: checkpoints and state are the rule's, plus the {@code master} slot. */
    @Override public String name() { return base.name(); }

    @Override
    public List<String> slots() {
        List<String> s = new ArrayList<>(base.slots());
        s.add(MASTER);
        return s;
    }

    @Override public Hyperparams defaults() { return base.defaults(); }
    @Override
    public List<String> hostValueNames() {
        if (!rounding.stochastic()) return base.hostValueNames();
        List<String> names = new ArrayList<>(base.hostValueNames());
        names.addAll(Kernel.RANDOM_SCALARS);
        return names;
    }

    @Override
    public void hostValues(long t, Hyperparams hp, float[] out) {
        base.hostValues(t, hp, out);
        if (!rounding.stochastic()) return;
        int at = base.hostValueNames().size();
        for (int i = 0; i < 4; i++) out[at + i] = Philox.piece(rounding.seed(), i);
        out[at + 4] = Philox.piece(t, 0); // the step modulo 2^32: Philox's counter word 3
        out[at + 5] = Philox.piece(t, 1);
    }
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
