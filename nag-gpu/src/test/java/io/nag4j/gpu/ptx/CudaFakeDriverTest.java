package io.nag4j.gpu.ptx;

import io.nag4j.core.ir.Kernel;
import io.nag4j.core.ir.Operand;
import io.nag4j.core.rule.Nag;
import io.nag4j.gpu.Mode;
import io.nag4j.gpu.device.DeviceBuffer;
import io.nag4j.gpu.device.DeviceInfo;
import io.nag4j.gpu.plan.DeviceOptimizer;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The driver against the stand-in libcuda: device info, JIT logs, and that close releases everything. */
class CudaFakeDriverTest {
    @Test
    void devicesComeFromTheDriver() {
        List<DeviceInfo> devices = FakeCuda.driver().devices();
        assertEquals(1, devices.size());
        DeviceInfo d = devices.getFirst();
        assertEquals(new DeviceInfo("cuda", 0, "Fake GPU", "NVIDIA", "CUDA driver API 12.8, sm_90", 1L << 30, 132, true, true), d);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FakeCuda.driver().open(1));
        assertTrue(e.getMessage().contains("no CUDA device 1"), e.getMessage());
    }

    @Test
    void jitFailureCarriesTheErrorLogAndName() {
        Kernel bad = new Kernel("FAKE_JIT_FAIL", List.of("param", "update"), List.of(), List.of(),
                List.of(new Kernel.Output(0, new Operand.Input(1))));
        try (CudaContext ctx = FakeCuda.driver().open(0)) {
            CudaException e = assertThrows(CudaException.class, () -> ctx.compile(bad, Mode.EXACT));
            assertEquals(218, e.code());
            assertEquals("FAKE_ERROR_218", e.errorName()); // from the driver's cuGetErrorName
            assertTrue(e.getMessage().contains("JIT error log: fake ptxas error: line 1"), e.getMessage());
            assertTrue(e.getMessage().startsWith("cuModuleLoadDataEx(nag4j_FAKE_JIT_FAIL_exact) on Fake GPU failed"), e.getMessage());
        }
    }

    @Test
    void errorNamesFallBackToTheTableWhenTheDriverHasNone() {
        Cuda cu = Cuda.load(FakeCuda.library().toString());
        assertEquals("FAKE_ERROR_2", cu.errorName(2));
        assertEquals("CUDA_ERROR_UNKNOWN", cu.errorName(999));
        assertEquals("CUresult 12345", cu.errorName(12345));
        CudaException e = assertThrows(CudaException.class, () -> cu.check(999, "cuSomething"));
        assertEquals("cuSomething failed: CUDA_ERROR_UNKNOWN (999)", e.getMessage());
    }

    @Test
    void closeReleasesEverythingItCreated() {
        long before = FakeCuda.live();
        int refs = FakeCuda.ctxRefs();
        CudaContext ctx = FakeCuda.driver().open(0);
        assertEquals(refs + 1, FakeCuda.ctxRefs());
        DeviceBuffer kept = ctx.allocate("kept", 4096);
        DeviceBuffer freed = ctx.allocate("freed", 16);
        freed.close();
        ctx.allocatePinned(64);
        ctx.compile(Nag.INSTANCE.kernel(), Mode.EXACT);
        ctx.profile(true);
        ctx.copyIn(kept, 0, java.lang.foreign.MemorySegment.ofArray(new float[8]), false); // staged and timed
        assertTrue(FakeCuda.live() > before);
        ctx.close();
        assertTrue(kept.isClosed());
        assertEquals(before, FakeCuda.live(), "allocations left after close");
        assertEquals(refs, FakeCuda.ctxRefs(), "primary context references left after close");
    }

    @Test
    void aDeviceOptimizerPinsTheUpdatesItCopiesEveryStepAndUnpinsOnClose() {
        int before = FakeCuda.registered();
        try (ParamSet params = ParamSet.of(Tensor.of("w", new float[] {1, 2, 3}), Tensor.of("b", new float[] {4}));
             ParamSet updates = ParamSet.of(Tensor.of("w", new float[] {1, 1, 1}), Tensor.of("b", new float[] {2}))) {
            DeviceOptimizer opt = DeviceOptimizer.bind(Nag.INSTANCE, Nag.INSTANCE.defaults(), params, FakeCuda.driver(), 0, Mode.EXACT);
            try (opt) {
                assertEquals(before + 1, FakeCuda.registered(), "the packed updates are page-locked at bind, nothing else");
                opt.step(updates, Nag.INSTANCE.defaults());
                opt.step(updates, Nag.INSTANCE.defaults());
                assertEquals(before + 1, FakeCuda.registered());
            }
            assertEquals(before, FakeCuda.registered(), "closing the optimizer unregisters what it pinned");
        }
    }

    @Test
    void aDriverThatIsThereButUnusableIsUnavailableNamingWhyAndNoGpuIsNoDevices() {
        try {
            for (int rc : new int[] {34, 304, 802, 803, 804}) {
                FakeCuda.setInitResult(rc);
                var e = assertThrows(io.nag4j.gpu.device.DeviceUnavailableException.class, () -> FakeCuda.driver().devices());
                assertTrue(e.getMessage().contains("cuInit returned FAKE_ERROR_" + rc + " (" + rc + ")"), e.getMessage());
            }
            FakeCuda.setInitResult(100); // CUDA_ERROR_NO_DEVICE: a driver without a GPU
            assertEquals(List.of(), FakeCuda.driver().devices());
            FakeCuda.setInitResult(2);   // anything else is an error of its own
            var e = assertThrows(CudaException.class, () -> FakeCuda.driver().devices());
            assertEquals(2, e.code());
        } finally {
            FakeCuda.setInitResult(0);
        }
    }

    @Test
    void aPlanPinsWhatItCopiesEveryExecutionBothWaysAndNothingElse() {
        int before = FakeCuda.registered();
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment p = arena.allocate(4096, 4096), u = arena.allocate(4096, 4096), out = arena.allocate(4096, 4096);
            var graph = new io.nag4j.gpu.plan.TaskGraph("sgd")
                    .transferToDevice(io.nag4j.gpu.plan.TransferMode.FIRST_EXECUTION, "p", p)
                    .transferToDevice(io.nag4j.gpu.plan.TransferMode.EVERY_EXECUTION, "u", u)
                    .task("step", io.nag4j.core.rule.Sgd.INSTANCE.kernel(), Mode.EXACT, 1024, List.of("p", "u"), () -> new float[] {0.5f})
                    .transferToHost(io.nag4j.gpu.plan.TransferMode.EVERY_EXECUTION, "p", out)
                    .snapshot();
            try (var plan = new io.nag4j.gpu.plan.ExecutionPlan(graph).withDevice(FakeCuda.driver(), 0)) {
                plan.execute();
                plan.execute();
                assertEquals(before + 2, FakeCuda.registered(), "u (in) and out (host destination) pinned once each; p, copied once, not");
            }
            assertEquals(before, FakeCuda.registered(), "closing the plan unpins");
        }
    }
}
