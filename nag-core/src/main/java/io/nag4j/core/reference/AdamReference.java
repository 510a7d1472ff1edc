package io.nag4j.core.reference;

import io.nag4j.core.rule.Adam;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;

import static io.nag4j.core.tensor.Tensor.F32;

/** ngc-learn's Adam by hand, op by op in float32 (see {@link Adam} for the formula and op order). */
public final class AdamReference extends ReferenceOptimizer {
    public AdamReference(Hyperparams hp) { super(Adam.INSTANCE, hp); }

    public AdamReference() { this(Adam.INSTANCE.defaults()); }

    @Override
    protected void stepTensor(Tensor[] g, long t, Hyperparams hp) {
        float eta = hp.get("eta"), beta1 = hp.get("beta1"), beta2 = hp.get("beta2"), eps = hp.get("eps");
        // Host values: double from the float32 hyperparameters, rounded once.
        float omb1 = (float) (1.0 - beta1);
        float omb2 = (float) (1.0 - beta2);
        float c1 = (float) (1.0 - StrictMath.pow(beta1, (double) t));
        float c2 = (float) (1.0 - StrictMath.pow(beta2, (double) t));
        MemorySegment p = g[0].segment(), u = g[1].segment(), m1 = g[2].segment(), m2 = g[3].segment();
        for (long i = 0, n = g[0].size(); i < n; i++) {
            float upd = u.getAtIndex(F32, i);
            float g1 = beta1 * m1.getAtIndex(F32, i) + omb1 * upd;
            float sq = upd * upd;
            float g2 = beta2 * m2.getAtIndex(F32, i) + omb2 * sq;
            float num = eta * (g1 / c1);
            float den = (float) Math.sqrt(g2 / c2) + eps;
            p.setAtIndex(F32, i, p.getAtIndex(F32, i) - num / den);
            m1.setAtIndex(F32, i, g1);
            m2.setAtIndex(F32, i, g2);
        }
    }
}
