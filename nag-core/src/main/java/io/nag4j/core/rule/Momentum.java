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
 * <p>Flags (PyTorch's Python {@code if}s, fixed in the kernel): {@code momentum}
 * ({@code momentum != 0}) and {@code nesterov} ({@code nesterov != 0}). Without momentum the
 * kernel is plain SGD and never touches {@code buf}: 12 bytes per element instead of 20.
 *
 * <p>Host values for step {@code t}: {@code wd_on = weight_decay != 0 ? 1 : 0},
 * {@code first = t == 1 ? 1 : 0} and {@code omd = 1 - dampening} (computed in double from the
 * float32 hyperparameter, rounded once to float32).
 *
 * <p>Per element, each op rounded to float32, none fused. {@code wd_on ?} and {@code first ?}
 * are selects ({@code select(c, x, y) = c != 0 ? x : y}): both sides are computed and the select
 * picks one's bits exactly, so with zero weight decay {@code g} is the update's bits, as in PyTorch.
 * <pre>
 * g  = wd_on ? update + weight_decay*param : update
 * if momentum:
 *   buf' = first ? g : momentum*buf + omd*g
 *   s    = nesterov ? g + momentum*buf' : buf'
 * else
 *   s    = g
 * param' = param - lr*s
 * </pre>
 */
public final class Momentum implements Rule {
    public static final Momentum INSTANCE = new Momentum();
    /** Immutable, so built once: a step compares against it without allocating. */
    private static final Hyperparams DEFAULTS = Hyperparams.of("lr", 0.01f, "momentum", 0f, "dampening", 0f, "weight_decay", 0f, "nesterov", 0f);
    private static final List<Flag> FLAGS = List.of(
            Flag.nonZero("momentum", 0.9f),
            Flag.nonZero("nesterov", 1f));

    @Override public String name() { return "momentum"; }
    @Override public List<String> slots() { return List.of("buf"); }
    @Override public List<Flag> flags() { return FLAGS; }

    @Override public Hyperparams defaults() { return DEFAULTS; }

    @Override public List<String> hostValueNames() { return List.of("wd_on", "first", "omd"); }

    @Override
    public void hostValues(long t, Hyperparams hp, float[] out) {
        out[0] = hp.get("weight_decay") != 0f ? 1f : 0f;
        out[1] = t == 1 ? 1f : 0f;
        out[2] = (float) (1.0 - (double) hp.get("dampening"));
    }

    @Override
    public void validate(Hyperparams hp) {
        float n = hp.get("nesterov");
        if (n != 0f && n != 1f) throw new IllegalArgumentException("hyperparameter 'nesterov' must be 0 or 1, got " + n);
    }

    @Override
    public void update(Trace x) {
        Sym u = x.update();
        Sym g = x.host("wd_on").select(u.add(x.hyper("weight_decay").mul(x.param())), u);
        Sym step = g;
        if (x.flag("momentum")) {
            Sym later = x.hyper("momentum").mul(x.slot("buf")).add(x.host("omd").mul(g));
            Sym buf = x.host("first").select(g, later);
            x.setSlot("buf", buf);
            step = x.flag("nesterov") ? g.add(x.hyper("momentum").mul(buf)) : buf;
        }
        x.setParam(x.param().sub(x.hyper("lr").mul(step)));
    }
}
