package io.nag4j.gpu.plan;

import io.nag4j.core.bound.BoundOptimizer;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.reference.NagReference;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Nag;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.DeviceBuffer;
import io.nag4j.gpu.device.Driver;
import org.junit.jupiter.api.Test;

import java.util.OptionalLong;
import java.util.Random;

/**
 * {@link DeviceOptimizer} in EXACT mode against the hand-written references, bit for bit, on any
 * driver ({@link BoundOptimizerParityTest}'s suite, one launch per step, and updates already on
 * the device): a subclass names the driver (one line), e.g.
 * {@code class OpenClParityTest extends DeviceOptimizerParityTest { protected Driver driver() { return OpenCl.driverOrSkip(); } }}.
 * {@link #driver()} may skip the test with a JUnit assumption when the device is absent.
 */
public abstract class DeviceOptimizerParityTest extends BoundOptimizerParityTest {
    /** The driver under test (asked for once per bind). */
    protected abstract Driver driver();

    /** The device to bind to. */
    protected int deviceIndex() { return 0; }

    @Override
    protected DeviceOptimizer bind(Rule rule, Hyperparams hp, ParamSet params, OptState state) {
        return DeviceOptimizer.bind(rule, hp, params, driver(), deviceIndex(), Mode.EXACT, state);
    }

    @Override
    protected DeviceOptimizer bind(Rule rule, Hyperparams hp, ParamSet params, OptState state, Mode mode) {
        return DeviceOptimizer.bind(rule, hp, params, driver(), deviceIndex(), mode, state);
    }

    @Override
    protected OptionalLong launches(BoundOptimizer opt) { return OptionalLong.of(((DeviceOptimizer) opt).totalProfile().launches()); }

    @Test
    void updatesAlreadyOnTheDevice() {
        Hyperparams hp = Nag.INSTANCE.defaults();
        NagReference ref = new NagReference(hp);
        Random rnd = new Random(5);
        try (ParamSet refParams = oddParams(rnd, ""); ParamSet updates = refParams.zerosLike("");
             OptState refState = ref.init(refParams); DeviceOptimizer dev = bind(Nag.INSTANCE, hp, refParams, null)) {
            DeviceBuffer onDevice = dev.allocateDeviceUpdates();
            for (int s = 0; s < 4; s++) {
                for (Tensor u : updates) for (long e = 0; e < u.size(); e++) u.set(e, value(rnd));
                ref.step(refState, refParams, updates);
                if (s % 2 == 0) {
                    dev.copyToDevice(updates, onDevice);
                    dev.step(onDevice, hp);
                } else {
                    dev.step(updates);
                }
            }
            assertSameState("device and host updates alternating", dev, refParams, refState);
        }
    }

}
