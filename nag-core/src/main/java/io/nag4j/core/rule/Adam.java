package io.nag4j.core.rule;

import java.util.List;

/**
 * Adam as ngc-learn's {@code adam.py} defines it (source: ngc-learn {@code ngclearn/utils/optim/adam.py}).
 *
 * <p>Hyperparameters, in kernel-argument order, with defaults: {@code eta = 0.001},
 * {@code beta1 = 0.9}, {@code beta2 = 0.999}, {@code eps = 1e-8}. State slots {@code g1} (first
 * moment) and {@code g2} (second moment), zero at init.
 *
 * <p>Host values for step {@code t} (1 on the first step), each computed in double from the
 * float32 hyperparameters and rounded once to float32 ({@code StrictMath.pow}):
 * <pre>
 * omb1 = 1 - beta1      omb2 = 1 - beta2
 * c1   = 1 - beta1^t    c2   = 1 - beta2^t
 * </pre>
 * Per element, each op rounded to float32, none fused, in this order (the contract
 * {@code g1 = beta1*g1 + omb1*update; g2 = beta2*g2 + omb2*(update*update);
 * param = param - (eta*(g1/c1)) / (sqrt(g2/c2) + eps)}, innermost parentheses first, left to right):
 * <pre>
 * a = beta1 * g1;   b = omb1 * update;  g1' = a + b
 * c = update * update;  d = beta2 * g2;  e = omb2 * c;  g2' = d + e
 * f = g1' / c1;  h = eta * f
 * i = g2' / c2;  j = sqrt(i);  k = j + eps
 * l = h / k;  param' = param - l
 * </pre>
 * ngc-learn itself evaluates {@code 1 - beta^t} on the device in float32 with a float32 step
 * counter; nag4j's contract computes the host values in double and rounds once, and counts steps
 * in a {@code long}.
 */
public final class Adam implements Rule {
    public static final Adam INSTANCE = new Adam();
    /** Immutable, so built once: a step compares against it without allocating. */
    private static final Hyperparams DEFAULTS = Hyperparams.of("eta", 0.001f, "beta1", 0.9f, "beta2", 0.999f, "eps", 1e-8f);

    @Override public String name() { return "adam"; }
    @Override public List<String> slots() { return List.of("g1", "g2"); }

    @Override public Hyperparams defaults() { return DEFAULTS; }

    @Override public List<String> hostValueNames() { return List.of("omb1", "omb2", "c1", "c2"); }

    @Override
    public void hostValues(long t, Hyperparams hp, float[] out) {
        double beta1 = hp.get("beta1"), beta2 = hp.get("beta2");
        out[0] = (float) (1.0 - beta1);
        out[1] = (float) (1.0 - beta2);
        out[2] = (float) (1.0 - StrictMath.pow(beta1, t));
        out[3] = (float) (1.0 - StrictMath.pow(beta2, t));
    }

    @Override
    public void update(Trace x) {
        Sym u = x.update();
        Sym a = x.hyper("beta1").mul(x.slot("g1"));
        Sym b = x.host("omb1").mul(u);
        Sym g1 = a.add(b);
        Sym c = u.mul(u);
        Sym d = x.hyper("beta2").mul(x.slot("g2"));
        Sym e = x.host("omb2").mul(c);
        Sym g2 = d.add(e);
        Sym h = x.hyper("eta").mul(g1.div(x.host("c1")));
        Sym k = g2.div(x.host("c2")).sqrt().add(x.hyper("eps"));
        x.setParam(x.param().sub(h.div(k)));
        x.setSlot("g1", g1);
        x.setSlot("g2", g2);
    }
}
