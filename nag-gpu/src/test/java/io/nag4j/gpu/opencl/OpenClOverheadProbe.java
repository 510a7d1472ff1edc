package io.nag4j.gpu.opencl;

import io.nag4j.core.ir.Kernel;
import io.nag4j.core.rule.Nag;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.CompiledKernel;
import io.nag4j.gpu.device.DeviceBuffer;
import io.nag4j.gpu.device.DeviceContext;
import io.nag4j.gpu.device.DeviceTimes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Not a test of speed (no timing assertions): prints the driver's host overhead per NAG step at
 * n=1024 (copy-in of the update + launch + finish, wall time minus the events' own durations).
 * Run with {@code -Dnag4j.measure=true -Dtest=OpenClOverheadProbe}; nag-bench has the real benchmark.
 */
@EnabledIfSystemProperty(named = "nag4j.measure", matches = "true")
class OpenClOverheadProbe {
    @Test
    void hostOverheadPerStepAtN1024() {
        int n = 1024, steps = 20000;
        Kernel k = Nag.INSTANCE.kernel();
        try (DeviceContext ctx = OpenClTestSupport.driverOrSkip().open(0); Arena arena = Arena.ofConfined()) {
            CompiledKernel ck = ctx.compile(k, Mode.EXACT);
            List<DeviceBuffer> bufs = List.of(ctx.allocate("param", 4L * n), ctx.allocate("update", 4L * n), ctx.allocate("phi", 4L * n));
            MemorySegment upd = arena.allocate(4L * n, 64);
            float[] scalars = Nag.INSTANCE.scalars(2, Nag.INSTANCE.defaults());
            for (String what : List.of("finish", "copyIn+finish", "blockingCopyIn", "launch+finish")) {
                long[] w = new long[steps];
                for (int s = 0; s < steps; s++) {
                    long t0 = System.nanoTime();
                    switch (what) {
                        case "finish" -> ctx.finish();
                        case "copyIn+finish" -> { ctx.copyIn(bufs.get(1), 0, upd, false); ctx.finish(); }
                        case "blockingCopyIn" -> ctx.copyIn(bufs.get(1), 0, upd, true);
                        default -> { ctx.launch(ck, n, bufs, scalars); ctx.finish(); }
                    }
                    w[s] = System.nanoTime() - t0;
                }
                Arrays.sort(w);
                System.out.printf("  %s: median %.1f us%n", what, median(w) / 1e3);
            }
            for (boolean profile : new boolean[] {false, true}) {
                ctx.profile(profile);
                long[] wall = new long[steps];
                long[] dev = new long[steps];
                for (int s = 0; s < steps; s++) {
                    long t0 = System.nanoTime();
                    ctx.copyIn(bufs.get(1), 0, upd, false);
                    ctx.launch(ck, n, bufs, scalars);
                    ctx.finish();
                    wall[s] = System.nanoTime() - t0;
                    DeviceTimes t = ctx.drainTimes();
                    dev[s] = t.copyInNanos() + t.kernelNanos();
                }
                long[] over = new long[steps];
                for (int s = 0; s < steps; s++) over[s] = wall[s] - dev[s];
                Arrays.sort(wall);
                Arrays.sort(over);
                System.out.printf("OpenCL %s n=%d profile=%s: wall median %.1f us, wall-minus-events median %.1f us (second half of %d steps)%n",
                        ctx.info().name(), n, profile, median(wall) / 1e3, median(over) / 1e3, steps);
                assertTrue(median(wall) > 0);
            }
        }
    }

    private static double median(long[] sorted) { return sorted[sorted.length / 2]; }

    /** Prints compile times: from source (empty nag4j cache), from the disk cache in a fresh context. */
    @Test
    void compileTimesFromSourceAndFromDisk() throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("nag4j-ocl-probe");
        long t0 = System.nanoTime();
        OpenClDriver driver = OpenClTestSupport.driverOrSkip(dir);
        long t1 = System.nanoTime();
        for (int round = 0; round < 2; round++) {
            long o0 = System.nanoTime();
            try (DeviceContext ctx = driver.open(0)) {
                long o1 = System.nanoTime();
                CompiledKernel ck = ctx.compile(Nag.INSTANCE.kernel(), Mode.EXACT);
                System.out.printf("OpenCL round %d: open %.1f ms, compile %.1f ms (cached=%s)%s%n", round, (o1 - o0) / 1e6,
                        ck.compileNanos() / 1e6, ck.cached(), round == 0 ? String.format(", bindings+device list %.1f ms", (t1 - t0) / 1e6) : "");
                assertTrue(ck.cached() == (round == 1));
            }
        }
    }
}
