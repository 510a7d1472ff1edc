package io.nag4j.gpu.ptx;

import org.junit.jupiter.api.AfterEach;

/**
 * {@link CudaParityTest} on the stand-in libcuda ({@link FakeCuda}), whose launches run the real PTX
 * in {@link PtxInterpreter} over the stub's allocations, with the arguments read from the raw
 * kernelParams ({@link PtxLaunchHook}): the golden trajectories, every rule and the random kernels
 * over every op check the bindings (argument blocks, copies, launches) and the PTX together, without a GPU.
 */
class CudaFakeParityTest extends CudaParityTest {
    @Override
    CudaContext openContext() { return FakeCuda.driver().open(0); }

    @AfterEach
    void launchesDidNotFail() { FakeCuda.assertNoLaunchFailure(); }
}
