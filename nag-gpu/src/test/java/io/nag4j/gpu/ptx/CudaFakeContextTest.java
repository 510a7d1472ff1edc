package io.nag4j.gpu.ptx;

import org.junit.jupiter.api.AfterEach;

/** {@link CudaContextTest} on the stand-in libcuda ({@link FakeCuda}), its launches interpreted: runs without a GPU. */
class CudaFakeContextTest extends CudaContextTest {
    @Override
    CudaContext openContext() { return FakeCuda.driver().open(0); }

    @AfterEach
    void launchesDidNotFail() { FakeCuda.assertNoLaunchFailure(); }
}
