package io.nag4j.gpu.ptx;

import io.nag4j.core.rule.Rules;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.plan.DeviceOptimizer;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Resource lifetime through the CUDA path (issue 12, part 2): bind, step, read and close an
 * optimizer {@value #CYCLES} times on the stand-in libcuda. Every device object the driver hands
 * out (allocations, modules, streams, events, pinned and registered memory: the stand-in counts
 * them) must be back to zero after each cycle, the primary context's references back where they
 * were, and the process's resident memory must not grow by more than {@value #BOUND_PER_CYCLE}
 * bytes a cycle once warm. ({@code nag4j lifetime} measures the same on PoCL and the CPU.)
 */
class CudaFakeLifetimeTest {
    static final int CYCLES = Integer.getInteger("nag4j.lifetime.cycles", 2000);
    static final long BOUND_PER_CYCLE = 4096;

    @Test
    void bindStepCloseCyclesLeaveNothingBehind() throws Exception {
        CudaDriver driver = FakeCuda.driver();
        Rule adam = Rules.byName("adam");
        long liveBefore = FakeCuda.live();
        int refsBefore = FakeCuda.ctxRefs();
        int warm = CYCLES / 4;
        long rssWarm = 0;
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
                if (c == warm) {
                    System.gc();
                    rssWarm = rss();
                }
            }
        }
        FakeCuda.assertNoLaunchFailure();
        System.gc();
        long perCycle = (rss() - rssWarm) / (CYCLES - warm);
        System.out.printf("stand-in libcuda lifetime: %d cycles, resident memory %+d bytes per cycle after %d (bound %d)%n",
                CYCLES, perCycle, warm, BOUND_PER_CYCLE);
        assertTrue(perCycle <= BOUND_PER_CYCLE, "resident memory grew " + perCycle + " bytes per cycle (bound " + BOUND_PER_CYCLE + ")");
    }

    static long rss() throws java.io.IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
        return 0;
    }
}
