package io.nag4j.gpu.ptx;

import io.nag4j.gpu.device.Driver;
import io.nag4j.gpu.plan.DeviceOptimizerParityTest;
import org.junit.jupiter.api.AfterEach;

/**
 * The device-optimizer parity suite ({@link CudaDeviceOptimizerTest} on a GPU) on the stand-in
 * libcuda, every launch the real PTX in {@link PtxInterpreter}: runs without a GPU. The rule test
 * runs 30 steps per rule, not 300: interpreted, 300 steps of 7,000 elements for every rule take
 * about 21 s here, 30 about 3 s, and each step is compared bit for bit anyway.
 */
class CudaFakeDeviceOptimizerTest extends DeviceOptimizerParityTest {
    @Override
    protected Driver driver() { return FakeCuda.driver(); }

    @Override
    protected int ruleSteps() { return 30; }

    @AfterEach
    void launchesDidNotFail() { FakeCuda.assertNoLaunchFailure(); }
}
