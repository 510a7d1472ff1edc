package io.nag4j.core.ir;

import io.nag4j.core.cpu.CpuBackend;
import io.nag4j.core.optim.KernelExecutor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The narrowings over all 2^32 float32 inputs: {@link Narrowing}'s integer definition against
 * independent oracles (the JDK's {@code Float.floatToFloat16} for f16, exact double arithmetic
 * for bf16), and the CPU backend's generated loop against the evaluator, bit for bit, NaN payloads included.
 */
class NarrowingExhaustiveTest {
    static int bf16Oracle(int bits) { return Float.floatToRawIntBits(io.nag4j.core.reference.MasterWeightsReference.bf16(Float.intBitsToFloat(bits))); }

    static int f16Oracle(int bits) { return Float.floatToRawIntBits(io.nag4j.core.reference.MasterWeightsReference.f16(Float.intBitsToFloat(bits))); }

    @Test
    void theDefinitionMatchesIndependentOraclesOnEveryFloat32() {
        AtomicLong bad = new AtomicLong();
        IntStream.range(0, 1 << 16).parallel().forEach(hi -> {
            for (int lo = 0; lo < 1 << 16; lo++) {
                int b = hi << 16 | lo;
                float x = Float.intBitsToFloat(b);
                int bf = Float.floatToRawIntBits(Narrowing.bf16(x)), f = Float.floatToRawIntBits(Narrowing.f16(x));
                if (bf != bf16Oracle(b) || f != f16Oracle(b)) {
                    if (bad.getAndIncrement() == 0) {
                        System.err.printf("input %08x: bf16 %08x (oracle %08x), f16 %08x (oracle %08x)%n", b, bf, bf16Oracle(b), f, f16Oracle(b));
                    }
                }
                if (!Float.isNaN(x) && Narrowing.toF16Bits(x) != Float.floatToFloat16(x)) {
                    if (bad.getAndIncrement() == 0) System.err.printf("input %08x: toF16Bits %04x, JDK %04x%n", b, Narrowing.toF16Bits(x), Float.floatToFloat16(x));
                }
                if (Float.floatToRawIntBits(Narrowing.fromBf16Bits(Narrowing.toBf16Bits(x))) != bf
                        || Float.floatToRawIntBits(Narrowing.fromF16Bits(Narrowing.toF16Bits(x))) != f) {
                    if (bad.getAndIncrement() == 0) System.err.printf("input %08x: the 16-bit patterns do not widen back%n", b);
                }
            }
        });
        assertEquals(0, bad.get(), "inputs where the narrowing differs from its oracle (first printed above)");
    }

    @Test
    void theCpuBackendsLoopMatchesTheEvaluatorOnEveryFloat32() {
        // param <- bf16(update), s <- f16(update): one generated loop over 2^32 inputs, in chunks.
        Kernel k = new Kernel("narrow", List.of("param", "update", "s"), List.of(),
                List.of(new Eqn(0, Op.BF16, List.of(new Operand.Input(1))), new Eqn(1, Op.F16, List.of(new Operand.Input(1)))),
                List.of(new Kernel.Output(0, new Operand.Var(0)), new Kernel.Output(2, new Operand.Var(1))));
        int chunk = 1 << 22;
        AtomicLong bad = new AtomicLong();
        // 1024 chunks over both cores, each with its own loop and memory; every element's bits against the evaluator's.
        IntStream.range(0, (int) ((1L << 32) / chunk)).parallel().forEach(c -> {
            long base = (long) c * chunk;
            try (CpuBackend cpu = CpuBackend.singleThread(CpuBackend.vectorAvailable());
                 java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
                var p = arena.allocate(4L * chunk, 64);
                var u = arena.allocate(4L * chunk, 64);
                var s = arena.allocate(4L * chunk, 64);
                io.nag4j.core.tensor.Tensor[] group = {io.nag4j.core.tensor.Tensor.wrap("param", p, chunk), io.nag4j.core.tensor.Tensor.wrap("update", u, chunk),
                        io.nag4j.core.tensor.Tensor.wrap("s", s, chunk)};
                for (int i = 0; i < chunk; i++) u.setAtIndex(java.lang.foreign.ValueLayout.JAVA_INT, i, (int) (base + i));
                cpu.prepare(k, List.<io.nag4j.core.tensor.Tensor[]>of(group)).run(new float[0]);
                for (int i = 0; i < chunk; i++) {
                    int b = (int) (base + i);
                    float x = Float.intBitsToFloat(b);
                    int gotB = p.getAtIndex(java.lang.foreign.ValueLayout.JAVA_INT, i), gotF = s.getAtIndex(java.lang.foreign.ValueLayout.JAVA_INT, i);
                    int wantB = Float.floatToRawIntBits(Op.BF16.eval(x, 0, 0)), wantF = Float.floatToRawIntBits(Op.F16.eval(x, 0, 0));
                    if ((gotB != wantB || gotF != wantF) && bad.getAndIncrement() == 0) {
                        System.err.printf("input %08x: cpu bf16 %08x f16 %08x, evaluator %08x %08x%n", b, gotB, gotF, wantB, wantF);
                    }
                }
            }
        });
        assertEquals(0, bad.get(), "inputs where the CPU backend's loop differs from the evaluator (first printed above)");
    }
}
