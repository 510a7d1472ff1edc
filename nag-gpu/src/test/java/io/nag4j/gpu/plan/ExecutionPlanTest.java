package io.nag4j.gpu.plan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.rule.Nag;
import io.nag4j.core.rule.Sgd;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.DeviceBuffer;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

import static io.nag4j.core.tensor.Tensor.F32;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The task-graph runtime on the fake driver: transfer modes, validation, ownership, no fallback, profiles. */
class ExecutionPlanTest {
    static final Kernel SGD = Sgd.INSTANCE.kernel(); // param' = param - update * eta
    static final float ETA = 0.5f;

    static MemorySegment floats(Arena a, float... v) {
        MemorySegment s = a.allocate((long) v.length * Float.BYTES, 64);
        MemorySegment.copy(v, 0, s, F32, 0, v.length);
        return s;
    }

    static float[] read(MemorySegment s) {
        return s.toArray(F32);
    }

    static void assertBits(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
                    what + " element " + i + ": expected " + expected[i] + ", got " + actual[i]);
        }
    }

    /** p FIRST_EXECUTION, u EVERY_EXECUTION, one SGD task, p back UNDER_DEMAND. */
    static ImmutableTaskGraph sgdGraph(MemorySegment p, MemorySegment u, Mode mode) {
        return new TaskGraph("g")
                .transferToDevice(TransferMode.FIRST_EXECUTION, "p", p)
                .transferToDevice(TransferMode.EVERY_EXECUTION, "u", u)
                .task("sgd", SGD, mode, p.byteSize() / 4, List.of("p", "u"), ScalarSource.of(ETA))
                .transferToHost(TransferMode.UNDER_DEMAND, "p", p)
                .snapshot();
    }

    @Test
    void firstExecutionCopiesOnceEveryExecutionEveryTimeUnderDemandOnlyWhenAsked() {
        FakeDriver d = FakeDriver.exact();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = floats(a, 1f, 2f, 3f), u = floats(a, 1f, 1f, 1f);
            try (ExecutionPlan plan = new ExecutionPlan(sgdGraph(p, u, Mode.EXACT)).withDevice(d, 0)) {
                ExecutionResult r = plan.execute();
                // After the first execution the host source of p no longer matters: it is resident.
                MemorySegment.copy(new float[] {100f, 100f, 100f}, 0, p, F32, 0, 3);
                u.setAtIndex(F32, 0, 2f); // EVERY_EXECUTION: the new value is sent
                plan.execute();
                plan.execute();
                assertEquals(1, d.copiesIn("p"), "p copied in on the first execution only");
                assertEquals(3, d.copiesIn("u"), "u copied in on every execution");
                assertEquals(0, d.copiesOut, "UNDER_DEMAND: nothing copied out yet");
                assertEquals(3, d.launches);
                assertBits(new float[] {100f, 100f, 100f}, read(p), "host p untouched before transferToHost");
                r.transferToHost("p");
                assertEquals(1, d.copiesOut("p"));
                // 1 - 0.5 - 1 - 1, 2 - 1.5, 3 - 1.5
                assertBits(new float[] {-1.5f, 0.5f, 1.5f}, read(p), "p after three steps");
            }
        }
    }

    @Test
    void transfersToHostFirstAndEveryExecution() {
        FakeDriver d = FakeDriver.exact();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = floats(a, 4f, 4f), u = floats(a, 2f, 2f), once = floats(a, 0f, 0f), every = floats(a, 0f, 0f);
            ImmutableTaskGraph g = new TaskGraph("g")
                    .transferToDevice(TransferMode.FIRST_EXECUTION, "p", p)
                    .transferToDevice(TransferMode.FIRST_EXECUTION, "u", u)
                    .deviceBuffer("q", 8)
                    .task("sgd", SGD, Mode.EXACT, 2, List.of("p", "u"), ScalarSource.of(ETA))
                    .transferToHost(TransferMode.FIRST_EXECUTION, "p", once)
                    .transferToHost(TransferMode.EVERY_EXECUTION, "u", every)
                    .snapshot();
            try (ExecutionPlan plan = new ExecutionPlan(g).withDevice(d, 0)) {
                for (int i = 0; i < 3; i++) plan.execute();
                assertEquals(1, d.copiesOut("p"));
                assertEquals(3, d.copiesOut("u"));
                assertBits(new float[] {3f, 3f}, read(once), "p as of the first execution");
                assertBits(new float[] {2f, 2f}, read(every), "u");
                MemorySegment q = a.allocate(8);
                q.fill((byte) 1);
                plan.execute().readInto("q", q);
                assertBits(new float[] {0f, 0f}, read(q), "device-only buffer is zero-filled on the first execution");
                MemorySegment tail = a.allocate(4);
                plan.execute().readInto("p", 4, tail);
                assertBits(new float[] {4f - 5 * 1f}, read(tail), "p[1] read at an offset after five steps");
            }
        }
    }

    @Test
    void scalarsAreAskedForAtEveryExecution() {
        FakeDriver d = FakeDriver.exact();
        float[] eta = {1f};
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = floats(a, 10f), u = floats(a, 1f);
            ImmutableTaskGraph g = new TaskGraph("g")
                    .transferToDevice(TransferMode.FIRST_EXECUTION, "p", p)
                    .transferToDevice(TransferMode.EVERY_EXECUTION, "u", u)
                    .task("sgd", SGD, Mode.EXACT, 1, List.of("p", "u"), () -> eta)
                    .transferToHost(TransferMode.EVERY_EXECUTION, "p", p)
                    .snapshot();
            try (ExecutionPlan plan = new ExecutionPlan(g).withDevice(d, 0)) {
                plan.execute();
                eta[0] = 4f;
                plan.execute();
                assertBits(new float[] {5f}, read(p), "10 - 1 - 4");
            }
            ImmutableTaskGraph wrong = new TaskGraph("w")
                    .transferToDevice(TransferMode.FIRST_EXECUTION, "p", p)
                    .transferToDevice(TransferMode.EVERY_EXECUTION, "u", u)
                    .task("sgd", SGD, Mode.EXACT, 1, List.of("p", "u"), ScalarSource.of(1f, 2f))
                    .snapshot();
            try (ExecutionPlan plan = new ExecutionPlan(wrong).withDevice(d, 0)) {
                var e = assertThrows(IllegalArgumentException.class, plan::execute);
                assertTrue(e.getMessage().contains("w.sgd") && e.getMessage().contains("eta"), e.getMessage());
            }
        }
    }

    @Test
    void snapshotIsImmutable() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = floats(a, 1f), u = floats(a, 1f);
            TaskGraph tg = new TaskGraph("g")
                    .transferToDevice(TransferMode.FIRST_EXECUTION, "p", p)
                    .transferToDevice(TransferMode.EVERY_EXECUTION, "u", u)
                    .task("sgd", SGD, Mode.EXACT, 1, List.of("p", "u"), ScalarSource.of(ETA));
            ImmutableTaskGraph s = tg.snapshot();
            tg.deviceBuffer("extra", 4).task("again", SGD, Mode.EXACT, 1, List.of("p", "u"), ScalarSource.of(ETA));
            assertEquals(List.of("p", "u"), s.buffers().stream().map(ImmutableTaskGraph.Buffer::name).toList());
            assertEquals(1, s.tasks().size());
            assertThrows(UnsupportedOperationException.class, () -> s.tasks().clear());
            assertThrows(UnsupportedOperationException.class, () -> s.buffers().clear());
            assertThrows(UnsupportedOperationException.class, () -> s.tasks().getFirst().buffers().clear());
            assertEquals(2, tg.snapshot().tasks().size(), "the builder goes on");
        }
    }

    @Test
    void snapshotRefusesBadGraphsNamingTheCulprit() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = floats(a, 1f, 2f), u = floats(a, 1f, 2f), small = floats(a, 1f);
            assertBad("unknown buffer 'nope'", new TaskGraph("g").transferToDevice(TransferMode.FIRST_EXECUTION, "p", p)
                    .task("t", SGD, Mode.EXACT, 2, List.of("p", "nope"), ScalarSource.of(ETA)));
            assertBad("buffer 'u' (kernel input 'update') has 4 bytes but 2 f32 elements need 8",
                    new TaskGraph("g").transferToDevice(TransferMode.FIRST_EXECUTION, "p", p)
                            .transferToDevice(TransferMode.EVERY_EXECUTION, "u", small)
                            .task("t", SGD, Mode.EXACT, 2, List.of("p", "u"), ScalarSource.of(ETA)));
            assertBad("takes 2 buffers [param, update], got 1", new TaskGraph("g").transferToDevice(TransferMode.FIRST_EXECUTION, "p", p)
                    .task("t", SGD, Mode.EXACT, 2, List.of("p"), ScalarSource.of(ETA)));
            assertBad("passed twice", new TaskGraph("g").transferToDevice(TransferMode.FIRST_EXECUTION, "p", p)
                    .task("t", SGD, Mode.EXACT, 2, List.of("p", "p"), ScalarSource.of(ETA)));
            assertBad("buffer 'p' has 8 bytes but its host destination has 4",
                    new TaskGraph("g").transferToDevice(TransferMode.FIRST_EXECUTION, "p", p).transferToHost(TransferMode.UNDER_DEMAND, "p", small));
            assertBad("transferToHost: unknown buffer 'q'",
                    new TaskGraph("g").transferToDevice(TransferMode.FIRST_EXECUTION, "p", p).transferToHost(TransferMode.UNDER_DEMAND, "q", p));
            assertBad("buffer 'p' is declared twice", new TaskGraph("g").transferToDevice(TransferMode.FIRST_EXECUTION, "p", p)
                    .transferToDevice(TransferMode.EVERY_EXECUTION, "p", u));
            assertBad("two tasks are named 't'", new TaskGraph("g").transferToDevice(TransferMode.FIRST_EXECUTION, "p", p)
                    .transferToDevice(TransferMode.EVERY_EXECUTION, "u", u)
                    .task("t", SGD, Mode.EXACT, 2, List.of("p", "u"), ScalarSource.of(ETA))
                    .task("t", SGD, Mode.EXACT, 2, List.of("p", "u"), ScalarSource.of(ETA)));
            var e = assertThrows(IllegalArgumentException.class,
                    () -> new TaskGraph("g").transferToDevice(TransferMode.UNDER_DEMAND, "p", p));
            assertTrue(e.getMessage().contains("UNDER_DEMAND"), e.getMessage());
        }
    }

    static void assertBad(String expected, TaskGraph g) {
        var e = assertThrows(IllegalArgumentException.class, g::snapshot);
        assertTrue(e.getMessage().contains(expected), "message '" + e.getMessage() + "' should contain '" + expected + "'");
        assertTrue(e.getMessage().startsWith("task graph 'g'"), e.getMessage());
    }

    @Test
    void planOwnsTheDeviceAndRefusesUseAfterClose() {
        FakeDriver d = FakeDriver.exact();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = floats(a, 1f), u = floats(a, 1f);
            ExecutionPlan plan = new ExecutionPlan(sgdGraph(p, u, Mode.EXACT)).withDevice(d, 0);
            assertNull(plan.device(), "the device opens lazily");
            ExecutionResult r = plan.execute();
            assertEquals("fake:0", plan.device().spec());
            FakeDriver.FakeContext ctx = d.contexts().getFirst();
            plan.close();
            plan.close(); // idempotent
            assertTrue(ctx.isClosed(), "closing the plan closes its context");
            assertTrue(!ctx.memories.isEmpty() && ctx.memories.stream().allMatch(FakeDriver.FakeMemory::freed), "and frees its buffers");
            assertThrows(IllegalStateException.class, plan::execute);
            assertThrows(IllegalStateException.class, () -> plan.withProfiler(true));
            assertThrows(IllegalStateException.class, plan::withWarmUp);
            assertThrows(IllegalStateException.class, plan::profile);
            assertThrows(IllegalStateException.class, () -> r.transferToHost("p"));
            assertThrows(IllegalStateException.class, () -> r.readInto("p", p));
        }
    }

    @Test
    void executeWithoutDeviceOrReadBeforeExecuteIsAnError() {
        FakeDriver d = FakeDriver.exact();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = floats(a, 1f), u = floats(a, 1f);
            try (ExecutionPlan plan = new ExecutionPlan(sgdGraph(p, u, Mode.EXACT))) {
                var e = assertThrows(IllegalStateException.class, plan::execute);
                assertTrue(e.getMessage().contains("withDevice"), e.getMessage());
                plan.withDevice(d, 0).withWarmUp();
                assertEquals(1, d.compiles, "warm-up compiles");
                assertEquals(0, d.copiesIn + d.launches, "warm-up neither copies nor launches");
                assertThrows(IllegalStateException.class, () -> plan.withDevice(d, 0), "the device is fixed once opened");
                var r = plan.execute();
                assertEquals(1, d.compiles, "compiled once");
                assertThrows(IllegalArgumentException.class, () -> r.transferToHost("u"), "u has no host destination");
                assertThrows(IllegalArgumentException.class, () -> r.readInto("p", 4, p), "out of range");
                assertThrows(IllegalArgumentException.class, () -> r.readInto("zz", p), "unknown buffer");
            }
        }
    }

    @Test
    void noSilentFallback() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = floats(a, 1f), u = floats(a, 1f);
            FakeDriver flushing = FakeDriver.notBitExact();
            try (ExecutionPlan plan = new ExecutionPlan(sgdGraph(p, u, Mode.EXACT)).withDevice(flushing, 0)) {
                TaskFailedException e = assertThrows(TaskFailedException.class, plan::execute);
                assertEquals("g.sgd", e.task());
                assertTrue(e.getMessage().contains("g.sgd") && e.getMessage().contains("fake:0") && e.getMessage().contains("denormals"), e.getMessage());
                assertEquals(0, flushing.launches + flushing.copiesIn, "nothing ran");
                assertThrows(TaskFailedException.class, plan::execute, "and it stays refused");
            }
            try (ExecutionPlan plan = new ExecutionPlan(sgdGraph(p, u, Mode.FAST)).withDevice(flushing, 0)) {
                // FAST promises the fused kernel's bits: refused alike.
                assertThrows(TaskFailedException.class, plan::execute);
                assertEquals(0, flushing.launches, "FAST mode does not run on a device that is not bit-exact either");
            }
            FakeDriver broken = FakeDriver.exact().failCompiles("error: expected ';'");
            try (ExecutionPlan plan = new ExecutionPlan(sgdGraph(p, u, Mode.EXACT)).withDevice(broken, 0)) {
                TaskFailedException e = assertThrows(TaskFailedException.class, plan::withWarmUp);
                assertTrue(e.getMessage().contains("g.sgd") && e.getMessage().contains("fake:0") && e.getMessage().contains("expected ';'"), e.getMessage());
            }
        }
    }

    @Test
    void profileHasEveryFieldAsJson() throws Exception {
        FakeDriver d = FakeDriver.exact();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = floats(a, 1f, 2f), u = floats(a, 1f, 2f);
            try (ExecutionPlan plan = new ExecutionPlan(sgdGraph(p, u, Mode.EXACT)).withDevice(d, 0)) {
                plan.execute();
                Profile off = plan.profile();
                assertFalse(off.profiled());
                assertEquals(0, off.kernelNanos());
                assertTrue(off.compileNanos() > 0, "the first execution compiled");
                plan.withProfiler(true);
                plan.execute().transferToHost("p");
                Profile on = plan.profile();
                JsonNode j = new ObjectMapper().readTree(on.toJson());
                for (String f : List.of("device", "executions", "launches", "profiled", "compileNanos", "copyInNanos", "kernelNanos",
                        "copyOutNanos", "hostTotalNanos", "deviceNanos", "hostOverheadNanos")) {
                    assertTrue(j.has(f), "JSON lacks " + f + ": " + j);
                }
                assertEquals("fake:0 (fake device 0)", j.get("device").asText());
                assertEquals(1, j.get("executions").asLong());
                assertEquals(1, j.get("launches").asLong());
                assertTrue(j.get("profiled").asBoolean());
                assertEquals(0, j.get("compileNanos").asLong(), "compiled on the first execution, not this one");
                assertTrue(j.get("copyInNanos").asLong() > 0 && j.get("kernelNanos").asLong() > 0, j.toString());
                assertTrue(j.get("copyOutNanos").asLong() > 0, "the UNDER_DEMAND read counts as copy-out: " + j);
                assertTrue(j.get("hostTotalNanos").asLong() > 0);
                Profile total = plan.totalProfile();
                assertEquals(2, total.executions());
                assertEquals(2, total.launches());
                assertEquals(off.compileNanos(), total.compileNanos());
            }
        }
    }

    @Test
    void externalDeviceBufferStandsInForOneExecution() {
        FakeDriver d = FakeDriver.exact();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = floats(a, 10f, 10f), u = floats(a, 1f, 1f);
            try (ExecutionPlan plan = new ExecutionPlan(sgdGraph(p, u, Mode.EXACT)).withDevice(d, 0)) {
                DeviceBuffer ext = plan.allocate("ext", 8);
                plan.copyToDevice(ext, 0, floats(a, 4f, 6f));
                plan.execute();
                int uCopies = d.copiesIn("u");
                plan.executeWith("u", ext).transferToHost("p");
                assertEquals(uCopies, d.copiesIn("u"), "the stood-in buffer is not copied");
                assertBits(new float[] {10f - 0.5f - 2f, 10f - 0.5f - 3f}, read(p), "steps with u then ext");
                plan.execute().transferToHost("p");
                assertBits(new float[] {10f - 0.5f - 2f - 0.5f, 10f - 0.5f - 3f - 0.5f}, read(p), "u is back");
                try (FakeDriver.FakeContext other = (FakeDriver.FakeContext) FakeDriver.exact().open(0)) {
                    DeviceBuffer foreign = other.allocate("foreign", 8);
                    assertThrows(IllegalArgumentException.class, () -> plan.executeWith("u", foreign));
                }
                DeviceBuffer tiny = plan.allocate("tiny", 4);
                assertThrows(IllegalArgumentException.class, () -> plan.executeWith("u", tiny));
            }
        }
    }

    @Test
    void graphsShareBuffersByName() {
        FakeDriver d = FakeDriver.exact();
        Kernel nag = Nag.INSTANCE.kernel();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = floats(a, 1f), u = floats(a, 2f);
            ImmutableTaskGraph first = new TaskGraph("a")
                    .transferToDevice(TransferMode.FIRST_EXECUTION, "p", p)
                    .transferToDevice(TransferMode.EVERY_EXECUTION, "u", u)
                    .task("sgd", SGD, Mode.EXACT, 1, List.of("p", "u"), ScalarSource.of(ETA))
                    .snapshot();
            ImmutableTaskGraph second = new TaskGraph("b")
                    .deviceBuffer("p", 4)
                    .deviceBuffer("u", 4)
                    .deviceBuffer("phi", 4)
                    .task("nag", nag, Mode.EXACT, 1, List.of("p", "u", "phi"), ScalarSource.of(1f, 0f, 0f))
                    .transferToHost(TransferMode.EVERY_EXECUTION, "p", p)
                    .snapshot();
            try (ExecutionPlan plan = new ExecutionPlan(first, second).withDevice(d, 0)) {
                plan.execute();
                // sgd: 1 - 2*0.5 = 0; then nag with eta 1, mu 0: 0 - 2*1 = -2
                assertBits(new float[] {-2f}, read(p), "second graph sees the first's p and u, not re-zeroed");
                assertEquals(2, d.launches);
            }
            ImmutableTaskGraph clash = new TaskGraph("c").deviceBuffer("p", 8).snapshot();
            var e = assertThrows(IllegalArgumentException.class, () -> new ExecutionPlan(first, clash));
            assertTrue(e.getMessage().contains("'p'") && e.getMessage().contains("'c'"), e.getMessage());
        }
    }
}
