package io.nag4j.gpu.opencl;

import io.nag4j.core.ir.Kernel;
import io.nag4j.core.rule.Nag;
import io.nag4j.gpu.Mode;
import io.nag4j.gpu.device.CompiledKernel;
import io.nag4j.gpu.device.DeviceBuffer;
import io.nag4j.gpu.device.DeviceContext;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Shared (fine-grained SVM) buffers: copies in and out are host copies, a launch reads and writes
 * them like a cl_mem, and the results are the same bits as with cl_mem buffers.
 */
class OpenClSharedMemoryTest {

    private static DeviceBuffer sharedOrSkip(DeviceContext ctx, String name, long bytes) {
        DeviceBuffer b = ctx.allocateShared(name, bytes);
        Assumptions.assumeTrue(b != null, "device " + ctx.info().name() + " has no host-shared fine-grained SVM");
        return b;
    }

    @Test
    void aNagStepOnSharedBuffersGivesTheSameBitsAsOnClMem() {
        int n = 1000;
        Kernel k = Nag.INSTANCE.kernel();
        try (DeviceContext ctx = OpenClTestSupport.driverOrSkip().open(0); Arena arena = Arena.ofConfined()) {
            CompiledKernel ck = ctx.compile(k, Mode.EXACT);
            MemorySegment[] host = new MemorySegment[3];
            for (int i = 0; i < 3; i++) {
                host[i] = arena.allocate(4L * n, 64);
                for (int e = 0; e < n; e++) host[i].setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, e, (e * 31 + i * 7) % 97 * 0.013f - 0.5f);
            }
            List<DeviceBuffer> plain = List.of(ctx.allocate("p", 4L * n), ctx.allocate("u", 4L * n), ctx.allocate("s", 4L * n));
            List<DeviceBuffer> shared = List.of(sharedOrSkip(ctx, "p", 4L * n), sharedOrSkip(ctx, "u", 4L * n), sharedOrSkip(ctx, "s", 4L * n));
            for (List<DeviceBuffer> bufs : List.of(plain, shared)) {
                for (int i = 0; i < 3; i++) ctx.copyIn(bufs.get(i), 0, host[i], false);
                for (int t = 1; t <= 3; t++) ctx.launch(ck, n, bufs, Nag.INSTANCE.scalars(t, Nag.INSTANCE.defaults()));
                ctx.finish();
            }
            for (int i = 0; i < 3; i++) {
                float[] a = new float[n], b = new float[n];
                MemorySegment outA = arena.allocate(4L * n, 64), outB = arena.allocate(4L * n, 64);
                ctx.copyOut(plain.get(i), 0, outA);
                ctx.copyOut(shared.get(i), 0, outB);
                for (int e = 0; e < n; e++) {
                    a[e] = outA.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, e);
                    b[e] = outB.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, e);
                    assertEquals(Float.floatToRawIntBits(a[e]), Float.floatToRawIntBits(b[e]),
                            "input " + i + " element " + e + ": cl_mem " + a[e] + " vs shared " + b[e]);
                }
            }
        }
    }

    @Test
    void sharedBuffersCheckRangesAndFreeOnClose() {
        try (DeviceContext ctx = OpenClTestSupport.driverOrSkip().open(0); Arena arena = Arena.ofConfined()) {
            DeviceBuffer b = sharedOrSkip(ctx, "x", 16);
            MemorySegment src = arena.allocate(8);
            src.set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, 0x0123456789abcdefL);
            ctx.copyIn(b, 8, src, true);
            MemorySegment dst = arena.allocate(8);
            ctx.copyOut(b, 8, dst);
            assertEquals(0x0123456789abcdefL, dst.get(java.lang.foreign.ValueLayout.JAVA_LONG, 0));
            assertThrows(IllegalArgumentException.class, () -> ctx.copyIn(b, 12, src, true), "past the end");
            b.close();
            assertTrue(b.isClosed());
            assertThrows(IllegalStateException.class, () -> ctx.copyIn(b, 0, src, true));
        }
    }
}
