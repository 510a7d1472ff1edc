package io.nag4j.core.rule;

import java.util.List;

/**
 * RMSprop as PyTorch's {@code torch.optim.RMSprop} defines it (source: PyTorch
 * {@code torch/optim/rmsprop.py}, {@code _single_tensor_rmsprop}, the non-foreach CPU path;
 * maximize and differentiable off).
 *
 * <p>Hyperparameters, in kernel-argument order, with PyTorch's defaults: {@code lr = 0.01},
 * {@code alpha = 0.99}, {@code eps = 1e-8}, {@code weight_decay = 0}, {@code momentum = 0},
 * {@code centered = 0} ({@code centered} must be exactly 0 or 1). State slots
 * {@code square_avg}, {@code grad_avg} and {@code momentum_buffer}, zero at init.
 *
 * <p>Flags (PyTorch's Python {@code if}s, fixed in the kernel): {@code centered}
 * ({@code centered != 0}) and {@code momentum} ({@code momentum > 0}). A slot its kernel does
 * not use ({@code grad_avg} uncentered, {@code momentum_buffer} without momentum) is not read or
 * written: plain RMSprop streams 20 bytes per element (param, update, square_avg read; param,
 * square_avg written), centered with momentum 36.
 *
 * <p>Host values, computed in double from the float32 hyperparameters, rounded once to float32:
 * <pre>
 * wd_on  = weight_decay != 0 ? 1 : 0
 * oma    = 1 - alpha                         (addcmul value, and the lerp weight)
 * lerp_small = |oma| &lt; 0.5 ? 1 : 0           (on the float32 oma)
 * omw    = 1 - oma                           (from the float32 oma)
 * </pre>
 * Per element, each op rounded to float32, none fused; {@code wd_on ?} is a select (both sides
 * computed, the select picks one's bits, so a weight-decay schedule reaching 0 needs no new kernel):
 * <pre>
 * g   = wd_on ? update + weight_decay*param : update          (grad.add(param, alpha=wd))
 * sa' = square_avg*alpha + (oma*g)*g                          (mul_(alpha).addcmul_(g, g, value=oma))
 * if centered:
 *   d   = g - grad_avg                                         (grad_avg.lerp_(g, oma))
 *   ga' = lerp_small ? grad_avg + oma*d : g - d*omw
 *   avg = sqrt(sa' + (-ga')*ga') + eps                         (addcmul(ga, ga, value=-1).sqrt_(); add_(eps))
 * else
 *   avg = sqrt(sa') + eps
 * if momentum:
 *   buf' = momentum_buffer*momentum + g/avg                    (mul_(momentum).addcdiv_(g, avg))
 *   param' = param - lr*buf'                                   (add_(buf, alpha=-lr))
 * else
 *   param' = param - (lr*g)/avg                                (addcdiv_(g, avg, value=-lr))
 * </pre>
 * Negating {@code lr} is exact, so {@code param + (-lr)*x} is bitwise {@code param - lr*x}.
 */
public final class RmsProp implements Rule {
    public static final RmsProp INSTANCE = new RmsProp();
    /** Immutable, so built once: a step compares against it without allocating. */
    private static final Hyperparams DEFAULTS = Hyperparams.of("lr", 0.01f, "alpha", 0.99f, "eps", 1e-8f, "weight_decay", 0f, "momentum", 0f, "centered", 0f);
    private static final List<Flag> FLAGS = List.of(
            Flag.nonZero("centered", 1f),
            Flag.positive("momentum", 0.9f));

    @Override public String name() { return "rmsprop"; }
    @Override public List<String> slots() { return List.of("square_avg", "grad_avg", "momentum_buffer"); }
    @Override public List<Flag> flags() { return FLAGS; }

    @Override public Hyperparams defaults() { return DEFAULTS; }

    @Override public List<String> hostValueNames() { return List.of("wd_on", "oma", "lerp_small", "omw"); }

    @Override
    public void hostValues(long t, Hyperparams hp, float[] out) {
        float oma = (float) (1.0 - (double) hp.get("alpha"));
        out[0] = hp.get("weight_decay") != 0f ? 1f : 0f;
        out[1] = oma;
        out[2] = Math.abs(oma) < 0.5f ? 1f : 0f;
        out[3] = (float) (1.0 - (double) oma);
    }

    @Override
    public void validate(Hyperparams hp) {
        float c = hp.get("centered");
        if (c != 0f && c != 1f) throw new IllegalArgumentException("hyperparameter 'centered' must be 0 or 1, got " + c);
    }

    @Override
    public void update(Trace x) {
        Sym u = x.update(), p = x.param();
        Sym g = x.host("wd_on").select(u.add(x.hyper("weight_decay").mul(p)), u);
        Sym sa = x.slot("square_avg").mul(x.hyper("alpha")).add(x.host("oma").mul(g).mul(g));
        x.setSlot("square_avg", sa);
        Sym avg;
        if (x.flag("centered")) {
            Sym ga = TorchOps.lerp(x.slot("grad_avg"), g, x.host("oma"), x.host("lerp_small"), x.host("omw"));
            x.setSlot("grad_avg", ga);
            avg = sa.add(ga.neg().mul(ga)).sqrt().add(x.hyper("eps"));
        } else {
            avg = sa.sqrt().add(x.hyper("eps"));
        }
        if (x.flag("momentum")) {
            Sym buf = x.slot("momentum_buffer").mul(x.hyper("momentum")).add(g.div(avg));
            x.setSlot("momentum_buffer", buf);
            x.setParam(p.sub(x.hyper("lr").mul(buf)));
        } else {
            x.setParam(p.sub(x.hyper("lr").mul(g).div(avg)));
        }
    }
}
