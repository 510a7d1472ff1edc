package io.nag4j.gpu.ptx;

import io.nag4j.core.ir.Kernel;
import io.nag4j.core.ir.Operand;
import io.nag4j.core.rule.Nag;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.DeviceBuffer;
import io.nag4j.gpu.device.DeviceInfo;
import io.nag4j.gpu.plan.DeviceOptimizer;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import io.nag4j.core.golden.Bits;
import io.nag4j.core.rule.Rule;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The driver against the stand-in libcuda: device info, JIT logs, that close releases everything,
 * and that its interpreted launches fail cleanly, naming the access, when a launch strays outside its buffers.
 */
class CudaFakeDriverTest {
    @AfterEach
    void launchesDidNotFail() { FakeCuda.assertNoLaunchFailure(); }

    /** The bindings without CudaContext (so without its checks): a context, a stream and device memory on the stub. */
    private static final class Raw implements AutoCloseable {
        final Cuda cu = Cuda.load(FakeCuda.library().toString());
        final int dev;
        final MemorySegment stream;
        final List<Long> allocations = new ArrayList<>();
        final List<MemorySegment> modules = new ArrayList<>();
        final Arena arena = Arena.ofConfined();

        Raw() {
            assertEquals(0, cu.cuInit());
            dev = cu.device(0);
            cu.ctxSetCurrent(cu.primaryCtxRetain(dev));
            stream = cu.streamCreate(Cuda.STREAM_NON_BLOCKING);
        }

        long upload(float[] data) {
            long p = cu.memAlloc(4L * data.length);
            allocations.add(p);
            copyIn(p, data);
            return p;
        }

        void copyIn(long p, float[] data) {
            cu.memcpyHtoD(p, arena.allocateFrom(JAVA_FLOAT, data), 4L * data.length);
        }

        float[] download(long p, int n) {
            MemorySegment out = arena.allocate(JAVA_FLOAT, n);
            cu.memcpyDtoH(out, p, 4L * n);
            return out.toArray(JAVA_FLOAT);
        }

        MemorySegment function(String ptx, String entry) {
            Cuda.ModuleLoad load = cu.moduleLoadPtx(ptx);
            assertEquals(0, load.result(), load.errorLog());
            modules.add(load.module());
            return cu.moduleGetFunction(load.module(), entry);
        }

        /** cuLaunchKernel with kernelParams as CudaContext lays them out (n, the pointers, the scalars), unchecked. */
        void launch(MemorySegment function, int grid, long n, long[] pointers, float[] scalars) {
            int count = 1 + pointers.length + scalars.length;
            MemorySegment values = arena.allocate(8L * count, 8), params = arena.allocate(ADDRESS, count);
            values.setAtIndex(JAVA_LONG, 0, n);
            for (int i = 0; i < pointers.length; i++) values.setAtIndex(JAVA_LONG, 1 + i, pointers[i]);
            for (int i = 0; i < scalars.length; i++) values.set(JAVA_FLOAT, 8L * (1 + pointers.length + i), scalars[i]);
            for (int i = 0; i < count; i++) params.setAtIndex(ADDRESS, i, values.asSlice(8L * i, 8));
            cu.launchKernel(function, grid, PtxRenderer.BLOCK_SIZE, stream, params);
            cu.streamSynchronize(stream);
        }

        @Override
        public void close() {
            for (long p : allocations) cu.memFree(p);
            for (MemorySegment m : modules) cu.moduleUnload(m);
            cu.streamDestroy(stream);
            cu.primaryCtxRelease(dev);
            arena.close();
        }
    }

    /** A launch over 1000 elements of 100-element buffers, past CudaContext's checks: 719, the access named, and the JVM goes on. */
    @Test
    void aLaunchPastItsBuffersFailsNamingTheAccessAndTheNextLaunchWorks() {
        Kernel k = Nag.INSTANCE.kernel();
        float[] scalars = Nag.INSTANCE.scalars(1, Nag.INSTANCE.defaults());
        Random rnd = new Random(3);
        float[][] data = new float[3][];
        for (int i = 0; i < 3; i++) data[i] = CudaParityTest.randomFloats(rnd, 100);
        try (Raw raw = new Raw()) {
            long[] ptrs = new long[3];
            for (int i = 0; i < 3; i++) ptrs[i] = raw.upload(data[i]);
            MemorySegment f = raw.function(PtxRenderer.render(k, Mode.EXACT), PtxRenderer.entryName(k, Mode.EXACT));
            CudaException e = assertThrows(CudaException.class, () -> raw.launch(f, 4, 1000, ptrs, scalars));
            assertEquals(PtxLaunchHook.LAUNCH_FAILED, e.code());
            String why = FakeCuda.launchFailure().getMessage();
            assertTrue(why.contains("block 0 thread 100") && why.contains("out-of-bounds global access")
                    && why.contains("element 100 of 'p_in0 (param)', which holds 100"), why);

            // A pointer that is no allocation's.
            e = assertThrows(CudaException.class, () -> raw.launch(f, 1, 100, new long[] {ptrs[0], 0x10, ptrs[2]}, scalars));
            assertEquals(PtxLaunchHook.LAUNCH_FAILED, e.code());
            why = FakeCuda.launchFailure().getMessage();
            assertTrue(why.contains("p_in1 (update) = 0x10 is not in any device allocation"), why);

            // A grid that does not cover n.
            e = assertThrows(CudaException.class, () -> raw.launch(f, 1, 257, ptrs, scalars));
            why = FakeCuda.launchFailure().getMessage();
            assertTrue(why.contains("a grid of 1 x 256 threads does not cover n = 257"), why);

            // The same launch over n = 100 from fresh data: the evaluator's result, bit for bit.
            for (int i = 0; i < 3; i++) raw.copyIn(ptrs[i], data[i]);
            raw.launch(f, 1, 100, ptrs, scalars);
            float[][] want = PtxParityTest.copy(data);
            io.nag4j.gpu.opencl.OpenClTestSupport.evaluate(k, want, scalars);
            for (int i = 0; i < 3; i++) Bits.assertSame(want[i], raw.download(ptrs[i], 100), "input " + k.inputs().get(i));
        }
    }

    /** The real PTX with its bounds check removed: the first thread past n faults on its first load, and the launch fails. */
    @Test
    void aPtxWithoutItsBoundsCheckFailsTheLaunch() {
        Kernel k = Nag.INSTANCE.kernel();
        String ptx = PtxRenderer.render(k, Mode.EXACT);
        String check = "@%p0 bra $L_exit;";
        assertTrue(ptx.contains(check), ptx);
        try (Raw raw = new Raw()) {
            long[] ptrs = new long[3];
            for (int i = 0; i < 3; i++) ptrs[i] = raw.upload(new float[300]);
            MemorySegment f = raw.function(ptx.replace(check, ""), PtxRenderer.entryName(k, Mode.EXACT));
            CudaException e = assertThrows(CudaException.class, () -> raw.launch(f, 2, 300, ptrs, new float[3]));
            assertEquals(PtxLaunchHook.LAUNCH_FAILED, e.code());
            String why = FakeCuda.launchFailure().getMessage();
            assertTrue(why.contains("nag4j_nag_exact, block 1 thread 44, at 'ld.global.f32")
                    && why.contains("element 300 of 'p_in0 (param)', which holds 300"), why);
        }
    }

    /** Without the hook (the by-hand bench recipe), the stub's C kernels: nag and sgd match the evaluator; any other kernel is 801. */
    @Test
    void withoutTheInterpreterTheStubRunsNagAndSgdInC() {
        FakeCuda.interpretLaunches(false);
        try (CudaContext ctx = FakeCuda.driver().open(0)) {
            var exec = new CudaTestSupport.Executor(ctx, Mode.EXACT);
            Random rnd = new Random(9);
            for (Rule rule : List.of(Nag.INSTANCE, io.nag4j.core.rule.Sgd.INSTANCE)) {
                Kernel k = rule.kernel();
                float[] scalars = rule.scalars(2, rule.defaults());
                Tensor[] group = new Tensor[k.inputs().size()];
                float[][] want = new float[group.length][];
                for (int i = 0; i < group.length; i++) {
                    want[i] = CudaParityTest.randomFloats(rnd, 1000);
                    group[i] = Tensor.of(k.inputs().get(i), want[i].clone(), 1000);
                }
                io.nag4j.gpu.opencl.OpenClTestSupport.evaluate(k, want, scalars);
                exec.execute(k, List.<Tensor[]>of(group), scalars);
                for (int i = 0; i < group.length; i++) Bits.assertSame(want[i], group[i].toArray(), rule.name() + " " + k.inputs().get(i));
                for (Tensor t : group) t.close();
            }
            Rule adam = io.nag4j.core.rule.Rules.byName("adam");
            Tensor[] group = new Tensor[adam.kernel().inputs().size()];
            for (int i = 0; i < group.length; i++) group[i] = Tensor.zeros("t" + i, 4);
            CudaException e = assertThrows(CudaException.class,
                    () -> exec.execute(adam.kernel(), List.<Tensor[]>of(group), adam.scalars(1, adam.defaults())));
            assertEquals(801, e.code());
            for (Tensor t : group) t.close();
        } finally {
            FakeCuda.interpretLaunches(true);
        }
    }
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
