package io.nag4j.gpu.ptx;

import io.nag4j.core.rule.Rules;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.plan.DeviceOptimizer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Resource lifetime through the CUDA path (issue 12, part 2): bind, step, read and close an
 * optimizer {@value #CYCLES} times on the stand-in libcuda. Every device object the driver hands
 * out (allocations, modules, streams, events, pinned and registered memory: the stand-in counts
 * them) must be back to zero after each cycle, and the primary context's references back where
 * they were. Resident memory is not asserted here: in a shared test JVM the heap's own growth
 * swamps it (one CI run saw +36 KB a cycle, others -45 KB); {@code nag4j lifetime} measures it
 * with the heap touched up front, on PoCL and the CPU.
 */
class CudaFakeLifetimeTest {
    static final int CYCLES = Integer.getInteger("nag4j.lifetime.cycles", 2000);

    @Test
    void bindStepCloseCyclesLeaveNothingBehind() {
        CudaDriver driver = FakeCuda.driver();
        Rule adam = Rules.byName("adam");
        long liveBefore = FakeCuda.live();
        int refsBefore = FakeCuda.ctxRefs();
        try (ParamSet params = ParamSet.of(Tensor.zeros("w", 999), Tensor.zeros("b", 1)); ParamSet updates = params.zerosLike("")) {
            for (Tensor t : updates) for (long i = 0; i < t.size(); i++) t.set(i, 1e-3f * (i % 17));
            for (int c = 1; c <= CYCLES; c++) {
                try (DeviceOptimizer opt = DeviceOptimizer.bind(adam, adam.defaults(), params, driver, 0, Mode.EXACT)) {
                    for (int s = 0; s < 2; s++) opt.step(updates);
                    opt.readParams().close();
                    opt.readState().close();
                }
                assertEquals(liveBefore, FakeCuda.live(), "device objects left after cycle " + c);
                assertEquals(refsBefore, FakeCuda.ctxRefs(), "primary context references after cycle " + c);
            }
        }
        FakeCuda.assertNoLaunchFailure();
        assertTrue(FakeCuda.live() == liveBefore, "and none after the last");
    }
}
