package io.nag4j.gpu.opencl;

import io.nag4j.gpu.device.DeviceContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

/**
 * Base of the OpenCL tests that share one context on device 0 for the whole class. Without an
 * OpenCL platform each test skips with the reason (a class-level abort would hide it), and with
 * NAG4J_REQUIRE_OPENCL=1 each fails instead.
 */
abstract class OpenClContextTest {
    protected static DeviceContext ctx;
    private static org.opentest4j.TestAbortedException unavailable;

    @BeforeAll
    static void open() {
        unavailable = null;
        try {
            ctx = OpenClTestSupport.driverOrSkip().open(0);
        } catch (org.opentest4j.TestAbortedException e) {
            unavailable = e;
        }
    }

    @BeforeEach
    void skipWithReasonIfUnavailable() {
        if (unavailable != null) throw unavailable;
    }

    @AfterAll
    static void close() {
        if (ctx != null) ctx.close();
        ctx = null;
    }
}
