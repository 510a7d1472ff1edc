package io.nag4j.core.reference;

import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Sgd;
import io.nag4j.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;

import static io.nag4j.core.tensor.Tensor.F32;

/** SGD by hand: {@code param - update*eta}. */
public final class SgdReference extends ReferenceOptimizer {
    public SgdReference(Hyperparams hp) { super(Sgd.INSTANCE, hp); }

    @Override
    protected void stepTensor(Tensor[] g, long t, Hyperparams hp) {
        float eta = hp.get("eta");
        MemorySegment p = g[0].segment(), u = g[1].segment();
        for (long i = 0, n = g[0].size(); i < n; i++) {
            p.setAtIndex(F32, i, p.getAtIndex(F32, i) - u.getAtIndex(F32, i) * eta);
        }
    }
}
