package io.nag4j.core.bound;

import io.nag4j.core.optim.Mode;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Rules;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bound-optimizer API with nag-core alone (no nag-gpu on this module's classpath): the cpu
 * binding gives the reference's bits in EXACT mode and the fused kernel's evaluator's in FAST,
 * for every built-in rule.
 */
class HostBoundOptimizerTest {
    @Test
    void cpuBindingsMatchTheReferenceInBothModesWithoutNagGpu() {
        for (Rule rule : Rules.all()) {
            for (Mode mode : Mode.values()) {
                Random r = new Random(rule.name().hashCode() + mode.ordinal());
                try (ParamSet params = ParamSet.of(random("w", 257, r), random("b", 3, r)); ParamSet updates = params.zerosLike("");
                     BoundOptimizer cpu = HostBoundOptimizer.cpu(rule, rule.defaults(), params, null, mode);
                     BoundOptimizer ref = HostBoundOptimizer.reference(rule, rule.defaults(), params, null, mode)) {
                    for (int s = 0; s < 20; s++) {
                        for (Tensor u : updates) for (long e = 0; e < u.size(); e++) u.set(e, (float) r.nextGaussian());
                        cpu.step(updates);
                        ref.step(updates);
                    }
                    assertEquals("cpu", cpu.where());
                    try (ParamSet a = cpu.readParams(); ParamSet b = ref.readParams(); OptState sa = cpu.readState(); OptState sb = ref.readState()) {
                        for (int i = 0; i < a.size(); i++) {
                            float[] x = a.get(i).toArray(), y = b.get(i).toArray();
                            for (int e = 0; e < x.length; e++) {
                                assertTrue(Float.floatToRawIntBits(x[e]) == Float.floatToRawIntBits(y[e]) || Float.isNaN(x[e]) && Float.isNaN(y[e]),
                                        rule.name() + " " + mode + " param " + a.get(i).name() + " element " + e + ": cpu " + x[e] + ", reference " + y[e]);
                            }
                        }
                        assertEquals(20, sa.step());
                        assertEquals(sb.slotNames(), sa.slotNames());
                    }
                }
            }
        }
    }

    private static Tensor random(String name, int n, Random r) {
        Tensor t = Tensor.zeros(name, n);
        for (long e = 0; e < n; e++) t.set(e, (float) r.nextGaussian());
        return t;
    }
}
