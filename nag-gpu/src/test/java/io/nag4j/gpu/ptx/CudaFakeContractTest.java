package io.nag4j.gpu.ptx;

import io.nag4j.gpu.device.DeviceContext;
import io.nag4j.gpu.device.DeviceContextContract;
import org.junit.jupiter.api.AfterEach;

/** The device-context contract on the stand-in libcuda, its launches interpreted. */
class CudaFakeContractTest extends DeviceContextContract {
    @Override
    protected DeviceContext open() { return FakeCuda.driver().open(0); }

    @AfterEach
    void launchesDidNotFail() { FakeCuda.assertNoLaunchFailure(); }
}
