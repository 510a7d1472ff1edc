package io.nag4j.core.reference;

import io.nag4j.core.rule.AdamW;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;

import static io.nag4j.core.tensor.Tensor.F32;

/** PyTorch's AdamW by hand, op by op in float32 (see {@link AdamW} for the formula and op order). */
public final class AdamWReference extends ReferenceOptimizer {
    public AdamWReference(Hyperparams hp) { super(AdamW.INSTANCE, hp); }

    public AdamWReference() { this(AdamW.INSTANCE.defaults()); }

    @Override
    protected void stepTensor(Tensor[] g, long t, Hyperparams hp) {
        float lr = hp.get("lr"), beta1 = hp.get("beta1"), beta2 = hp.get("beta2"), eps = hp.get("eps"), wd = hp.get("weight_decay");
        // Host scalars as PyTorch's Python floats: double, rounded once to float32 when used.
        float decay = (float) (1.0 - (double) lr * wd);
        float weight = (float) (1.0 - beta1);
        float oneMinusWeight = (float) (1.0 - weight);
        boolean smallWeight = Math.abs(weight) < 0.5f;
        float omb2 = (float) (1.0 - beta2);
        float stepSize = (float) (lr / (1.0 - StrictMath.pow(beta1, (double) t)));
        float bc2Sqrt = (float) Math.sqrt(1.0 - StrictMath.pow(beta2, (double) t));
        MemorySegment p = g[0].segment(), u = g[1].segment(), m = g[2].segment(), v = g[3].segment();
        for (long i = 0, n = g[0].size(); i < n; i++) {
            float grad = u.getAtIndex(F32, i);
            float param = p.getAtIndex(F32, i) * decay;
            float avg = m.getAtIndex(F32, i);
            float diff = grad - avg;
            float newAvg = smallWeight ? avg + weight * diff : grad - diff * oneMinusWeight;
            float sq = v.getAtIndex(F32, i) * beta2 + (omb2 * grad) * grad;
            float denom = (float) Math.sqrt(sq) / bc2Sqrt + eps;
            p.setAtIndex(F32, i, param - (stepSize * newAvg) / denom);
            m.setAtIndex(F32, i, newAvg);
            v.setAtIndex(F32, i, sq);
        }
    }
}
