package io.nag4j.gpu.device;

import io.nag4j.core.ir.Evaluator;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.rule.Rules;
import io.nag4j.core.optim.Mode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@link DeviceContext} contract ({@link DeviceContextBase}), written once and run against
 * every context: OpenCL (PoCL), CUDA (the real driver and the stand-in libcuda) and the tests'
 * fake driver. A subclass only says how to open one.
 */
public abstract class DeviceContextContract {
    private static final Kernel SGD = Rules.byName("sgd").kernel();

    protected DeviceContext ctx;

    /** A fresh context (or skip the test, with the reason, where there is none). */
    protected abstract DeviceContext open();

    @BeforeEach
    void openContext() { ctx = open(); }

    @AfterEach
    void closeContext() { if (ctx != null) ctx.close(); }

    @Test
    void aZeroByteBufferIsAllowedAndZeroWorkDoesNothing() {
        DeviceBuffer empty = ctx.allocate("empty", 0);
        assertEquals(0, empty.byteSize());
        ctx.copyIn(empty, 0, MemorySegment.ofArray(new float[0]), true);
        ctx.copyOut(empty, 0, MemorySegment.ofArray(new float[0]));
        CompiledKernel k = ctx.compile(SGD, Mode.EXACT);
        ctx.launch(k, 0, List.of(empty, ctx.allocate("u", 0)), new float[SGD.scalars().size()]);
        ctx.finish();
        assertEquals(0, ctx.drainTimes().launches(), "a launch of 0 elements is not counted");
        empty.close();
        assertTrue(empty.isClosed());
    }

    @Test
    void badSizesAndRangesAreRefusedNamingTheBuffer() {
        assertThrows(IllegalArgumentException.class, () -> ctx.allocate("neg", -4));
        DeviceBuffer b = ctx.allocate("weights", 64);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment host = a.allocate(64);
            for (Runnable bad : List.<Runnable>of(
                    () -> ctx.copyIn(b, 4, host, true),
                    () -> ctx.copyIn(b, -4, host.asSlice(0, 8), true),
                    () -> ctx.copyOut(b, 8, host),
                    () -> ctx.copy(b, 0, b, 16, 32),
                    () -> ctx.copy(b, 60, b, 0, 8),
                    () -> ctx.copyOut(b, 0, host.asReadOnly()))) {
                var e = assertThrows(IllegalArgumentException.class, bad::run);
                assertTrue(e.getMessage().contains("'weights'"), e.getMessage());
            }
        }
    }

    @Test
    void launchesAreCheckedBeforeAnythingRuns() {
        CompiledKernel k = ctx.compile(SGD, Mode.EXACT);
        float[] p = {1, 2, 3, 4}, u = {1, 1, 1, 1};
        DeviceBuffer bp = upload("p", p), bu = upload("u", u), small = upload("small", new float[] {1, 2});
        float[] sc = new float[SGD.scalars().size()];
        assertThrows(IllegalArgumentException.class, () -> ctx.launch(k, -1, List.of(bp, bu), sc));
        assertThrows(IllegalArgumentException.class, () -> ctx.launch(k, 4, List.of(bp), sc));
        assertThrows(IllegalArgumentException.class, () -> ctx.launch(k, 4, List.of(bp, bu), new float[sc.length + 1]));
        var e = assertThrows(IllegalArgumentException.class, () -> ctx.launch(k, 4, List.of(bp, small), sc));
        assertTrue(e.getMessage().contains("'small'") && e.getMessage().contains("holds 2 f32 elements"), e.getMessage());
        assertArrayEquals(p, download(bp, 4), "nothing ran");
        assertEquals(0, ctx.drainTimes().launches());
    }

    @Test
    void aLaunchComputesTheEvaluatorsBitsAndIsCounted() {
        int n = 1000;
        float[] p = new float[n], u = new float[n];
        for (int i = 0; i < n; i++) {
            p[i] = (float) Math.sin(i) * 3;
            u[i] = (float) Math.cos(i * 0.7);
        }
        float[] sc = new float[SGD.scalars().size()];
        java.util.Arrays.fill(sc, 0.01f);
        CompiledKernel k = ctx.compile(SGD, Mode.EXACT);
        DeviceBuffer bp = upload("p", p), bu = upload("u", u);
        ctx.launch(k, n, List.of(bp, bu), sc);
        ctx.finish();
        float[] got = download(bp, n);
        for (int i = 0; i < n; i++) {
            float[] in = {p[i], u[i]};
            Evaluator.evalElement(SGD, in, sc);
            assertEquals(Float.floatToRawIntBits(in[0]), Float.floatToRawIntBits(got[i]), "element " + i);
        }
        assertEquals(1, ctx.drainTimes().launches());
        assertEquals(0, ctx.drainTimes().launches(), "drained");
    }

    @Test
    void aSecondCompileIsCachedAndProfilingRecordsTimes() {
        CompiledKernel first = ctx.compile(SGD, Mode.EXACT), again = ctx.compile(SGD, Mode.EXACT);
        assertFalse(first.cached() && first.compileNanos() == 0, "the first compile did the work");
        assertTrue(again.cached(), "the second comes from the context's cache");
        assertEquals(0, again.compileNanos());
        ctx.profile(true);
        DeviceBuffer bp = upload("p", new float[4096]), bu = upload("u", new float[4096]);
        ctx.launch(again, 4096, List.of(bp, bu), new float[SGD.scalars().size()]);
        ctx.finish();
        DeviceTimes t = ctx.drainTimes();
        assertEquals(1, t.launches());
        assertTrue(t.kernelNanos() > 0 && t.copyInNanos() > 0, t.toString());
    }

    @Test
    void foreignObjectsAreRefusedAndUseAfterCloseThrows() {
        DeviceContext other = open();
        try {
            DeviceBuffer mine = ctx.allocate("mine", 16), theirs = other.allocate("theirs", 16);
            CompiledKernel theirKernel = other.compile(SGD, Mode.EXACT);
            var e = assertThrows(IllegalArgumentException.class, () -> ctx.copyIn(theirs, 0, MemorySegment.ofArray(new float[4]), true));
            assertTrue(e.getMessage().contains("'theirs'"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> ctx.launch(theirKernel, 4, List.of(mine, mine), new float[SGD.scalars().size()]));
            assertThrows(IllegalArgumentException.class, () -> ctx.launch(ctx.compile(SGD, Mode.EXACT), 4, List.of(mine, theirs), new float[SGD.scalars().size()]));
        } finally {
            other.close();
        }
        DeviceBuffer b = ctx.allocate("b", 16);
        b.close();
        b.close(); // twice: nothing
        var closedBuffer = assertThrows(IllegalStateException.class, () -> ctx.copyIn(b, 0, MemorySegment.ofArray(new float[4]), true));
        assertTrue(closedBuffer.getMessage().contains("'b'"), closedBuffer.getMessage());
        DeviceBuffer live = ctx.allocate("live", 16);
        CompiledKernel k = ctx.compile(SGD, Mode.EXACT);
        ctx.close();
        ctx.close(); // twice: nothing
        assertTrue(live.isClosed(), "closing the context closes its buffers");
        live.close(); // after the context: nothing
        for (Runnable use : List.<Runnable>of(() -> ctx.allocate("x", 4), () -> ctx.compile(SGD, Mode.EXACT), ctx::finish,
                () -> ctx.launch(k, 1, List.of(live, live), new float[SGD.scalars().size()]), ctx::drainTimes, () -> ctx.profile(true),
                () -> ctx.copyOut(live, 0, MemorySegment.ofArray(new float[4])))) {
            assertThrows(IllegalStateException.class, use::run);
        }
        ctx = null;
    }

    @Test
    void aNonBlockingCopyFromTheHeapIsSafe() {
        float[] data = {1, 2, 3, 4, 5, 6, 7, 8};
        DeviceBuffer b = ctx.allocate("heap", 32);
        ctx.copyIn(b, 0, MemorySegment.ofArray(data.clone()), false);
        ctx.finish();
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, download(b, 8));
    }

    private DeviceBuffer upload(String name, float[] data) {
        DeviceBuffer b = ctx.allocate(name, 4L * data.length);
        ctx.copyIn(b, 0, MemorySegment.ofArray(data), true);
        return b;
    }

    private float[] download(DeviceBuffer b, int n) {
        float[] out = new float[n];
        ctx.copyOut(b, 0, MemorySegment.ofArray(out));
        return out;
    }

    static float get(MemorySegment s, long i) { return s.getAtIndex(JAVA_FLOAT, i); }
}
