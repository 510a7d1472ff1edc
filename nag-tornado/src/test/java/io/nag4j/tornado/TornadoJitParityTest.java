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

    /** TornadoVM's execute costs about a millisecond on PoCL here: 100 steps per rule keep the suite in CI's time. */
    @Override
    protected int ruleSteps() { return 100; }
}
