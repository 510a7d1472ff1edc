package io.nag4j.gpu.plan;

import io.nag4j.gpu.device.DeviceContext;
import io.nag4j.gpu.device.DeviceContextContract;

/** The device-context contract on the tests' fake driver, so the fake behaves as the real contexts do. */
class FakeDriverContractTest extends DeviceContextContract {
    @Override
    protected DeviceContext open() { return FakeDriver.exact().open(0); }
}
