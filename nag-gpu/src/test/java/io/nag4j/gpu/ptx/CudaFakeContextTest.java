package io.nag4j.gpu.ptx;

/** {@link CudaContextTest} on the stand-in libcuda ({@link FakeCuda}): runs without a GPU. */
class CudaFakeContextTest extends CudaContextTest {
    @Override
    CudaContext openContext() { return FakeCuda.driver().open(0); }
}
