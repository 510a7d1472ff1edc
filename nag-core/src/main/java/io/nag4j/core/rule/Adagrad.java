package io.nag4j.core.rule;

import java.util.List;

/**
 * Adagrad as PyTorch's {@code torch.optim.Adagrad} defines it (source: PyTorch
 * {@code torch/optim/adagrad.py}, {@code _single_tensor_adagrad}, dense gradients, the non-foreach
 * CPU path; maximize off).
 *
 * <p>Hyperparameters, in kernel-argument order, with PyTorch's defaults: {@code lr = 0.01},
 * {@code lr_decay = 0}, {@code weight_decay = 0}, {@code initial_accumulator_value = 0},
 * {@code eps = 1e-10}. Any finite values are accepted. State slot {@code sum}, zero at init:
 * PyTorch fills it with {@code initial_accumulator_value} at init; nag4j keeps state zero at init
 * and substitutes {@code initial_accumulator_value} for it at step 1 (a select), which gives the
 * same values.
 *
 * <p>Host values for step {@code t} (1 first), computed in double from the float32
 * hyperparameters, rounded once to float32:
 * <pre>
 * wd_on = weight_decay != 0 ? 1 : 0
 * first = t == 1 ? 1 : 0
 * clr   = lr / (1 + (t-1)*lr_decay)
 * </pre>
 * Per element, each op rounded to float32, none fused:
 * <pre>
 * g    = wd_on ? update + weight_decay*param : update     (grad.add(param, alpha=weight_decay))
 * s0   = first ? initial_accumulator_value : sum
 * sum' = s0 + g*g                                        (addcmul_(g, g, value=1): 1*g is exact)
 * std  = sqrt(sum') + eps                                (sqrt().add_(eps))
 * param' = param - (clr*g)/std                           (addcdiv_(g, std, value=-clr), negation exact)
 * </pre>
 */
public final class Adagrad implements Rule {
    public static final Adagrad INSTANCE = new Adagrad();
    /** Immutable, so built once: a step compares against it without allocating. */
    private static final Hyperparams DEFAULTS = Hyperparams.of("lr", 0.01f, "lr_decay", 0f, "weight_decay", 0f, "initial_accumulator_value", 0f, "eps", 1e-10f);

    @Override public String name() { return "adagrad"; }
    @Override public List<String> slots() { return List.of("sum"); }

    @Override public Hyperparams defaults() { return DEFAULTS; }

    @Override public List<String> hostValueNames() { return List.of("wd_on", "first", "clr"); }

    @Override
    public void hostValues(long t, Hyperparams hp, float[] out) {
        double lr = hp.get("lr"), lrDecay = hp.get("lr_decay");
        out[0] = hp.get("weight_decay") != 0f ? 1f : 0f;
        out[1] = t == 1 ? 1f : 0f;
        out[2] = (float) (lr / (1.0 + (double) (t - 1) * lrDecay));
    }

    @Override
    public void update(Trace x) {
        Sym u = x.update(), p = x.param();
        Sym g = x.host("wd_on").select(u.add(x.hyper("weight_decay").mul(p)), u);
        Sym s0 = x.host("first").select(x.hyper("initial_accumulator_value"), x.slot("sum"));
        Sym sum = s0.add(g.mul(g));
        Sym std = sum.sqrt().add(x.hyper("eps"));
        x.setParam(p.sub(x.host("clr").mul(g).div(std)));
        x.setSlot("sum", sum);
    }
}
