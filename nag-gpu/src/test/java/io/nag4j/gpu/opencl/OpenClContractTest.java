package io.nag4j.gpu.opencl;

import io.nag4j.gpu.device.DeviceContext;
import io.nag4j.gpu.device.DeviceContextContract;

/** The device-context contract on OpenCL device 0 (PoCL in CI). */
class OpenClContractTest extends DeviceContextContract {
    @Override
    protected DeviceContext open() { return OpenClTestSupport.driverOrSkip().open(0); }
}
