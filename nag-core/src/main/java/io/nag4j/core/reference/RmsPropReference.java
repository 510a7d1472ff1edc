package io.nag4j.core.reference;

import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.RmsProp;
import io.nag4j.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;

import static io.nag4j.core.tensor.Tensor.F32;

/** PyTorch's RMSprop by hand, op by op in float32, with PyTorch's branches as branches (see {@link RmsProp}). */
public final class RmsPropReference extends ReferenceOptimizer {
    public RmsPropReference(Hyperparams hp) { super(RmsProp.INSTANCE, hp); }

    public RmsPropReference() { this(RmsProp.INSTANCE.defaults()); }

    @Override
    protected void stepTensor(Tensor[] g, long t, Hyperparams hp) {
        float lr = hp.get("lr"), alpha = hp.get("alpha"), eps = hp.get("eps"), wd = hp.get("weight_decay"), momentum = hp.get("momentum");
        boolean centered = hp.get("centered") != 0f;
        float weight = (float) (1.0 - alpha);
        float oneMinusWeight = (float) (1.0 - weight);
        boolean smallWeight = Math.abs(weight) < 0.5f;
        MemorySegment p = g[0].segment(), u = g[1].segment(), sq = g[2].segment(), ga = g[3].segment(), mb = g[4].segment();
        for (long i = 0, n = g[0].size(); i < n; i++) {
            float param = p.getAtIndex(F32, i);
            float grad = u.getAtIndex(F32, i);
            if (wd != 0f) grad = grad + wd * param;
            float squareAvg = sq.getAtIndex(F32, i) * alpha + (weight * grad) * grad;
            sq.setAtIndex(F32, i, squareAvg);
            float avg;
            if (centered) {
                float gradAvg = ga.getAtIndex(F32, i);
                float diff = grad - gradAvg;
                gradAvg = smallWeight ? gradAvg + weight * diff : grad - diff * oneMinusWeight;
                ga.setAtIndex(F32, i, gradAvg);
                avg = (float) Math.sqrt(squareAvg + (-gradAvg) * gradAvg);
            } else {
                avg = (float) Math.sqrt(squareAvg);
            }
            avg = avg + eps;
            if (momentum > 0f) {
                float buf = mb.getAtIndex(F32, i) * momentum + grad / avg;
                mb.setAtIndex(F32, i, buf);
                p.setAtIndex(F32, i, param - lr * buf);
            } else {
                p.setAtIndex(F32, i, param - (lr * grad) / avg);
            }
        }
    }
}
