package io.nag4j.tornado;

import io.nag4j.gpu.device.DeviceUnavailableException;
import io.nag4j.gpu.plan.Backends;


/**
 * Whether TornadoVM runs here: a test that needs it skips with the reason, unless
 * {@code NAG4J_REQUIRE_TORNADO=1} (CI sets it) makes a missing TornadoVM a failure.
 */
public final class TornadoTestSupport {
    private TornadoTestSupport() {}

    public static boolean required() { return io.nag4j.core.testing.Requires.required("TORNADO"); }

    /** Skips (or, when required, fails) unless backend {@code name} has a device. */
    public static void requireOrSkip(String name) {
        String why;
        try {
            why = Backends.get(name).devices().isEmpty() ? name + " has no device" : null;
        } catch (DeviceUnavailableException e) {
            why = e.getMessage();
        }
        io.nag4j.core.testing.Requires.available("TORNADO", why == null ? null : name + " is unavailable: " + why);
    }
}
