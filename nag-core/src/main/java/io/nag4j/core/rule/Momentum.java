package io.nag4j.core.rule;

import java.util.List;

/**
 * SGD with momentum as PyTorch's {@code torch.optim.SGD} defines it (source: PyTorch
 * {@code torch/optim/sgd.py}, {@code _single_tensor_sgd}; maximize off).
 *
 * <p>Hyperparameters, in kernel-argument order, with defaults: {@code lr = 0.01},
 * {@code momentum = 0}, {@code dampening = 0}, {@code weight_decay = 0}, {@code nesterov = 0}
 * ({@code nesterov} must be exactly 0 or 1; any other finite values are accepted, without
 * PyTorch's extra refusals). State slot {@code buf} (PyTorch's {@code momentum_buffer}), zero
 * at init.
 *
 * <p>Host values for step {@code t}: {@code first = t == 1 ? 1 : 0} and {@code omd = 1 - dampening}
 * (computed in double from the float32 hyperparameter, rounded once to float32).
 *
 * <p>Per element, each op rounded to float32, none fused. "Step 1" and "if nesterov" are
 * selects ({@code select(c, x, y) = c != 0 ? x : y}): both sides are computed and the select
 * picks one's bits exactly. {@code weight_decay * param} is computed even when weight_decay is
 * 0 (so {@code -0 + 0*param} gives {@code +0}, and an infinite param gives NaN): the formula is
 * the contract.
 * <pre>
 * a  = weight_decay * param;  g = update + a
 * b  = momentum * buf;  c = omd * g;  d = b + c
 * buf' = select(first, g, d)
 * e  = momentum * buf';  f = g + e
 * s  = select(nesterov, f, buf')
 * h  = lr * s;  param' = param - h
 * </pre>
 */
public final class Momentum implements Rule {
    public static final Momentum INSTANCE = new Momentum();

    @Override public String name() { return "momentum"; }
    @Override public List<String> slots() { return List.of("buf"); }

    @Override
    public Hyperparams defaults() {
        return Hyperparams.of("lr", 0.01f, "momentum", 0f, "dampening", 0f, "weight_decay", 0f, "nesterov", 0f);
    }

    @Override public List<String> hostValueNames() { return List.of("first", "omd"); }

    @Override
    public float[] hostValues(long t, Hyperparams hp) {
        return new float[] {t == 1 ? 1f : 0f, (float) (1.0 - (double) hp.get("dampening"))};
    }

    @Override
    public void validate(Hyperparams hp) {
        float n = hp.get("nesterov");
        if (n != 0f && n != 1f) throw new IllegalArgumentException("hyperparameter 'nesterov' must be 0 or 1, got " + n);
    }

    @Override
    public void update(Trace x) {
        Sym g = x.update().add(x.hyper("weight_decay").mul(x.param()));
        Sym later = x.hyper("momentum").mul(x.slot("buf")).add(x.host("omd").mul(g));
        Sym buf = x.host("first").select(g, later);
        Sym nesterov = g.add(x.hyper("momentum").mul(buf));
        Sym step = x.hyper("nesterov").select(nesterov, buf);
        x.setParam(x.param().sub(x.hyper("lr").mul(step)));
        x.setSlot("buf", buf);
    }
}
