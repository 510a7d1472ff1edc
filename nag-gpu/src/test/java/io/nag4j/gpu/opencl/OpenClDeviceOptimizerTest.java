package io.nag4j.gpu.opencl;

import io.nag4j.gpu.device.Driver;
import io.nag4j.gpu.plan.DeviceOptimizerParityTest;
import org.junit.jupiter.api.BeforeEach;

/**
 * The device-optimizer parity suite (golden NAG, every rule against its reference over 300 steps
 * on 100+ odd tensors, failed steps, resume) on the real OpenCL driver: skipped without a platform
 * unless NAG4J_REQUIRE_OPENCL=1.
 */
class OpenClDeviceOptimizerTest extends DeviceOptimizerParityTest {
    private OpenClDriver driver;

    @BeforeEach
    void driver0() { driver = OpenClTestSupport.driverOrSkip(); }

    @Override
    protected Driver driver() { return driver; }
}
