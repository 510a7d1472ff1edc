package io.nag4j.gpu.plan;

import io.nag4j.core.bound.BoundOptimizer;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.tensor.ParamSet;
import org.junit.jupiter.api.Nested;

/** The bound-optimizer suite on the host backends: the CPU backend and the reference, bound through {@link Backends}. */
class HostBackendsParityTest {
    @Nested
    class Cpu extends BoundOptimizerParityTest {
        @Override
        protected BoundOptimizer bind(Rule rule, Hyperparams hp, ParamSet params, OptState state) {
            return Backends.bind("cpu", rule, hp, params, state);
        }

        @Override
        protected BoundOptimizer bind(Rule rule, Hyperparams hp, ParamSet params, OptState state, io.nag4j.core.optim.Mode mode) {
            return Backends.bind("cpu", rule, hp, params, state, mode);
        }
    }

    @Nested
    class Reference extends BoundOptimizerParityTest {
        @Override
        protected BoundOptimizer bind(Rule rule, Hyperparams hp, ParamSet params, OptState state) {
            return Backends.bind("reference", rule, hp, params, state);
        }

        @Override
        protected BoundOptimizer bind(Rule rule, Hyperparams hp, ParamSet params, OptState state, io.nag4j.core.optim.Mode mode) {
            return Backends.bind("reference", rule, hp, params, state, mode);
        }
    }
}
