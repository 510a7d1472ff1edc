package io.nag4j.core.cpu;

import io.nag4j.core.ir.Kernel;
import io.nag4j.core.ir.KernelDiff;
import io.nag4j.core.fuzz.RandomPrograms;
import io.nag4j.core.rule.Rule;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Differential property tests: random rules (random DAGs over every op, traced through the DSL)
 * on hostile inputs agree bit for bit between the reference evaluator and the CPU backend.
 */
class CpuDifferentialTest {

    @Property(tries = 200)
    void randomRulesAgreeWithTheEvaluator(@ForAll long seed) {
        Rule rule = RandomPrograms.rule(seed);
        Kernel k = rule.kernel();
        Random r = new Random(seed * 31 + 1);
        List<float[][]> groups = new ArrayList<>();
        int nGroups = 1 + r.nextInt(3);
        for (int g = 0; g < nGroups; g++) groups.add(CpuBackendTest.inputs(r, k, 1 + r.nextInt(200)));
        float[] scalars = RandomPrograms.hostileFloats(r, k.scalars().size());
        for (CpuBackend b : CpuBackendTest.eachLowering()) {
            try (b) {
                KernelDiff.assertSameAsEvaluator(k, groups, scalars, b, rule + " " + CpuBackendTest.flavor(b));
            }
        }
        try (CpuBackend cpu = CpuBackendTest.eagerParallel()) {
            KernelDiff.assertSameAsEvaluator(k, groups, scalars, cpu, rule + " in parallel");
        }
    }

    /** The rule generator's own contract: what it traces is the equation list it drew. */
    @Property(tries = 50)
    void randomRulesTraceToValidKernels(@ForAll long seed) {
        Kernel k = RandomPrograms.rule(seed).kernel();
        assertEquals(k.inputs().size() - 1, k.outputs().size());
        assertEquals(k.print(), RandomPrograms.rule(seed).kernel().print());
    }

    /** Long runs, so the loops are compiled by C2 (not just interpreted) before they are compared. */
    @Test
    void randomRulesAgreeOnceCompiled() {
        for (long seed = 1; seed <= 6; seed++) {
            Rule rule = RandomPrograms.rule(seed);
            Kernel k = rule.kernel();
            Random r = new Random(seed);
            List<float[][]> groups = List.<float[][]>of(CpuBackendTest.inputs(r, k, 200_000));
            float[] scalars = RandomPrograms.hostileFloats(r, k.scalars().size());
            for (CpuBackend b : CpuBackendTest.eachLowering()) {
                try (b) {
                    for (int rep = 0; rep < 3; rep++) {
                        KernelDiff.assertSameAsEvaluator(k, groups, scalars, b, rule + " " + CpuBackendTest.flavor(b) + " rep " + rep);
                    }
                }
            }
        }
    }
}
