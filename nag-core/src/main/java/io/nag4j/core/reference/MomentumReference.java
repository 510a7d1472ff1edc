package io.nag4j.core.reference;

import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Momentum;
import io.nag4j.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;

import static io.nag4j.core.tensor.Tensor.F32;

/** PyTorch's SGD with momentum by hand, op by op in float32 (see {@link Momentum} for the formula). */
public final class MomentumReference extends ReferenceOptimizer {
    public MomentumReference(Hyperparams hp) { super(Momentum.INSTANCE, hp); }

    public MomentumReference() { this(Momentum.INSTANCE.defaults()); }

    @Override
    protected void stepTensor(Tensor[] g, long t, Hyperparams hp) {
        float lr = hp.get("lr"), mom = hp.get("momentum"), wd = hp.get("weight_decay");
        boolean nesterov = hp.get("nesterov") != 0f;
        float omd = (float) (1.0 - (double) hp.get("dampening"));
        MemorySegment p = g[0].segment(), u = g[1].segment(), b = g[2].segment();
        for (long i = 0, n = g[0].size(); i < n; i++) {
            float param = p.getAtIndex(F32, i);
            float grad = u.getAtIndex(F32, i);
            if (wd != 0f) grad = grad + wd * param;
            float step = grad;
            if (mom != 0f) {
                float buf = t == 1 ? grad : mom * b.getAtIndex(F32, i) + omd * grad;
                b.setAtIndex(F32, i, buf);
                step = nesterov ? grad + mom * buf : buf;
            }
            p.setAtIndex(F32, i, param - lr * step);
        }
    }
}
