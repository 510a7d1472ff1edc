package io.nag4j.tornado;

import io.nag4j.core.optim.OptState;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.plan.Backends;
import io.nag4j.core.bound.BoundOptimizer;
import io.nag4j.gpu.plan.BoundOptimizerParityTest;

/** The parity suite on {@code tornado}: TornadoVM's JIT on nag4j's Java kernel, in a real TornadoVM task graph, bit for bit. */
class TornadoJitParityTest extends BoundOptimizerParityTest {
    @Override
    protected BoundOptimizer bind(Rule rule, Hyperparams hp, ParamSet params, OptState state) {
        TornadoTestSupport.requireOrSkip("tornado");
        return Backends.bind("tornado", rule, hp, params, state, Mode.EXACT);
    }

    /**
     * FAST's fused kernels need an exact fma, which TornadoVM's JIT cannot compute: every built-in
     * rule with a multiply-add to fuse (all of them) is refused at bind, naming the rule and why, and
     * nothing is left bound (tornado-prebuilt runs FAST bit for bit: TornadoPrebuiltParityTest).
     */
    @Override
    @org.junit.jupiter.api.Test
    protected void fastModeGivesTheFusedKernelsBitsForEveryConfiguration() {
        TornadoTestSupport.requireOrSkip("tornado");
        for (Rule rule : io.nag4j.core.rule.Rules.all()) {
            try (ParamSet params = ParamSet.of(io.nag4j.core.tensor.Tensor.of("w", 1f, -2f, 3f))) {
                var e = org.junit.jupiter.api.Assertions.assertThrows(io.nag4j.gpu.plan.NotBitExactException.class,
                        () -> Backends.bind("tornado", rule, rule.defaults(), params, null, Mode.FAST), rule.name());
                org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("FAST mode cannot give rule '" + rule.name() + "'")
                        && e.getMessage().contains("fma"), e.getMessage());
            }
        }
    }

    /** TornadoVM's execute costs about a millisecond on PoCL here: 100 steps per rule keep the suite in CI's time. */
    @Override
    protected int ruleSteps() { return 100; }
}
