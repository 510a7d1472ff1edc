package io.nag4j.core.rule;

import java.util.List;

/**
 * RMSprop as PyTorch's {@code torch.optim.RMSprop} defines it (source: PyTorch
 * {@code torch/optim/rmsprop.py}, {@code _single_tensor_rmsprop}, the non-foreach CPU path;
 * maximize and differentiable off).
 *
 * <p>Hyperparameters, in kernel-argument order, with PyTorch's defaults: {@code lr = 0.01},
 * {@code alpha = 0.99}, {@code eps = 1e-8}, {@code weight_decay = 0}, {@code momentum = 0},
 * {@code centered = 0} ({@code centered} must be exactly 0 or 1; other values are accepted as they
 * are). State slots {@code square_avg}, {@code grad_avg} (used when centered) and
 * {@code momentum_buffer} (used when momentum &gt; 0), zero at init; an unused slot stays as it is.
 *
 * <p>Host values, computed in double from the float32 hyperparameters, rounded once to float32:
 * <pre>
 * wd_on  = weight_decay != 0 ? 1 : 0
 * oma    = 1 - alpha                         (addcmul value, and the lerp weight)
 * lerp_small = |oma| &lt; 0.5 ? 1 : 0           (on the float32 oma)
 * omw    = 1 - oma                           (from the float32 oma)
 * mom_on = momentum &gt; 0 ? 1 : 0
 * </pre>
 * Per element, each op rounded to float32, none fused; PyTorch's {@code if}s are selects (both
 * sides computed, the select picks one's bits):
 * <pre>
 * g   = wd_on ? update + weight_decay*param : update          (grad.add(param, alpha=wd))
 * sa' = square_avg*alpha + (oma*g)*g                          (mul_(alpha).addcmul_(g, g, value=oma))
 * d   = g - grad_avg                                           (grad_avg.lerp_(g, oma))
 * ga' = centered ? (lerp_small ? grad_avg + oma*d : g - d*omw) : grad_avg
 * avg = (centered ? sqrt(sa' + (-ga')*ga') : sqrt(sa')) + eps  (addcmul(ga, ga, value=-1).sqrt_(); add_(eps))
 * buf' = momentum_buffer*momentum + g/avg                      (mul_(momentum).addcdiv_(g, avg))
 * param' = mom_on ? param - lr*buf' : param - (lr*g)/avg       (add_(buf, alpha=-lr) / addcdiv_(g, avg, value=-lr))
 * momentum_buffer' = mom_on ? buf' : momentum_buffer
 * </pre>
 * Negating {@code lr} is exact, so {@code param + (-lr)*x} is bitwise {@code param - lr*x}.
 */
public final class RmsProp implements Rule {
    public static final RmsProp INSTANCE = new RmsProp();

    @Override public String name() { return "rmsprop"; }
    @Override public List<String> slots() { return List.of("square_avg", "grad_avg", "momentum_buffer"); }

    @Override
    public Hyperparams defaults() {
        return Hyperparams.of("lr", 0.01f, "alpha", 0.99f, "eps", 1e-8f, "weight_decay", 0f, "momentum", 0f, "centered", 0f);
    }

    @Override public List<String> hostValueNames() { return List.of("wd_on", "oma", "lerp_small", "omw", "mom_on"); }

    @Override
    public float[] hostValues(long t, Hyperparams hp) {
        float oma = (float) (1.0 - (double) hp.get("alpha"));
        return new float[] {
            hp.get("weight_decay") != 0f ? 1f : 0f,
            oma,
            Math.abs(oma) < 0.5f ? 1f : 0f,
            (float) (1.0 - (double) oma),
            hp.get("momentum") > 0f ? 1f : 0f,
        };
    }

    @Override
    public void validate(Hyperparams hp) {
        float c = hp.get("centered");
        if (c != 0f && c != 1f) throw new IllegalArgumentException("hyperparameter 'centered' must be 0 or 1, got " + c);
    }

    @Override
    public void update(Trace x) {
        Sym u = x.update(), p = x.param(), centered = x.hyper("centered"), momOn = x.host("mom_on");
        Sym g = x.host("wd_on").select(u.add(x.hyper("weight_decay").mul(p)), u);
        Sym sa = x.slot("square_avg").mul(x.hyper("alpha")).add(x.host("oma").mul(g).mul(g));
        Sym ga0 = x.slot("grad_avg");
        Sym ga = centered.select(TorchOps.lerp(ga0, g, x.host("oma"), x.host("lerp_small"), x.host("omw")), ga0);
        Sym avgCentered = sa.add(ga.neg().mul(ga)).sqrt();
        Sym avg = centered.select(avgCentered, sa.sqrt()).add(x.hyper("eps"));
        Sym buf0 = x.slot("momentum_buffer");
        Sym buf = buf0.mul(x.hyper("momentum")).add(g.div(avg));
        Sym withMomentum = p.sub(x.hyper("lr").mul(buf));
        Sym plain = p.sub(x.hyper("lr").mul(g).div(avg));
        x.setParam(momOn.select(withMomentum, plain));
        x.setSlot("square_avg", sa);
        x.setSlot("grad_avg", ga);
        x.setSlot("momentum_buffer", momOn.select(buf, buf0));
    }
}
