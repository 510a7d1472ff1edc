package io.nag4j.tornado;

import io.nag4j.gpu.device.DeviceUnavailableException;
import io.nag4j.gpu.plan.Backends;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Whether TornadoVM runs here: a test that needs it skips with the reason, unless
 * {@code NAG4J_REQUIRE_TORNADO=1} (CI sets it) makes a missing TornadoVM a failure.
 */
public final class TornadoTestSupport {
    private TornadoTestSupport() {}

    public static boolean required() { return "1".equals(System.getenv("NAG4J_REQUIRE_TORNADO")); }

    /** Skips (or, when required, fails) unless backend {@code name} has a device. */
    public static void requireOrSkip(String name) {
        String why;
        try {
            why = Backends.get(name).devices().isEmpty() ? name + " has no device" : null;
        } catch (DeviceUnavailableException e) {
            why = e.getMessage();
        }
        if (why == null) return;
        if (required()) fail("NAG4J_REQUIRE_TORNADO=1 but " + name + " is unavailable: " + why);
        assumeTrue(false, name + " unavailable: " + why);
    }
}
