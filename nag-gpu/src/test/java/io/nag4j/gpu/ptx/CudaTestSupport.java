package io.nag4j.gpu.ptx;

import io.nag4j.core.ir.Kernel;
import io.nag4j.core.optim.KernelExecutor;
import io.nag4j.core.tensor.Tensor;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.CompiledKernel;
import io.nag4j.gpu.device.DeviceBuffer;
import io.nag4j.gpu.device.DeviceInfo;
import io.nag4j.gpu.device.DeviceUnavailableException;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.util.ArrayList;
import java.util.List;


/** Opening CUDA device 0 for runtime tests, or skipping with the reason (failing if NAG4J_REQUIRE_CUDA=1). */
final class CudaTestSupport {
    private CudaTestSupport() {}

    /** ptxas, or skip the test (fail if NAG4J_REQUIRE_PTXAS=1). */
    static java.nio.file.Path requirePtxas() {
        java.nio.file.Path p = Ptxas.find();
        io.nag4j.core.testing.Requires.available("PTXAS", p == null ? "ptxas is not on the PATH" : null);
        return p;
    }

    static boolean libcudaLoads() {
        try {
            SymbolLookup.libraryLookup(Cuda.LIBRARY, Arena.ofAuto());
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Device 0, or the test is skipped (failed when NAG4J_REQUIRE_CUDA=1) with why there is none. */
    static CudaContext openDevice0() {
        return driverOrSkip().open(0);
    }

    /** The real driver with at least one device, or the test is skipped (failed when NAG4J_REQUIRE_CUDA=1). */
    static CudaDriver driverOrSkip() {
        String why;
        try {
            CudaDriver driver = new CudaDriver();
            List<DeviceInfo> devices = driver.devices();
            if (!devices.isEmpty()) return driver;
            why = "the CUDA driver reports no device";
        } catch (DeviceUnavailableException e) {
            why = e.getMessage();
        }
        io.nag4j.core.testing.Requires.available("CUDA", "no CUDA device: " + why);
        throw new AssertionError("unreachable");
    }

    /** Runs kernels on a CUDA context over host tensors: copy in, launch, copy the outputs back. */
    record Executor(CudaContext ctx, Mode mode) implements KernelExecutor {
        @Override public String name() { return "cuda-test"; }

        @Override
        public void execute(Kernel kernel, List<Tensor[]> groups, float[] scalars) {
            CompiledKernel ck = ctx.compile(kernel, mode);
            for (Tensor[] g : groups) {
                List<DeviceBuffer> bufs = new ArrayList<>();
                try {
                    for (Tensor t : g) {
                        DeviceBuffer b = ctx.allocate(t.name(), t.byteSize());
                        bufs.add(b);
                        ctx.copyIn(b, 0, t.segment(), false);
                    }
                    ctx.launch(ck, g[0].size(), bufs, scalars);
                    for (Kernel.Output o : kernel.outputs()) ctx.copyOut(bufs.get(o.input()), 0, g[o.input()].segment());
                } finally {
                    for (DeviceBuffer b : bufs) b.close();
                }
            }
        }
    }
}
