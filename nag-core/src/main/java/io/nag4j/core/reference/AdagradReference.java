package io.nag4j.core.reference;

import io.nag4j.core.rule.Adagrad;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;

import static io.nag4j.core.tensor.Tensor.F32;

/** PyTorch's Adagrad by hand, op by op in float32 (see {@link Adagrad} for the formula). */
public final class AdagradReference extends ReferenceOptimizer {
    public AdagradReference(Hyperparams hp) { super(Adagrad.INSTANCE, hp); }

    public AdagradReference() { this(Adagrad.INSTANCE.defaults()); }

    @Override
    protected void stepTensor(Tensor[] g, long t, Hyperparams hp) {
        float lr = hp.get("lr"), lrDecay = hp.get("lr_decay"), wd = hp.get("weight_decay"), eps = hp.get("eps");
        float initial = hp.get("initial_accumulator_value");
        float clr = (float) ((double) lr / (1.0 + (double) (t - 1) * lrDecay));
        MemorySegment p = g[0].segment(), u = g[1].segment(), s = g[2].segment();
        for (long i = 0, n = g[0].size(); i < n; i++) {
            float param = p.getAtIndex(F32, i);
            float grad = u.getAtIndex(F32, i);
            if (wd != 0f) grad = grad + wd * param;
            // PyTorch fills the accumulator at init; nag4j's state starts at zero, so step 1 starts from the fill.
            float sum = (t == 1 ? initial : s.getAtIndex(F32, i)) + grad * grad;
            float std = (float) Math.sqrt(sum) + eps;
            p.setAtIndex(F32, i, param - (clr * grad) / std);
            s.setAtIndex(F32, i, sum);
        }
    }
}
