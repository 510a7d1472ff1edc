package io.nag4j.gpu.ptx;

import io.nag4j.core.bound.BoundOptimizer;
import io.nag4j.core.optim.Mode;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.MasterWeights;
import io.nag4j.core.rule.Rounding;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Rules;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.gpu.plan.Backends;
import io.nag4j.gpu.plan.DeviceOptimizer;
import io.nag4j.gpu.plan.MasterWeightsParityTest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Mixed precision through the CUDA backend's whole path on the stand-in libcuda: the device
 * optimizer's packing, the tensor table of stochastic rounding, the argument block and the real
 * PTX (run by {@link PtxInterpreter}), against the independent reference, every step, bit for bit.
 */
class CudaFakeMasterWeightsTest {
    @AfterEach
    void launchesDidNotFail() { FakeCuda.assertNoLaunchFailure(); }

    @Test
    void everyRuleBothRoundingsMatchTheReferenceThroughTheCudaBinding() {
        for (Rule base : Rules.all()) {
            for (String precision : List.of("bf16", "f16")) {
                for (Rounding rounding : MasterWeightsParityTest.ROUNDINGS) {
                    MasterWeights mw = new MasterWeights(base, precision, rounding);
                    Hyperparams hp = base.defaults();
                    SplittableRandom r = new SplittableRandom(precision.hashCode() + 7L * base.name().hashCode());
                    try (ParamSet p = MasterWeightsParityTest.params(r, mw);
                         BoundOptimizer ref = Backends.bind("reference", mw, hp, p, null);
                         BoundOptimizer dev = DeviceOptimizer.bind(mw, hp, p, FakeCuda.driver(), 0, Mode.EXACT)) {
                        for (int t = 1; t <= 4; t++) {
                            try (ParamSet u = MasterWeightsParityTest.updates(r, p, t)) {
                                ref.step(u);
                                dev.step(u);
                            }
                            try (ParamSet pr = ref.readParams(); ParamSet pd = dev.readParams(); OptState sr = ref.readState(); OptState sd = dev.readState()) {
                                String where = base.name() + " " + precision + " rounded " + rounding + " on the stand-in CUDA, step " + t;
                                MasterWeightsParityTest.same(where + " param", pr, pd);
                                for (String slot : mw.slots()) MasterWeightsParityTest.same(where + " slot " + slot, sr.slot(slot), sd.slot(slot));
                            }
                        }
                    }
                }
            }
        }
    }
}
