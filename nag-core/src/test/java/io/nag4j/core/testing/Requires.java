package io.nag4j.core.testing;

import org.junit.jupiter.api.Assumptions;

import java.util.Locale;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The one rule for tests that need something the machine may lack (OpenCL, ptxas, gcc for the
 * stand-in libcuda, a CUDA device, TornadoVM): run when it is there; otherwise skip with the
 * reason, unless {@code NAG4J_REQUIRE_<WHAT>=1} (CI sets it for what CI has) makes that a failure,
 * so a green CI cannot mean "skipped".
 */
public final class Requires {
    private Requires() {}

    /** Whether {@code NAG4J_REQUIRE_<what>=1} is set. */
    public static boolean required(String what) {
        return "1".equals(System.getenv(variable(what)));
    }

    /**
     * Returns when {@code whyMissing} is null (available); else fails the test when required, and
     * skips it (with the reason) when not.
     */
    public static void available(String what, String whyMissing) {
        if (whyMissing == null) return;
        String var = variable(what);
        if (required(what)) fail(var + "=1 but " + whyMissing);
        Assumptions.abort(what.toLowerCase(Locale.ROOT).replace('_', ' ') + " tests skipped: " + whyMissing + " (set " + var + "=1 to fail instead)");
    }

    private static String variable(String what) { return "NAG4J_REQUIRE_" + what.toUpperCase(Locale.ROOT); }
}
