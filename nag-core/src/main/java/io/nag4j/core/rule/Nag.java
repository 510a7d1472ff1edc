package io.nag4j.core.rule;

import java.util.List;

/**
 * Nesterov's accelerated gradient exactly as ngc-learn's {@code nag.py} (the seed) defines it.
 *
 * <pre>
 * mask   = t &gt; 1 ? 1 : 0            (host value; t counts steps from 1)
 * mu_eff = mu * mask                 (a multiplication, not a branch: inf * 0 is NaN, as in the seed)
 * t1     = update * eta
 * phi    = param - t1                (phantom gradient step)
 * d      = phi - phi_old
 * m      = d * mu_eff
 * param' = phi + m
 * phi_old' = phi
 * </pre>
 * Every op is rounded to float32, none is fused. Defaults {@code eta = 0.01}, {@code mu = 0.9}
 * (the seed's code; its docstring's 0.001 is wrong). State slot {@code phi}, zero at init.
 */
public final class Nag implements Rule {
    public static final Nag INSTANCE = new Nag();
    /** Immutable, so built once: a step compares against it without allocating. */
    private static final Hyperparams DEFAULTS = Hyperparams.of("eta", 0.01f, "mu", 0.9f);

    @Override public String name() { return "nag"; }
    @Override public List<String> slots() { return List.of("phi"); }
    @Override public Hyperparams defaults() { return DEFAULTS; }
    @Override public List<String> hostValueNames() { return List.of("mask"); }

    @Override
    public void hostValues(long t, Hyperparams hp, float[] out) {
        out[0] = t > 1 ? 1f : 0f;
    }

    @Override
    public void update(Trace x) {
        Sym muEff = x.hyper("mu").mul(x.host("mask"));
        Sym t1 = x.update().mul(x.hyper("eta"));
        Sym phi = x.param().sub(t1);
        Sym d = phi.sub(x.slot("phi"));
        Sym m = d.mul(muEff);
        x.setParam(phi.add(m));
        x.setSlot("phi", phi);
    }
}
