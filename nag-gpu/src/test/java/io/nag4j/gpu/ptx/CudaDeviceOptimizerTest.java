package io.nag4j.gpu.ptx;

import io.nag4j.gpu.device.Driver;
import io.nag4j.gpu.plan.DeviceOptimizerParityTest;
import org.junit.jupiter.api.BeforeEach;

/**
 * The device-optimizer parity suite (golden NAG, every rule against its reference over 300 steps
 * on 100+ odd tensors, failed steps, resume) on the real CUDA driver, device 0: skipped without
 * one unless NAG4J_REQUIRE_CUDA=1. tools/gpu/check.sh runs it on a GPU visit.
 */
class CudaDeviceOptimizerTest extends DeviceOptimizerParityTest {
    private CudaDriver driver;

    @BeforeEach
    void driver0() { driver = CudaTestSupport.driverOrSkip(); }

    @Override
    protected Driver driver() { return driver; }
}
