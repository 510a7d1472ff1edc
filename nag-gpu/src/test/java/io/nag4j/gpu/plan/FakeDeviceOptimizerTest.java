package io.nag4j.gpu.plan;

import io.nag4j.core.rule.Nag;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.Driver;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The parity tests on the fake driver, plus what only the fake can count. */
class FakeDeviceOptimizerTest extends DeviceOptimizerParityTest {
    final FakeDriver fake = FakeDriver.exact();

    @Override
    protected Driver driver() { return fake; }

    @Test
    void onlyTheUpdatesMoveAndOneLaunchPerStep() {
        try (ParamSet params = oddParams(new Random(1), ""); ParamSet updates = params.zerosLike("");
             DeviceOptimizer dev = DeviceOptimizer.bind(Nag.INSTANCE, Nag.INSTANCE.defaults(), params, fake, 0, Mode.EXACT)) {
            assertEquals(1, fake.compiles, "compiled at bind");
            for (int s = 0; s < 10; s++) dev.step(updates);
            assertEquals(10, fake.launches, "one launch per step for " + params.size() + " tensors");
            assertEquals(10, fake.copiesIn("update"), "the updates, in one copy per step");
            assertEquals(1, fake.copiesIn("param"), "params copied in once");
            assertEquals(1, fake.copiesIn("state.phi"), "state copied in once");
            assertEquals(12, fake.copiesIn, "nothing else copied in");
            assertEquals(0, fake.copiesOut, "nothing read back unasked");
            dev.readParams().close();
            dev.readState().close();
            assertEquals(1, fake.copiesOut("param"));
            assertEquals(1, fake.copiesOut("state.phi"));
            assertTrue(dev.where().startsWith("fake:0"), dev.where());
        }
    }

    @Test
    void exactOnADeviceThatIsNotBitExactFailsAtBind() {
        FakeDriver flushing = FakeDriver.notBitExact();
        try (ParamSet params = ParamSet.of(Tensor.of("w", 1f, 2f))) {
            var e = assertThrows(TaskFailedException.class,
                    () -> DeviceOptimizer.bind(Nag.INSTANCE, Nag.INSTANCE.defaults(), params, flushing, 0, Mode.EXACT));
            assertTrue(e.getMessage().contains("fake:0") && e.getMessage().contains("EXACT") && e.getMessage().contains("denormals"), e.getMessage());
            assertTrue(flushing.contexts().getFirst().isClosed(), "the failed bind released the device");
        }
    }

    /** A binding larger than the device is refused at bind, naming both sizes, before anything is allocated or opened. */
    @Test
    void aBindingLargerThanTheDeviceIsRefusedBeforeAnythingHappens() {
        FakeDriver small = new FakeDriver("fake", List.of(new io.nag4j.gpu.device.DeviceInfo("fake", 0, "small fake", "nag4j tests", "Fake 1.0",
                4096, 1, true, true)));
        try (ParamSet params = ParamSet.of(Tensor.of("w", new float[400]), Tensor.of("b", new float[10]))) {
            float before = params.get(0).get(7);
            var e = assertThrows(IllegalArgumentException.class,
                    () -> DeviceOptimizer.bind(io.nag4j.core.rule.Nag.INSTANCE, io.nag4j.core.rule.Nag.INSTANCE.defaults(), params, small, 0, Mode.EXACT));
            assertTrue(e.getMessage().contains("4920 bytes") && e.getMessage().contains("4096 bytes") && e.getMessage().contains("fake:0"), e.getMessage());
            assertEquals(0, small.opens, "the device was not even opened");
            assertEquals(before, params.get(0).get(7), "host params intact");
        }
    }
}
