package io.nag4j.gpu.opencl;

import io.nag4j.core.ir.Kernel;
import io.nag4j.core.rule.Nag;
import io.nag4j.core.rule.Sgd;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.CompiledKernel;
import io.nag4j.gpu.device.DeviceBuffer;
import io.nag4j.gpu.device.DeviceContext;
import io.nag4j.gpu.device.DeviceInfo;
import io.nag4j.gpu.device.DeviceTimes;
import io.nag4j.gpu.device.DeviceUnavailableException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static io.nag4j.gpu.opencl.OpenClTestSupport.assertSameBits;
import static io.nag4j.gpu.opencl.OpenClTestSupport.evaluate;
import static io.nag4j.gpu.opencl.OpenClTestSupport.values;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The OpenCL driver's device listing, errors, program cache, copies, profiling and lifecycle. */
class OpenClDriverTest {

    @Test
    void devicesHaveTheirFields() {
        List<DeviceInfo> devices = OpenClTestSupport.driverOrSkip().devices();
        assertFalse(devices.isEmpty());
        for (int i = 0; i < devices.size(); i++) {
            DeviceInfo d = devices.get(i);
            assertEquals("opencl", d.backend());
            assertEquals(i, d.index());
            assertEquals("opencl:" + i, d.spec());
            assertFalse(d.name().isBlank(), "name");
            assertFalse(d.vendor().isBlank(), "vendor");
            assertTrue(d.version().startsWith("OpenCL"), d.version());
            assertTrue(d.globalMemoryBytes() > 0, "global memory");
            assertTrue(d.computeUnits() > 0, "compute units");
            assertEquals(d.bitExact(), d.whyNotBitExact().isEmpty());
        }
    }

    @Test
    void missingLibraryIsDeviceUnavailableNamingIt() {
        var e = assertThrows(DeviceUnavailableException.class, () -> OpenCl.load("libnag4j-no-such-opencl.so.1"));
        assertTrue(e.getMessage().contains("libnag4j-no-such-opencl.so.1"), e.getMessage());
        OpenClDriver d = new OpenClDriver(() -> OpenCl.load("libnag4j-no-such-opencl.so.1"), () -> null);
        assertEquals("opencl", d.name());
        assertThrows(DeviceUnavailableException.class, d::devices);
    }

    @Test
    void openingAMissingDeviceNamesTheCount() {
        OpenClDriver d = OpenClTestSupport.driverOrSkip();
        var e = assertThrows(IllegalArgumentException.class, () -> d.open(99));
        assertTrue(e.getMessage().contains("no OpenCL device 99"), e.getMessage());
    }

    @Test
    void errorCodesHaveTheirStandardNames() {
        assertEquals("CL_OUT_OF_RESOURCES", OpenCl.errorName(-5));
        assertEquals("CL_BUILD_PROGRAM_FAILURE", OpenCl.errorName(-11));
        assertEquals("CL_INVALID_KERNEL_NAME", OpenCl.errorName(-46));
        assertEquals("CL_INVALID_GLOBAL_WORK_SIZE", OpenCl.errorName(-63));
        assertEquals("CL_PLATFORM_NOT_FOUND_KHR", OpenCl.errorName(-1001));
        assertEquals("CL_UNKNOWN_ERROR", OpenCl.errorName(-9999));
        var e = new OpenClException("clFinish", -36, null);
        assertEquals("clFinish failed: CL_INVALID_COMMAND_QUEUE (-36)", e.getMessage());
        assertEquals("CL_INVALID_COMMAND_QUEUE", e.codeName());
    }

    @Test
    void buildErrorCarriesTheBuildLog() {
        try (OpenClContext ctx = (OpenClContext) OpenClTestSupport.driverOrSkip().open(0)) {
            var e = assertThrows(OpenClException.class,
                    () -> ctx.buildSource("__kernel void broken(__global float* x) { x[0] = undefined_thing; }", "", "broken"));
            assertEquals("clBuildProgram", e.call());
            assertEquals("CL_BUILD_PROGRAM_FAILURE", e.codeName());
            assertTrue(e.getMessage().contains("CL_BUILD_PROGRAM_FAILURE"), e.getMessage());
            assertTrue(e.getMessage().contains("undefined_thing"), "the build log names the culprit: " + e.getMessage());

            var k = assertThrows(OpenClException.class,
                    () -> ctx.buildSource("__kernel void fine(__global float* x) { x[0] = 1.0f; }", "", "not_there"));
            assertEquals("CL_INVALID_KERNEL_NAME", k.codeName());
            assertTrue(k.getMessage().startsWith("clCreateKernel(not_there) failed: CL_INVALID_KERNEL_NAME"), k.getMessage());

            // A kernel's program that fails to build: the error holds the build log and the generated source, numbered.
            io.nag4j.core.ir.Kernel sgd = io.nag4j.core.rule.Rules.byName("sgd").kernel();
            String source = OpenClRenderer.render(sgd, io.nag4j.core.optim.Mode.EXACT);
            String broken = source.replace("#pragma OPENCL FP_CONTRACT OFF\n", "#pragma OPENCL FP_CONTRACT OFF\nfloat broken_here = undefined_thing;\n");
            var b = assertThrows(OpenClException.class, () -> ctx.compileSource(sgd, io.nag4j.core.optim.Mode.EXACT, broken));
            assertEquals("CL_BUILD_PROGRAM_FAILURE", b.codeName());
            assertTrue(b.getMessage().contains("undefined_thing") && b.getMessage().contains("--- generated OpenCL C of kernel 'sgd' ---")
                    && b.getMessage().contains("   2  float broken_here = undefined_thing;"), b.getMessage());
            assertTrue(ctx.compile(sgd, io.nag4j.core.optim.Mode.EXACT).source().equals(source), "the context still compiles the real source");
        }
    }

    /** A second context (as a second process would) with the same cache dir loads the binary from disk. */
    @Test
    void programCacheServesMemoryThenDiskWithTheSameBits(@TempDir Path dir) throws Exception {
        OpenClDriver driver = OpenClTestSupport.driverOrSkip(dir);
        Kernel k = Nag.INSTANCE.kernel();
        int n = 999;
        SplittableRandom r = new SplittableRandom(5);
        float[][] start = new float[3][];
        for (int i = 0; i < 3; i++) start[i] = values(r, n, 0.1);
        float[] scalars = Nag.INSTANCE.scalars(2, Nag.INSTANCE.defaults());
        float[][] expected = new float[3][];
        for (int i = 0; i < 3; i++) expected[i] = start[i].clone();
        evaluate(k, expected, scalars);

        try (DeviceContext ctx = driver.open(0)) {
            CompiledKernel first = ctx.compile(k, Mode.EXACT);
            assertFalse(first.cached(), "first compile in an empty cache dir");
            assertTrue(first.compileNanos() > 0);
            CompiledKernel again = ctx.compile(k, Mode.EXACT);
            assertTrue(again.cached(), "second compile in the same context");
            assertEquals(0, again.compileNanos());
            assertEquals(first.source(), again.source());
            runAndCheck(ctx, again, start, scalars, expected, "in-memory hit");
            CompiledKernel fast = ctx.compile(k, Mode.FAST);
            assertFalse(fast.cached(), "another mode is another key");
        }
        try (var files = Files.list(dir)) {
            assertEquals(2, files.filter(f -> f.toString().endsWith(".clbin")).count(), "one binary per mode");
        }
        try (DeviceContext ctx = driver.open(0)) {
            CompiledKernel fromDisk = ctx.compile(k, Mode.EXACT);
            assertTrue(fromDisk.cached(), "fresh context, same cache dir: binary from disk");
            runAndCheck(ctx, fromDisk, start, scalars, expected, "disk hit");
        }
    }

    @Test
    void aRefusedCacheFileFallsBackToSource(@TempDir Path dir) throws Exception {
        OpenClDriver driver = OpenClTestSupport.driverOrSkip(dir);
        Kernel k = Sgd.INSTANCE.kernel();
        try (DeviceContext ctx = driver.open(0)) {
            assertFalse(ctx.compile(k, Mode.EXACT).cached());
        }
        Path file;
        try (var files = Files.list(dir)) {
            file = files.filter(f -> f.toString().endsWith(".clbin")).findFirst().orElseThrow();
        }
        // Keep the header (the key) and ruin the binary after it.
        byte[] all = Files.readAllBytes(file);
        int header = new String(all, java.nio.charset.StandardCharsets.ISO_8859_1).indexOf("options=");
        header = new String(all, java.nio.charset.StandardCharsets.ISO_8859_1).indexOf('\n', header) + 1;
        byte[] ruined = java.util.Arrays.copyOf(all, header + 64);
        java.util.Arrays.fill(ruined, header, ruined.length, (byte) 0x5a);
        Files.write(file, ruined);
        try (DeviceContext ctx = driver.open(0)) {
            CompiledKernel c = ctx.compile(k, Mode.EXACT);
            assertFalse(c.cached(), "a refused binary is compiled again from source");
            int n = 100;
            float[][] start = {values(new SplittableRandom(1), n, 0), values(new SplittableRandom(2), n, 0)};
            float[] scalars = Sgd.INSTANCE.scalars(1, Sgd.INSTANCE.defaults());
            float[][] expected = {start[0].clone(), start[1].clone()};
            evaluate(k, expected, scalars);
            runAndCheck(ctx, c, start, scalars, expected, "after fallback");
        }
        assertTrue(Files.size(file) > ruined.length, "the cache entry was rewritten with a good binary");
    }

    private static void runAndCheck(DeviceContext ctx, CompiledKernel ck, float[][] start, float[] scalars,
                                    float[][] expected, String what) {
        try (var run = new OpenClTestSupport.Runner(ctx, ck, start[0].length)) {
            for (int i = 0; i < start.length; i++) run.write(i, start[i]);
            run.launch(scalars);
            for (Kernel.Output o : ck.kernel().outputs()) {
                assertSameBits(expected[o.input()], run.read(o.input()), what + " " + ck.kernel().inputs().get(o.input()), start);
            }
        }
    }

    @Test
    void nonBlockingCopiesOffsetsAndProfiling() {
        Kernel k = Sgd.INSTANCE.kernel();
        try (DeviceContext ctx = OpenClTestSupport.driverOrSkip().open(0); Arena arena = Arena.ofConfined()) {
            CompiledKernel ck = ctx.compile(k, Mode.EXACT);
            int n = 1000;
            DeviceBuffer p = ctx.allocate("param", 4L * n), u = ctx.allocate("update", 4L * n);
            MemorySegment host = arena.allocate(4L * n, 64);
            for (int i = 0; i < n; i++) host.setAtIndex(ValueLayout.JAVA_FLOAT, i, i);
            ctx.profile(true);
            // Two halves at offsets, non-blocking from native memory.
            ctx.copyIn(p, 0, host.asSlice(0, 2L * n), false);
            ctx.copyIn(p, 2L * n, host.asSlice(2L * n), false);
            ctx.copyIn(u, 0, host, false);
            ctx.launch(ck, n, List.of(p, u), new float[] {0.5f});
            ctx.finish();
            float[] out = new float[n / 2];
            ctx.copyOut(p, 2L * n, MemorySegment.ofArray(out)); // the second half
            for (int j = 0; j < out.length; j++) {
                float x = n / 2 + j;
                assertEquals(Float.floatToRawIntBits(x - x * 0.5f), Float.floatToRawIntBits(out[j]), "element " + (n / 2 + j));
            }
            DeviceTimes t = ctx.drainTimes();
            assertEquals(1, t.launches());
            assertTrue(t.copyInNanos() > 0 && t.kernelNanos() > 0 && t.copyOutNanos() > 0, t.toString());
            assertEquals(DeviceTimes.ZERO, ctx.drainTimes(), "drained");
            ctx.profile(false);
            ctx.launch(ck, n, List.of(p, u), new float[] {0.5f});
            ctx.finish();
            DeviceTimes off = ctx.drainTimes();
            assertEquals(0, off.kernelNanos(), "no event times while profiling is off");

            ctx.copyIn(p, 0, MemorySegment.ofArray(new float[4]), false); // from the heap: copied blocking, so safe
            var range = assertThrows(IllegalArgumentException.class, () -> ctx.copyIn(p, 4L * n - 4, host.asSlice(0, 8), true));
            assertTrue(range.getMessage().contains("'param'"), range.getMessage());
            var small = assertThrows(IllegalArgumentException.class, () -> ctx.launch(ck, n + 1, List.of(p, u), new float[] {0.5f}));
            assertTrue(small.getMessage().contains("'param'"), small.getMessage());
            assertThrows(IllegalArgumentException.class, () -> ctx.launch(ck, n, List.of(p), new float[] {0.5f}));
            assertThrows(IllegalArgumentException.class, () -> ctx.launch(ck, n, List.of(p, u), new float[0]));
        }
    }

    @Test
    void deviceToDeviceCopiesWithOffsetsAndPinningIsANoOp() {
        float[] data = new float[256];
        for (int i = 0; i < data.length; i++) data[i] = i * 1.5f - 3;
        try (DeviceContext ctx = OpenClTestSupport.driverOrSkip().open(0)) {
            DeviceBuffer a = ctx.allocate("a", 1024), b = ctx.allocate("b", 1024);
            ctx.copyIn(a, 0, MemorySegment.ofArray(data), true);
            ctx.copyIn(b, 0, MemorySegment.ofArray(new float[256]), true);
            ctx.profile(true);
            ctx.copy(a, 40, b, 400, 200); // floats 10..59 of a to floats 100..149 of b
            ctx.finish();
            assertTrue(ctx.drainTimes().copyInNanos() > 0, "a device copy is timed with the copies in");
            ctx.profile(false);
            float[] back = new float[256];
            ctx.copyOut(b, 0, MemorySegment.ofArray(back));
            for (int i = 0; i < 256; i++) {
                float want = i >= 100 && i < 150 ? data[i - 90] : 0f;
                assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(back[i]), "b[" + i + "]");
            }
            var overlap = assertThrows(IllegalArgumentException.class, () -> ctx.copy(a, 0, a, 50, 100));
            assertTrue(overlap.getMessage().contains("'a'") && overlap.getMessage().contains("overlap"), overlap.getMessage());
            assertThrows(IllegalArgumentException.class, () -> ctx.copy(a, 1000, b, 0, 100));
            try (Arena arena = Arena.ofConfined()) {
                assertFalse(ctx.pinHost(arena.allocate(4096, 4096)), "OpenCL has no page-locking of user memory: a no-op");
            }
        }
    }

    @Test
    void useAfterCloseThrows() {
        OpenClDriver driver = OpenClTestSupport.driverOrSkip();
        DeviceContext ctx = driver.open(0);
        CompiledKernel ck = ctx.compile(Sgd.INSTANCE.kernel(), Mode.EXACT);
        DeviceBuffer a = ctx.allocate("a", 64), b = ctx.allocate("b", 64), c = ctx.allocate("c", 64);
        a.close();
        assertTrue(a.isClosed());
        a.close(); // idempotent
        var e = assertThrows(IllegalStateException.class, () -> ctx.copyIn(a, 0, MemorySegment.ofArray(new float[4]), true));
        assertTrue(e.getMessage().contains("'a'"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> ctx.launch(ck, 16, List.of(a, b), new float[] {1f}));
        try (DeviceContext other = driver.open(0)) {
            var foreign = assertThrows(IllegalArgumentException.class, () -> other.copyIn(b, 0, MemorySegment.ofArray(new float[4]), true));
            assertTrue(foreign.getMessage().contains("'b'"), foreign.getMessage());
            assertThrows(IllegalArgumentException.class, () -> other.launch(ck, 16, List.of(b, c), new float[] {1f}));
        }
        ctx.close();
        ctx.close(); // idempotent
        assertTrue(b.isClosed(), "closing the context frees its buffers");
        b.close(); // no-op after the context released it
        assertThrows(IllegalStateException.class, () -> ctx.allocate("d", 64));
        assertThrows(IllegalStateException.class, () -> ctx.compile(Sgd.INSTANCE.kernel(), Mode.EXACT));
        assertThrows(IllegalStateException.class, () -> ctx.launch(ck, 16, List.of(b, c), new float[] {1f}));
        assertThrows(IllegalStateException.class, ctx::finish);
        assertThrows(IllegalStateException.class, () -> ctx.copyOut(c, 0, MemorySegment.ofArray(new float[4])));
        assertThrows(IllegalStateException.class, ctx::drainTimes);
    }

    /** Kernel arguments are re-set only when they change: alternate buffers, scalars (0 first) and n. */
    @Test
    void changedArgumentsAreAlwaysSeen() {
        Kernel k = Sgd.INSTANCE.kernel();
        try (DeviceContext ctx = OpenClTestSupport.driverOrSkip().open(0)) {
            CompiledKernel ck = ctx.compile(k, Mode.EXACT);
            CompiledKernel shared = ctx.compile(k, Mode.EXACT); // the same cl_kernel underneath
            int n = 70;
            DeviceBuffer[] p = {ctx.allocate("p0", 4L * n), ctx.allocate("p1", 4L * n)};
            DeviceBuffer[] u = {ctx.allocate("u0", 4L * n), ctx.allocate("u1", 4L * n)};
            float[][] host = {new float[n], new float[n]};
            float[][] upd = {new float[n], new float[n]};
            for (int j = 0; j < n; j++) {
                host[0][j] = j;
                host[1][j] = -j;
                upd[0][j] = 1;
                upd[1][j] = 2;
            }
            for (int b = 0; b < 2; b++) {
                ctx.copyIn(p[b], 0, MemorySegment.ofArray(host[b]), true);
                ctx.copyIn(u[b], 0, MemorySegment.ofArray(upd[b]), true);
            }
            float[] etas = {0f, 0.5f, 0.5f, -0f, 0.25f, 0.25f};
            int[] counts = {n, n, 65, 65, n, 1};
            for (int s = 0; s < etas.length; s++) {
                int b = s % 2;
                CompiledKernel which = s % 3 == 0 ? ck : shared;
                ctx.launch(which, counts[s], List.of(p[b], u[b]), new float[] {etas[s]});
                for (int j = 0; j < counts[s]; j++) host[b][j] = host[b][j] - upd[b][j] * etas[s];
                float[] got = new float[n];
                ctx.copyOut(p[b], 0, MemorySegment.ofArray(got));
                assertSameBits(host[b], got, "launch " + s + " (eta " + etas[s] + ", n " + counts[s] + ", buffers " + b + ")", null);
            }
        }
    }

    /** A cache entry with one flipped bit in its binary (which a driver might accept) is a miss: never a wrong kernel. */
    @Test
    void aCorruptCacheEntryIsAMissNeverAWrongKernel(@TempDir Path dir) throws Exception {
        OpenClDriver driver = OpenClTestSupport.driverOrSkip(dir);
        Kernel k = Nag.INSTANCE.kernel();
        try (DeviceContext ctx = driver.open(0)) {
            assertFalse(ctx.compile(k, Mode.EXACT).cached());
        }
        Path file;
        try (var files = Files.list(dir)) {
            file = files.filter(f -> f.toString().endsWith(".clbin")).findFirst().orElseThrow();
        }
        byte[] all = Files.readAllBytes(file);
        all[all.length - all.length / 3] ^= 0x10; // one bit inside the binary, the header and its digest intact
        Files.write(file, all);
        try (DeviceContext ctx = driver.open(0)) {
            CompiledKernel c = ctx.compile(k, Mode.EXACT);
            assertFalse(c.cached(), "a corrupt entry is compiled again from source");
            int n = 257;
            SplittableRandom r = new SplittableRandom(8);
            float[][] start = {values(r, n, 0.1), values(r, n, 0.1), values(r, n, 0.1)};
            float[] scalars = Nag.INSTANCE.scalars(2, Nag.INSTANCE.defaults());
            float[][] expected = {start[0].clone(), start[1].clone(), start[2].clone()};
            evaluate(k, expected, scalars);
            runAndCheck(ctx, c, start, scalars, expected, "after a corrupt entry");
        }
        try (DeviceContext ctx = driver.open(0)) {
            assertTrue(ctx.compile(k, Mode.EXACT).cached(), "the entry was rewritten and is good again");
        }
    }

    /** The disk cache only saves time: an unusable cache directory still compiles and runs. */
    @Test
    void anUnusableCacheDirectoryIsOnlyAMiss(@TempDir Path dir) throws Exception {
        Path notADir = Files.writeString(dir.resolve("a-file"), "not a directory");
        OpenClDriver driver = OpenClTestSupport.driverOrSkip(notADir.resolve("opencl"));
        Kernel k = Sgd.INSTANCE.kernel();
        for (int round = 0; round < 2; round++) {
            try (DeviceContext ctx = driver.open(0)) {
                CompiledKernel c = ctx.compile(k, Mode.EXACT);
                assertFalse(c.cached(), "round " + round + ": nothing could be stored");
                float[][] start = {values(new SplittableRandom(3), 10, 0.2), values(new SplittableRandom(4), 10, 0.2)};
                float[] scalars = Sgd.INSTANCE.scalars(1, Sgd.INSTANCE.defaults());
                float[][] expected = {start[0].clone(), start[1].clone()};
                evaluate(k, expected, scalars);
                runAndCheck(ctx, c, start, scalars, expected, "uncached round " + round);
            }
        }
        assertEquals("not a directory", Files.readString(notADir));
    }

    @Test
    void aDriverThatCannotHandOutTheBinaryOnlyLosesTheDiskCache(@TempDir Path dir) {
        OpenClDriver driver = OpenClTestSupport.driverOrSkip(dir.resolve("opencl"));
        Kernel k = Sgd.INSTANCE.kernel();
        try (OpenClContext ctx = (OpenClContext) driver.open(0)) {
            ctx.programBinary = program -> { throw new OpenClException("clGetProgramInfo", -5, "CL_PROGRAM_BINARIES refused"); };
            CompiledKernel c = ctx.compile(k, Mode.EXACT);
            assertFalse(c.cached());
            float[][] start = {values(new SplittableRandom(5), 10, 0.2), values(new SplittableRandom(6), 10, 0.2)};
            float[] scalars = Sgd.INSTANCE.scalars(1, Sgd.INSTANCE.defaults());
            float[][] expected = {start[0].clone(), start[1].clone()};
            evaluate(k, expected, scalars);
            runAndCheck(ctx, c, start, scalars, expected, "a program whose binary the driver would not give");
            assertTrue(ctx.compile(k, Mode.EXACT).cached(), "the program is kept in the context");
        }
        assertFalse(Files.exists(dir.resolve("opencl")) && dir.resolve("opencl").toFile().list().length > 0, "nothing was stored on disk");
    }
}
