package io.nag4j.core.reference;

import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Nag;
import io.nag4j.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;

import static io.nag4j.core.tensor.Tensor.F32;

/** The seed's NAG by hand, op by op in float32 (see {@link Nag} for the formula). */
public final class NagReference extends ReferenceOptimizer {
    public NagReference(Hyperparams hp) { super(Nag.INSTANCE, hp); }

    public NagReference() { this(Nag.INSTANCE.defaults()); }

    @Override
    protected void stepTensor(Tensor[] g, long t, Hyperparams hp) {
        float eta = hp.get("eta");
        float mu = hp.get("mu");
        float muEff = mu * (t > 1 ? 1f : 0f);
        MemorySegment p = g[0].segment(), u = g[1].segment(), phiOld = g[2].segment();
        for (long i = 0, n = g[0].size(); i < n; i++) {
            float t1 = u.getAtIndex(F32, i) * eta;
            float phi = p.getAtIndex(F32, i) - t1;
            float d = phi - phiOld.getAtIndex(F32, i);
            float m = d * muEff;
            p.setAtIndex(F32, i, phi + m);
            phiOld.setAtIndex(F32, i, phi);
        }
    }
}
