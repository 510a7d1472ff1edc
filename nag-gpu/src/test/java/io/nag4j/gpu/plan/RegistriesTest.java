package io.nag4j.gpu.plan;

import io.nag4j.core.bound.BoundOptimizer;
import io.nag4j.core.rule.Nag;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.DeviceUnavailableException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Drivers, Backends' device specs and Renderers. */
class RegistriesTest {
    @Test
    void parsesDeviceSpecs() {
        assertEquals(new Drivers.Spec("opencl", 0), Drivers.parseSpec("opencl"));
        assertEquals(new Drivers.Spec("opencl", 2), Drivers.parseSpec(" OpenCL:2 "));
        assertEquals(new Drivers.Spec("cuda", 0), Drivers.parseSpec("cuda:0"));
        for (String bad : List.of("", "opencl:", "opencl:-1", "opencl:x", ":1", "opencl:1:2", "opencl:+1")) {
            assertThrows(IllegalArgumentException.class, () -> Drivers.parseSpec(bad), bad);
        }
    }

    @Test
    void backendsBindRegisteredDriversInExactModeAndNameWhatIsMissing() {
        FakeDriver fake = new FakeDriver("fake", List.of(FakeDriver.device("fake", 0, true), FakeDriver.device("fake", 1, true)));
        Drivers.register("fake", () -> fake);
        try (ParamSet params = ParamSet.of(Tensor.of("w", 1f, 2f, 3f)); ParamSet updates = params.zerosLike("")) {
            try (BoundOptimizer b = Backends.bind("fake:1", Nag.INSTANCE, Nag.INSTANCE.defaults(), params, null)) {
                assertInstanceOf(DeviceOptimizer.class, b);
                assertTrue(b.where().startsWith("fake:1 "), b.where());
                b.step(updates);
                assertEquals(1, fake.launches);
            }
            try (BoundOptimizer b = Backends.bind("FAKE", Nag.INSTANCE, Nag.INSTANCE.defaults(), params, null)) {
                assertTrue(b.where().startsWith("fake:0 "), "no number means device 0: " + b.where());
            }
            // A device number the working driver lacks is the user's mistake (exit 2 in the CLI), not the environment's.
            var missing = assertThrows(IllegalArgumentException.class,
                    () -> Backends.bind("fake:5", Nag.INSTANCE, Nag.INSTANCE.defaults(), params, null));
            assertTrue(missing.getMessage().contains("fake:5") && missing.getMessage().contains("fake:1"), missing.getMessage());
            if (!Drivers.isRegistered("cuda")) {
                var noCuda = assertThrows(DeviceUnavailableException.class,
                        () -> Backends.bind("cuda:0", Nag.INSTANCE, Nag.INSTANCE.defaults(), params, null));
                assertTrue(noCuda.getMessage().contains("cuda:0") && noCuda.getMessage().contains("fake[:N]"), noCuda.getMessage());
            }
            var unknown = assertThrows(IllegalArgumentException.class,
                    () -> Backends.bind("tpu", Nag.INSTANCE, Nag.INSTANCE.defaults(), params, null));
            assertTrue(unknown.getMessage().contains("'tpu'") && unknown.getMessage().contains("cpu, reference"), unknown.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Backends.bind("fake:x", Nag.INSTANCE, Nag.INSTANCE.defaults(), params, null));
        } finally {
            Drivers.unregister("fake");
        }
    }

    @Test
    void backendsBindInExactModeSoADeviceThatIsNotBitExactIsRefused() {
        Drivers.register("flushy", FakeDriver::notBitExact);
        try (ParamSet params = ParamSet.of(Tensor.of("w", 1f))) {
            var e = assertThrows(TaskFailedException.class,
                    () -> Backends.bind("flushy", Nag.INSTANCE, Nag.INSTANCE.defaults(), params, null));
            assertTrue(e.getMessage().contains("EXACT"), e.getMessage());
        } finally {
            Drivers.unregister("flushy");
        }
    }

    @Test
    void anUnavailableDriverSaysWhy() {
        Drivers.register("gone", () -> new FakeDriver("gone", List.of()).unavailable("libGone.so.1 not found"));
        try (ParamSet params = ParamSet.of(Tensor.of("w", 1f))) {
            var e = assertThrows(DeviceUnavailableException.class,
                    () -> Backends.bind("gone", Nag.INSTANCE, Nag.INSTANCE.defaults(), params, null));
            assertTrue(e.getMessage().contains("'gone'") && e.getMessage().contains("libGone.so.1"), e.getMessage());
        } finally {
            Drivers.unregister("gone");
        }
        // A driver that starts but has no device at all: the environment, not a bad device number.
        Drivers.register("empty", () -> new FakeDriver("empty", List.of()));
        try (ParamSet params = ParamSet.of(Tensor.of("w", 1f))) {
            var e = assertThrows(DeviceUnavailableException.class,
                    () -> Backends.bind("empty:0", Nag.INSTANCE, Nag.INSTANCE.defaults(), params, null));
            assertTrue(e.getMessage().contains("'empty:0'") && e.getMessage().contains("no device"), e.getMessage());
        } finally {
            Drivers.unregister("empty");
        }
        Drivers.register("broken", () -> { throw new UnsatisfiedLinkError("no libBroken"); });
        try {
            var e = assertThrows(DeviceUnavailableException.class, () -> Drivers.get("broken"));
            assertTrue(e.getMessage().contains("no libBroken"), e.getMessage());
        } finally {
            Drivers.unregister("broken");
        }
        assertThrows(IllegalArgumentException.class, () -> Drivers.get("never-registered"));
    }

    @Test
    void renderersKnowIrAndRefuseWhatTheyLack() {
        String ir = Renderers.render("ir", Nag.INSTANCE.kernel(), Mode.EXACT);
        assertEquals(Nag.INSTANCE.kernel().print(), ir);
        var unknown = assertThrows(IllegalArgumentException.class, () -> Renderers.render("cobol", Nag.INSTANCE.kernel(), Mode.EXACT));
        assertTrue(unknown.getMessage().contains("unknown target 'cobol'"), unknown.getMessage());
        if (!Renderers.has("ptx")) {
            var none = assertThrows(IllegalArgumentException.class, () -> Renderers.render("ptx", Nag.INSTANCE.kernel(), Mode.EXACT));
            assertTrue(none.getMessage().contains("no renderer"), none.getMessage());
        }
        Renderers.register("test-target", (k, m) -> k.name() + "/" + m);
        try {
            assertEquals("nag/FAST", Renderers.render("TEST-TARGET", Nag.INSTANCE.kernel(), Mode.FAST));
        } finally {
            Renderers.unregister("test-target");
        }
    }
}
