package io.nag4j.gpu.ptx;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * {@link CudaParityTest} on the stand-in libcuda ({@link FakeCuda}), which runs the nag and sgd
 * kernels in C: the golden trajectories and rule parity then check the bindings' plumbing (argument
 * blocks, copies, launches) without a GPU. The PTX itself is not executed here.
 */
class CudaFakeParityTest extends CudaParityTest {
    @Override
    CudaContext openContext() { return FakeCuda.driver().open(0); }

    /** The stand-in runs only these two kernels in C. */
    @Override
    java.util.List<io.nag4j.core.rule.Rule> rules() {
        return java.util.List.of(io.nag4j.core.rule.Nag.INSTANCE, io.nag4j.core.rule.Sgd.INSTANCE);
    }

    @Override
    @Test
    void randomKernelsOverEveryOpMatchTheEvaluator() {
        // The stand-in runs only nag and sgd; it says so with CUDA_ERROR_NOT_SUPPORTED (801).
        CudaException e = assertThrows(CudaException.class, super::randomKernelsOverEveryOpMatchTheEvaluator);
        assertEquals(801, e.code());
    }
}
