package io.nag4j.gpu.ptx;

import io.nag4j.gpu.device.DeviceUnavailableException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** What the CUDA driver does on a machine without one: these run everywhere. */
class CudaDriverTest {
    @Test
    void missingLibraryIsDeviceUnavailableWithTheReason() {
        CudaDriver driver = new CudaDriver("libcuda-nag4j-test-missing.so.1");
        assertEquals("cuda", driver.name());
        DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class, driver::devices);
        assertTrue(e.getMessage().startsWith("libcuda-nag4j-test-missing.so.1 not found: no NVIDIA driver"), e.getMessage());
        assertThrows(DeviceUnavailableException.class, () -> driver.open(0));
    }

    @Test
    void withoutLibcudaDevicesSaysSo() {
        assumeFalse(CudaTestSupport.libcudaLoads(), "libcuda.so.1 is installed here; covered by the runtime tests");
        DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class, () -> new CudaDriver().devices());
        assertTrue(e.getMessage().startsWith("libcuda.so.1 not found: no NVIDIA driver"), e.getMessage());
    }

    @Test
    void cudaExceptionNamesCallAndResult() {
        CudaException e = new CudaException("cuMemAlloc_v2(64 bytes)", 2, "CUDA_ERROR_OUT_OF_MEMORY");
        assertEquals("cuMemAlloc_v2(64 bytes) failed: CUDA_ERROR_OUT_OF_MEMORY (2)", e.getMessage());
        assertEquals(2, e.code());
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", e.errorName());
        assertTrue(new CudaException("cuModuleLoadDataEx", 218, "CUDA_ERROR_INVALID_PTX", "ptxas fatal: x").getMessage().endsWith(":\nptxas fatal: x"));
        assertEquals("CUDA_ERROR_INVALID_PTX", Cuda.KNOWN_ERRORS.get(218));
    }
}
