package io.nag4j.gpu.ptx;

import io.nag4j.gpu.device.DeviceContext;
import io.nag4j.gpu.device.DeviceContextContract;

/** The device-context contract on CUDA device 0 (skipped without a GPU). */
class CudaContractTest extends DeviceContextContract {
    @Override
    protected DeviceContext open() { return CudaTestSupport.openDevice0(); }
}
