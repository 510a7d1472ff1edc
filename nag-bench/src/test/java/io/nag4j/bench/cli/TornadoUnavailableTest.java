package io.nag4j.bench.cli;

import io.nag4j.gpu.device.DeviceUnavailableException;
import io.nag4j.gpu.plan.Backends;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * On a stock JVM (every command but the tornado ones runs on one) the tornado backends are there
 * and say why they cannot run: exit 1 with one line, never a crash or an unknown backend.
 */
class TornadoUnavailableTest {
    @Test
    void aStockJvmSaysWhyTornadoIsUnavailableInOneLineWithExitCode1() {
        for (String backend : new String[] {"tornado", "tornado-prebuilt:0"}) {
            var e = assertThrows(DeviceUnavailableException.class, () -> Backends.resolve(backend), backend);
            assertTrue(e.getMessage().contains("TORNADOVM_HOME") || e.getMessage().contains("TornadoVM's flags"), e.getMessage());
            StringWriter out = new StringWriter(), err = new StringWriter();
            int code = Main.run(new PrintWriter(out), new PrintWriter(err), "agree", "--backend", backend, "--steps", "1");
            assertEquals(1, code, err.toString());
            assertEquals(1, err.toString().strip().lines().count(), err.toString());
            assertTrue(err.toString().startsWith("nag4j: backend '" + backend + "': "), err.toString());
        }
    }
}
