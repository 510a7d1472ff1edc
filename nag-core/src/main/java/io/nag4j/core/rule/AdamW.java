package io.nag4j.core.rule;

import java.util.List;

/**
 * AdamW as PyTorch's {@code torch.optim.AdamW} defines it (source: PyTorch {@code torch/optim/adamw.py}
 * and {@code adam.py}, {@code _single_tensor_adam} with decoupled weight decay, the non-foreach CPU
 * path; amsgrad, maximize and capturable off).
 *
 * <p>Hyperparameters, in kernel-argument order, with PyTorch's defaults: {@code lr = 0.001},
 * {@code beta1 = 0.9}, {@code beta2 = 0.999}, {@code eps = 1e-8}, {@code weight_decay = 0.01}.
 * Any finite values are accepted. State slots {@code exp_avg}, {@code exp_avg_sq}, zero at init.
 *
 * <p>Host values for step {@code t} (1 first), computed in double from the float32
 * hyperparameters and rounded once to float32, as PyTorch computes its Python-float scalars:
 * <pre>
 * decay     = 1 - lr*weight_decay           (param.mul_(1 - lr*weight_decay))
 * omb1      = 1 - beta1                     (the lerp weight)
 * lerp_small = |omb1| &lt; 0.5 ? 1 : 0        (tested on the float32 omb1, as ATen's lerp does)
 * omw1      = 1 - omb1                      (from the float32 omb1)
 * omb2      = 1 - beta2
 * step_size = lr / (1 - beta1^t)            (StrictMath.pow)
 * bc2_sqrt  = sqrt(1 - beta2^t)
 * </pre>
 * Per element, each op rounded to float32, none fused, in PyTorch's order:
 * <pre>
 * p0 = param * decay                                      (weight decay first)
 * d  = update - exp_avg                                    (exp_avg.lerp_(update, omb1))
 * m' = lerp_small ? exp_avg + omb1*d : update - d*omw1     (select; both computed)
 * a  = exp_avg_sq * beta2;  b = omb2 * update;  c = b * update;  v' = a + c
 *                                                          (mul_(beta2).addcmul_(g, g, value=omb2))
 * s  = sqrt(v');  q = s / bc2_sqrt;  den = q + eps         ((exp_avg_sq.sqrt() / bc2_sqrt).add_(eps))
 * n  = step_size * m';  r = n / den;  param' = p0 - r      (param.addcdiv_(m', den, value=-step_size))
 * </pre>
 * {@code p0 + ((-step_size)*m')/den} is bitwise {@code p0 - (step_size*m')/den}: negation is exact.
 * When {@code weight_decay} is 0 PyTorch skips the decay; multiplying by {@code decay = 1} is exact,
 * so the result is the same.
 */
public final class AdamW implements Rule {
    public static final AdamW INSTANCE = new AdamW();
    /** Immutable, so built once: a step compares against it without allocating. */
    private static final Hyperparams DEFAULTS = Hyperparams.of("lr", 0.001f, "beta1", 0.9f, "beta2", 0.999f, "eps", 1e-8f, "weight_decay", 0.01f);

    @Override public String name() { return "adamw"; }
    @Override public List<String> slots() { return List.of("exp_avg", "exp_avg_sq"); }

    @Override public Hyperparams defaults() { return DEFAULTS; }

    @Override
    public List<String> hostValueNames() {
        return List.of("decay", "omb1", "lerp_small", "omw1", "omb2", "step_size", "bc2_sqrt");
    }

    @Override
    public void hostValues(long t, Hyperparams hp, float[] out) {
        double lr = hp.get("lr"), wd = hp.get("weight_decay"), beta1 = hp.get("beta1"), beta2 = hp.get("beta2");
        float omb1 = (float) (1.0 - beta1);
        out[0] = (float) (1.0 - lr * wd);
        out[1] = omb1;
        out[2] = Math.abs(omb1) < 0.5f ? 1f : 0f;
        out[3] = (float) (1.0 - (double) omb1);
        out[4] = (float) (1.0 - beta2);
        out[5] = (float) (lr / (1.0 - StrictMath.pow(beta1, t)));
        out[6] = (float) Math.sqrt(1.0 - StrictMath.pow(beta2, t));
    }

    @Override
    public void update(Trace x) {
        Sym u = x.update();
        Sym p0 = x.param().mul(x.host("decay"));
        Sym m = TorchOps.lerp(x.slot("exp_avg"), u, x.host("omb1"), x.host("lerp_small"), x.host("omw1"));
        Sym a = x.slot("exp_avg_sq").mul(x.hyper("beta2"));
        Sym c = x.host("omb2").mul(u).mul(u);
        Sym v = a.add(c);
        Sym den = v.sqrt().div(x.host("bc2_sqrt")).add(x.hyper("eps"));
        Sym r = x.host("step_size").mul(m).div(den);
        x.setParam(p0.sub(r));
        x.setSlot("exp_avg", m);
        x.setSlot("exp_avg_sq", v);
    }
}
