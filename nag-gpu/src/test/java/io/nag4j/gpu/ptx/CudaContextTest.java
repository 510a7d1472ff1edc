package io.nag4j.gpu.ptx;

import io.nag4j.core.ir.Kernel;
import io.nag4j.core.rule.Nag;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.CompiledKernel;
import io.nag4j.gpu.device.DeviceBuffer;
import io.nag4j.gpu.device.DeviceInfo;
import io.nag4j.gpu.device.DeviceTimes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The context's plumbing on a real device: copies with offsets, pinned memory, profiling, close. Skips without CUDA. */
class CudaContextTest {
    CudaContext ctx;

    @BeforeEach
    void open() { ctx = openContext(); }

    /** Device 0 of the real driver; {@link CudaFakeContextTest} runs the same tests on the stand-in. */
    CudaContext openContext() { return CudaTestSupport.openDevice0(); }

    @AfterEach
    void close() { if (ctx != null) ctx.close(); }

    @Test
    void infoDescribesABitExactNvidiaDevice() {
        DeviceInfo info = ctx.info();
        assertEquals("cuda", info.backend());
        assertEquals("cuda:0", info.spec());
        assertTrue(info.bitExact(), info.toString());
        assertTrue(info.globalMemoryBytes() > 0 && info.computeUnits() > 0, info.toString());
        assertTrue(info.version().contains("sm_"), info.version());
        System.out.println("CUDA device: " + info);
    }

    @Test
    void copiesWithOffsetsFromHeapNativeAndPinnedMemory() {
        float[] data = new float[1000];
        for (int i = 0; i < data.length; i++) data[i] = i * 0.5f - 7;
        try (DeviceBuffer b = ctx.allocate("b", 4000); Arena a = Arena.ofConfined()) {
            ctx.copyIn(b, 0, MemorySegment.ofArray(data).asSlice(0, 2000), true);          // heap, staged
            MemorySegment nat = a.allocate(2000);
            MemorySegment.copy(MemorySegment.ofArray(data), 2000, nat, 0, 2000);
            ctx.copyIn(b, 2000, nat, false);                                                // native
            float[] back = new float[1000];
            ctx.copyOut(b, 0, MemorySegment.ofArray(back));
            assertArrayEquals(data, back);
            MemorySegment pin = ctx.allocatePinned(400);
            ctx.copyOut(b, 400, pin);                                                       // floats 100..199
            assertEquals(data[100], pin.getAtIndex(ValueLayout.JAVA_FLOAT, 0));
            assertEquals(data[199], pin.getAtIndex(ValueLayout.JAVA_FLOAT, 99));
            pin.setAtIndex(ValueLayout.JAVA_FLOAT, 0, 42f);
            ctx.copyIn(b, 0, pin.asSlice(0, 4), false);
            ctx.finish();
            float[] one = new float[1];
            ctx.copyOut(b, 0, MemorySegment.ofArray(one));
            assertEquals(42f, one[0]);
            assertThrows(IllegalArgumentException.class, () -> ctx.copyIn(b, 3998, MemorySegment.ofArray(new float[1]), true));
            assertThrows(IllegalArgumentException.class, () -> ctx.copyOut(b, -4, MemorySegment.ofArray(new float[1])));
        }
    }

    @Test
    void registeredHostMemoryCopiesBothWays() {
        try (Arena a = Arena.ofConfined(); DeviceBuffer b = ctx.allocate("r", 64)) {
            MemorySegment page = a.allocate(4096, 4096); // page-aligned, as older drivers required
            MemorySegment host = page.asSlice(0, 64);
            for (int i = 0; i < 16; i++) host.setAtIndex(ValueLayout.JAVA_FLOAT, i, i + 0.25f);
            try (CudaContext.HostRegistration r = ctx.registerHost(page)) {
                ctx.copyIn(b, 0, r.segment().asSlice(0, 64), false);
                ctx.finish();
                host.fill((byte) 0);
                ctx.copyOut(b, 0, host);
                assertEquals(15.25f, host.getAtIndex(ValueLayout.JAVA_FLOAT, 15));
            }
            assertThrows(IllegalArgumentException.class, () -> ctx.registerHost(MemorySegment.ofArray(new float[4])));
        }
    }

    @Test
    void deviceToDeviceCopiesWithOffsets() {
        float[] data = new float[256];
        for (int i = 0; i < data.length; i++) data[i] = i * 1.5f - 3;
        try (DeviceBuffer a = ctx.allocate("a", 1024); DeviceBuffer b = ctx.allocate("b", 1024)) {
            ctx.copyIn(a, 0, MemorySegment.ofArray(data), true);
            ctx.copyIn(b, 0, MemorySegment.ofArray(new float[256]), true);
            ctx.copy(a, 40, b, 400, 200);                  // floats 10..59 of a to floats 100..149 of b
            ctx.copy(a, 0, a, 800, 100);                   // within one buffer, not overlapping
            float[] back = new float[256];
            ctx.copyOut(b, 0, MemorySegment.ofArray(back));
            for (int i = 0; i < 256; i++) {
                float want = i >= 100 && i < 150 ? data[i - 90] : 0f;
                assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(back[i]), "b[" + i + "]");
            }
            ctx.copyOut(a, 0, MemorySegment.ofArray(back));
            for (int i = 200; i < 225; i++) assertEquals(data[i - 200], back[i], "a[" + i + "]");
            assertThrows(IllegalArgumentException.class, () -> ctx.copy(a, 0, a, 50, 100));   // overlap
            assertThrows(IllegalArgumentException.class, () -> ctx.copy(a, 1000, b, 0, 100)); // past the end
            ctx.copy(a, 0, b, 0, 0);                                                            // nothing: fine
        }
    }

    @Test
    void pinnedHostMemoryStaysUsableAndIsPinnedOnce() {
        try (Arena arena = Arena.ofConfined(); DeviceBuffer b = ctx.allocate("p", 8192)) {
            MemorySegment host = arena.allocate(8192, 4096);
            for (int i = 0; i < 2048; i++) host.setAtIndex(ValueLayout.JAVA_FLOAT, i, i);
            assertTrue(ctx.pinHost(host));
            assertTrue(ctx.pinHost(host), "the same region again: already pinned");
            assertTrue(!ctx.pinHost(host.asSlice(4096, 4096)), "a region overlapping a pinned one is refused, not an error");
            assertTrue(!ctx.pinHost(MemorySegment.ofArray(new float[4])), "heap memory cannot be pinned");
            ctx.copyIn(b, 0, host, false);
            ctx.finish();
            float[] back = new float[2048];
            ctx.copyOut(b, 0, MemorySegment.ofArray(back));
            for (int i = 0; i < 2048; i++) assertEquals(Float.floatToRawIntBits(i), Float.floatToRawIntBits(back[i]), "element " + i);
            ctx.close(); // unregisters before the arena frees the memory
            ctx = null;
        }
    }

    @Test
    void profiledLaunchesReportDeviceTimes() {
        Kernel k = Nag.INSTANCE.kernel();
        CompiledKernel ck = ctx.compile(k, Mode.EXACT);
        int n = 1 << 20;
        DeviceBuffer p = ctx.allocate("p", 4L * n), u = ctx.allocate("u", 4L * n), phi = ctx.allocate("phi", 4L * n);
        float[] zeros = new float[n];
        ctx.profile(true);
        for (DeviceBuffer b : List.of(p, u, phi)) ctx.copyIn(b, 0, MemorySegment.ofArray(zeros), false);
        ctx.launch(ck, n, List.of(p, u, phi), Nag.INSTANCE.scalars(1, Nag.INSTANCE.defaults()));
        ctx.copyOut(p, 0, MemorySegment.ofArray(zeros));
        DeviceTimes t = ctx.drainTimes();
        assertEquals(1, t.launches());
        assertTrue(t.kernelNanos() > 0 && t.copyInNanos() > 0 && t.copyOutNanos() > 0, t.toString());
        assertEquals(DeviceTimes.ZERO, ctx.drainTimes());
        assertThrows(IllegalArgumentException.class, () -> ctx.launch(ck, n + 1, List.of(p, u, phi), new float[3]));
        assertThrows(IllegalArgumentException.class, () -> ctx.launch(ck, n, List.of(p, u), new float[3]));
        assertThrows(IllegalArgumentException.class, () -> ctx.launch(ck, n, List.of(p, u, phi), new float[2]));
    }

    @Test
    void useAfterCloseThrows() {
        DeviceBuffer b = ctx.allocate("b", 64);
        MemorySegment pin = ctx.allocatePinned(64);
        ctx.close();
        assertTrue(b.isClosed());
        assertThrows(IllegalStateException.class, () -> ctx.allocate("c", 64));
        assertThrows(IllegalStateException.class, () -> ctx.finish());
        assertThrows(IllegalStateException.class, () -> pin.get(ValueLayout.JAVA_BYTE, 0));
        b.close(); // harmless
        ctx.close(); // idempotent
        ctx = null;
    }

    @Test
    void closedBufferIsRejected() {
        DeviceBuffer b = ctx.allocate("gone", 64);
        b.close();
        assertThrows(IllegalStateException.class, () -> ctx.copyIn(b, 0, MemorySegment.ofArray(new float[1]), true));
    }
}
