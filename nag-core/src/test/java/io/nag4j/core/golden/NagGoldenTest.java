package io.nag4j.core.golden;

import io.nag4j.core.optim.EvaluatorExecutor;
import io.nag4j.core.optim.KernelOptimizer;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.optim.Optimizer;
import io.nag4j.core.reference.NagReference;
import io.nag4j.core.rule.Nag;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The seed's golden cases A, B, C, bit for bit, on the hand-written reference and on the traced kernel. */
public class NagGoldenTest {

    /** Replays every golden trajectory through {@code opt}, checking every stated value. */
    public static void replayAll(Optimizer opt) {
        for (NagGolden.Trajectory tr : NagGolden.all()) replay(opt, tr);
    }

    public static void replay(Optimizer opt, NagGolden.Trajectory tr) {
        List<Tensor> ps = new ArrayList<>();
        for (int i = 0; i < tr.names().size(); i++) ps.add(Tensor.of(tr.names().get(i), tr.theta0().get(i), tr.shapes().get(i)));
        try (ParamSet params = new ParamSet(ps); ParamSet updates = params.zerosLike(""); OptState state = opt.init(params)) {
            for (int s = 0; s < tr.steps(); s++) {
                for (int i = 0; i < params.size(); i++) updates.get(i).copyFrom(tr.updates()[s][i]);
                opt.step(state, params, updates);
                List<float[]> theta = new ArrayList<>(), phi = new ArrayList<>();
                for (int i = 0; i < params.size(); i++) {
                    theta.add(params.get(i).toArray());
                    phi.add(state.slot("phi").get(i).toArray());
                }
                NagGolden.check(tr, s + 1, theta, phi);
            }
            assertEquals(tr.steps(), state.step());
        }
    }

    @Test
    void handWrittenReferenceMatchesSeedBitForBit() {
        replayAll(new NagReference());
    }

    @Test
    void tracedKernelOnTheEvaluatorMatchesSeedBitForBit() {
        replayAll(new KernelOptimizer(Nag.INSTANCE, Nag.INSTANCE.defaults(), EvaluatorExecutor.INSTANCE));
    }

    @Test
    void nagTracesToTheSeedsOpOrder() {
        assertEquals("""
                kernel nag
                  in param, update, phi
                  scalar eta, mu, mask
                  v0 = mul %mu, %mask
                  v1 = mul update, %eta
                  v2 = sub param, v1
                  v3 = sub v2, phi
                  v4 = mul v3, v0
                  v5 = add v2, v4
                  out param = v5
                  out phi = v2
                """, Nag.INSTANCE.kernel().print());
    }
}
