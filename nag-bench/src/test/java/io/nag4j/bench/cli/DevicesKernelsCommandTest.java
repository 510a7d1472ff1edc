package io.nag4j.bench.cli;

import io.nag4j.core.rule.Nag;
import io.nag4j.gpu.device.DeviceContext;
import io.nag4j.gpu.device.DeviceInfo;
import io.nag4j.gpu.device.DeviceUnavailableException;
import io.nag4j.gpu.device.Driver;
import io.nag4j.gpu.plan.Drivers;
import io.nag4j.gpu.plan.Renderers;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code nag4j devices} and {@code nag4j kernels} through Main, output captured. */
class DevicesKernelsCommandTest {
    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Main.run(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    /** A driver that only lists devices. */
    record ListingDriver(String name, List<DeviceInfo> devices, String unavailable) implements Driver {
        @Override
        public List<DeviceInfo> devices() {
            if (unavailable != null) throw new DeviceUnavailableException(unavailable);
            return devices;
        }

        @Override
        public DeviceContext open(int index) { throw new DeviceUnavailableException("listing only"); }
    }

    @Test
    void devicesListsBackendsDevicesAndWhyADriverIsUnavailable() {
        DeviceInfo good = new DeviceInfo("stub", 0, "Stub GPU", "Stub Inc", "Stub 3.0", 8L << 30, 16, true, true);
        DeviceInfo flushing = new DeviceInfo("stub", 1, "Stub FTZ", "Stub Inc", "Stub 1.2", 1L << 30, 2, false, true);
        Drivers.register("stub", () -> new ListingDriver("stub", List.of(good, flushing), null));
        Drivers.register("gone", () -> new ListingDriver("gone", List.of(), "libGone.so.1: cannot open shared object file"));
        // A driver failing with an error of its own (a half-installed ICD) comes before "stub": it must not hide it.
        Drivers.register("broken", () -> new Driver() {
            @Override public String name() { return "broken"; }
            @Override public List<DeviceInfo> devices() { throw new IllegalStateException("clGetDeviceIDs failed: CL_INVALID_VALUE (-30)"); }
            @Override public DeviceContext open(int index) { throw new IllegalStateException("broken"); }
        });
        Drivers.unregister("stub");
        Drivers.register("stub", () -> new ListingDriver("stub", List.of(good, flushing), null));
        try {
            Run r = run("devices");
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("cpu") && r.out().contains(Runtime.getRuntime().availableProcessors() + " cores"), r.out());
            assertTrue(r.out().contains("reference"), r.out());
            assertTrue(r.out().contains("stub:0             Stub GPU | Stub Inc | Stub 3.0 | 8.0 GiB | 16 compute units | bit-exact: yes"), r.out());
            assertTrue(r.out().contains("stub:1             Stub FTZ") && r.out().contains("bit-exact: no (the device flushes fp32 denormals to zero)"), r.out());
            assertTrue(r.out().contains("gone               unavailable: libGone.so.1"), r.out());
            assertTrue(r.out().contains("broken             error: clGetDeviceIDs failed: CL_INVALID_VALUE (-30)"), r.out());
            assertTrue(r.out().indexOf("broken ") < r.out().indexOf("stub:0"), "the failing driver came first: " + r.out());
        } finally {
            Drivers.unregister("stub");
            Drivers.unregister("gone");
            Drivers.unregister("broken");
        }
    }

    @Test
    void kernelsPrintsTheIr() {
        Run r = run("kernels", "--optimizer", "nag", "--target", "ir");
        assertEquals(0, r.code(), r.err());
        assertEquals(Nag.INSTANCE.kernel().print(), r.out());
    }

    @Test
    void kernelsPrintsTheKernelTheFlagsChoose() {
        Run r = run("kernels", "--optimizer", "rmsprop", "--target", "ir", "--hp", "centered=1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("kernel rmsprop_centered\n  in param, update, square_avg, grad_avg\n"), r.out());
        Run plain = run("kernels", "--optimizer", "rmsprop", "--target", "ir");
        assertTrue(plain.out().startsWith("kernel rmsprop\n  in param, update, square_avg\n"), plain.out());
        Run bad = run("kernels", "--optimizer", "rmsprop", "--target", "ir", "--hp", "centred=1");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("centred"), bad.err());
    }

    @Test
    void kernelsPrintsTheFusedIrInFastMode() {
        Run r = run("kernels", "--optimizer", "nag", "--target", "ir", "--mode", "fast");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("v2 = fma v1, %eta, param") && r.out().contains("v4 = fma v3, v0, v2"), "nag's two multiply-adds fused: " + r.out());
        Run exact = run("kernels", "--optimizer", "nag", "--target", "ir");
        assertTrue(!exact.out().contains("fma") && exact.out().contains(" = mul "), exact.out());
        Run ptx = run("kernels", "--optimizer", "nag", "--target", "ptx", "--mode", "fast");
        assertTrue(ptx.out().contains("fma.rn.f32") && !ptx.out().matches("(?s).*(add|sub|mul)\\.f32.*"), "every f32 add/sub/mul keeps .rn: " + ptx.out());
    }

    @Test
    void kernelsUsesARegisteredRendererWithTheMode() {
        Renderers.register("java", (k, m) -> "// " + k.name() + " " + m);
        try {
            Run r = run("kernels", "--optimizer", "NAG", "--target", "java", "--mode", "fast");
            assertEquals(0, r.code(), r.err());
            assertEquals("// nag FAST\n", r.out());
        } finally {
            Renderers.unregister("java");
        }
    }

    @Test
    void kernelsRefusesBadInputWithExitCode2AndOneLine() {
        for (String[] args : List.of(
                new String[] {"kernels", "--optimizer", "nag", "--target", "cobol"},
                new String[] {"kernels", "--optimizer", "nope", "--target", "ir"},
                new String[] {"kernels", "--optimizer", "nag", "--target", "ir", "--mode", "sloppy"})) {
            Run r = run(args);
            assertEquals(2, r.code(), String.join(" ", args) + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.err().startsWith("nag4j kernels: "), r.err());
        }
        if (!Renderers.has("ptx")) {
            Run r = run("kernels", "--optimizer", "nag", "--target", "ptx");
            assertEquals(2, r.code());
            assertTrue(r.err().contains("no renderer"), r.err());
        }
    }
}
