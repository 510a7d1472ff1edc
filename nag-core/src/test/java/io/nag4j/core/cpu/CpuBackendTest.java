package io.nag4j.core.cpu;

import io.nag4j.core.golden.NagGoldenTest;
import io.nag4j.core.ir.Eqn;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.ir.KernelDiff;
import io.nag4j.core.ir.Op;
import io.nag4j.core.ir.Operand;
import io.nag4j.core.fuzz.RandomPrograms;
import io.nag4j.core.optim.KernelOptimizer;
import io.nag4j.core.rule.Nag;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Rules;
import io.nag4j.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The generated-code CPU backend against the seed's golden cases and, bit for bit, the reference evaluator. */
class CpuBackendTest {

    /** A backend that takes the parallel path on every step, in units of a few elements. */
    static CpuBackend eagerParallel() {
        return new CpuBackend(3, 0, 5, CpuBackend.VECTOR_DEFAULT, false);
    }

    /**
     * Single-threaded backends of each lowering this JVM can run: scalar always, Vector API when
     * the JVM has jdk.incubator.vector (the build's test JVMs do). Close them after use.
     */
    static List<CpuBackend> eachLowering() {
        List<CpuBackend> out = new ArrayList<>();
        out.add(new CpuBackend(1, Long.MAX_VALUE, CpuBackend.MIN_UNIT, false, false));
        if (CpuBackend.VECTOR_DEFAULT) out.add(new CpuBackend(1, Long.MAX_VALUE, CpuBackend.MIN_UNIT, true, false));
        return out;
    }

    static String flavor(CpuBackend b) { return b.vectorized() ? "vector" : "scalar"; }

    @Test
    void goldenNagCasesOnTheSharedBackend() {
        NagGoldenTest.replayAll(new KernelOptimizer(Nag.INSTANCE, Nag.INSTANCE.defaults(), CpuBackend.shared()));
    }

    @Test
    void goldenNagCasesWithEveryStepParallel() {
        try (CpuBackend cpu = eagerParallel()) {
            NagGoldenTest.replayAll(new KernelOptimizer(Nag.INSTANCE, Nag.INSTANCE.defaults(), cpu));
        }
    }

    @Test
    void everyBuiltInRuleAgreesWithTheEvaluatorOnSizesAcrossTheParallelThreshold() {
        CpuBackend cpu = CpuBackend.shared();
        Random r = new Random(42);
        for (Rule rule : Rules.all()) for (Hyperparams config : Rules.configurations(rule).values()) {
            Kernel k = rule.kernel(config);
            long threshold = (cpu.parallelBytes() + k.bytesPerElement() - 1) / k.bytesPerElement();
            // 3M elements (many units on the pool) for the defaults' kernel; the evaluator is slow, so not for every configuration.
            boolean defaults = config == rule.defaults();
            for (long n : defaults ? new long[] {1, 7, 1000, threshold - 1, threshold, threshold + 1, 3_000_000}
                                   : new long[] {1, 7, threshold - 1, threshold + 1}) {
                for (long t : new long[] {1, 2}) {
                    float[] scalars = rule.scalars(t, config);
                    List<float[][]> groups = List.<float[][]>of(inputs(r, k, (int) n));
                    KernelDiff.assertSameAsEvaluator(k, groups, scalars, cpu, k.name() + " n=" + n + " step " + t);
                }
            }
        }
    }

    @Test
    void everyBuiltInRuleAgreesOnAParamSetOfManyOddSizedTensors() {
        Random r = new Random(7);
        for (Rule rule : Rules.all()) for (Hyperparams config : Rules.configurations(rule).values()) {
            Kernel k = rule.kernel(config);
            List<float[][]> groups = new ArrayList<>();
            // Large tensors (the pool's units spanning tensors) for the defaults' kernel; the evaluator is slow, so small ones otherwise.
            int large = config == rule.defaults() ? 40_000 : 400;
            for (int g = 0; g < 130; g++) groups.add(inputs(r, k, 1 + 2 * r.nextInt(r.nextBoolean() ? 40 : large)));
            float[] scalars = rule.scalars(2, config);
            KernelDiff.assertSameAsEvaluator(k, groups, scalars, CpuBackend.shared(), k.name() + " 130 tensors, shared");
            try (CpuBackend cpu = eagerParallel()) {
                KernelDiff.assertSameAsEvaluator(k, groups, scalars, cpu, k.name() + " 130 tensors, every step parallel");
            }
        }
    }

    /** Each op alone on every pair (and, for three operands, a sample of triples) of hostile values. */
    @Test
    void everyOpIsBitwiseTheEvaluatorsOnSpecialValues() {
        float[] sp = RandomPrograms.SPECIALS;
        Random r = new Random(3);
        List<String> inputs = List.of("param", "update", "s0");
        for (Op op : RandomPrograms.DRAWN) { // random reads where the element is: StochasticRoundingTest
            List<Operand> args = new ArrayList<>();
            for (int a = 0; a < op.arity(); a++) args.add(new Operand.Input(a == 1 ? 1 : a == 0 ? 0 : 2));
            Kernel k = new Kernel("op_" + op.mnemonic(), inputs, List.of(), List.of(new Eqn(0, op, args)),
                    List.of(new Kernel.Output(Kernel.PARAM, new Operand.Var(0)), new Kernel.Output(2, new Operand.Input(2))));
            int n = sp.length * sp.length * sp.length + 5000;
            float[][] in = new float[3][n];
            int e = 0;
            for (float a : sp) for (float b : sp) for (float c : sp) { in[0][e] = a; in[1][e] = b; in[2][e] = c; e++; }
            for (; e < n; e++) for (int i = 0; i < 3; i++) in[i][e] = RandomPrograms.hostileFloat(r);
            for (CpuBackend b : eachLowering()) {
                try (b) {
                    KernelDiff.assertSameAsEvaluator(k, List.<float[][]>of(in), new float[0], b, "op " + op + " " + flavor(b));
                }
            }
        }
    }

    @Test
    void theBuildsTestJvmsRunTheVectorLowering() {
        // The root pom starts test JVMs with --add-modules jdk.incubator.vector, so both lowerings are tested.
        assertTrue(CpuBackend.VECTOR_DEFAULT, "jdk.incubator.vector is missing: only the scalar lowering is being tested");
        assertTrue(CpuBackend.shared().vectorized());
    }

    @Test
    void constantsKeepTheirExactBits() {
        float[] sp = RandomPrograms.SPECIALS;
        List<Eqn> eqns = new ArrayList<>();
        // v0 = param + 0; then v_i = select(v_{i-1} ... ): simply add each constant to a running sum of copies.
        eqns.add(new Eqn(0, Op.MUL, List.of(new Operand.Input(0), new Operand.Const(0))));
        List<Kernel.Output> outs = new ArrayList<>();
        for (int i = 0; i < sp.length; i++) {
            eqns.add(new Eqn(i + 1, Op.SELECT, List.of(new Operand.Input(1), new Operand.Const(Float.floatToRawIntBits(sp[i])), new Operand.Var(0))));
        }
        outs.add(new Kernel.Output(Kernel.PARAM, new Operand.Var(eqns.size() - 1)));
        for (int i = 0; i < sp.length; i++) {
            Kernel k = new Kernel("const", List.of("param", "update"), List.of(), eqns.subList(0, i + 2),
                    List.of(new Kernel.Output(Kernel.PARAM, new Operand.Var(i + 1))));
            for (CpuBackend b : eachLowering()) {
                // 100 elements: the vector loop covers most, the scalar remainder the rest.
                float[] ones = new float[100];
                java.util.Arrays.fill(ones, 1f);
                try (b; Tensor p = Tensor.of("p", new float[100]); Tensor u = Tensor.of("u", ones)) {
                    b.execute(k, List.<Tensor[]>of(new Tensor[] {p, u}), new float[0]);
                    for (int e = 0; e < 100; e++) {
                        float got = p.get(e);
                        boolean same = Float.isNaN(sp[i]) ? Float.isNaN(got) : Float.floatToRawIntBits(got) == Float.floatToRawIntBits(sp[i]);
                        assertTrue(same, flavor(b) + ": constant " + Float.toHexString(sp[i]) + " came back as " + Float.toHexString(got) + " at " + e);
                    }
                }
            }
        }
    }

    @Test
    void aKernelWithoutEquationsCopiesInputs() {
        // param' = update, s0' = param: outputs straight from inputs, every input read before any write.
        Kernel k = new Kernel("copy", List.of("param", "update", "s0"), List.of(), List.of(),
                List.of(new Kernel.Output(Kernel.PARAM, new Operand.Input(1)), new Kernel.Output(2, new Operand.Input(0))));
        Random r = new Random(5);
        for (CpuBackend b : eachLowering()) {
            try (b) {
                KernelDiff.assertSameAsEvaluator(k, List.of(inputs(r, k, 77), inputs(r, k, 0), inputs(r, k, 1)), new float[0], b, "copy " + flavor(b));
            }
        }
    }

    @Test
    void concurrentStepsFromSeveralThreadsOnOneBackendAreEachCorrect() throws Exception {
        Kernel k = Nag.INSTANCE.kernel();
        float[] scalars = Nag.INSTANCE.scalars(2, Nag.INSTANCE.defaults());
        try (CpuBackend cpu = eagerParallel()) {
            List<Thread> threads = new ArrayList<>();
            List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int t = 0; t < 4; t++) {
                long seed = t;
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        Random r = new Random(seed);
                        for (int rep = 0; rep < 20; rep++) {
                            List<float[][]> groups = List.of(inputs(r, k, 1 + r.nextInt(5000)), inputs(r, k, 1 + r.nextInt(300)));
                            KernelDiff.assertSameAsEvaluator(k, groups, scalars, cpu, "thread " + seed + " rep " + rep);
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }));
            }
            for (Thread t : threads) t.join();
            if (!failures.isEmpty()) throw new AssertionError(failures.getFirst());
        }
    }

    @Test
    void loopsAreCachedByKernelHash() {
        Kernel a = Nag.INSTANCE.kernel(), b = Nag.INSTANCE.kernel();
        assertSame(CpuBackend.loopOf(a, false), CpuBackend.loopOf(b, false));
    }

    @Test
    void describeListsTheGeneratedLoop() {
        Kernel k = Nag.INSTANCE.kernel();
        String scalar = JvmLowering.describe(k, false);
        assertTrue(scalar.contains("float v5 = v2 + v4;"), scalar);
        assertTrue(scalar.contains("paramTile[j] = v5;"), scalar);
        assertTrue(scalar.contains("    fadd\n"), scalar);
        String shared = CpuBackend.describe(k);
        if (CpuBackend.shared().vectorized()) {
            assertTrue(shared.contains("FloatVector Vv5 = Vv2.add(Vv4);"), shared);
            assertTrue(shared.contains("Vv5.intoMemorySegment(paramBuf, off, order);"), shared);
            assertTrue(shared.contains("paramBuf.set(F, off, v5);"), shared); // the scalar remainder
            assertTrue(shared.contains("invokevirtual FloatVector.add"), shared);
        }
    }

    @Test
    void aClosedTensorIsAnExceptionNamingIt() {
        Kernel k = Nag.INSTANCE.kernel();
        Tensor p = Tensor.of("w", 1f, 2f), u = Tensor.of("g", 1f, 1f), phi = Tensor.of("w.phi", 0f, 0f);
        List<Tensor[]> groups = List.<Tensor[]>of(new Tensor[] {p, u, phi});
        float[] scalars = Nag.INSTANCE.scalars(1, Nag.INSTANCE.defaults());
        CpuBackend.shared().execute(k, groups, scalars);
        phi.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> CpuBackend.shared().execute(k, groups, scalars));
        assertTrue(e.getMessage().contains("w.phi"), e.getMessage());
        p.close();
        u.close();
    }

    @Test
    void wrongScalarCountIsRejected() {
        Kernel k = Nag.INSTANCE.kernel();
        try (Tensor p = Tensor.of("w", 1f); Tensor u = Tensor.of("g", 1f); Tensor phi = Tensor.of("phi", 0f)) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> CpuBackend.shared().execute(k, List.<Tensor[]>of(new Tensor[] {p, u, phi}), new float[2]));
            assertTrue(e.getMessage().contains("3 scalars"), e.getMessage());
            assertEquals(1f, p.get(0));
        }
    }

    @Test
    void badConstructorArgumentsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new CpuBackend(0, 0));
        assertThrows(IllegalArgumentException.class, () -> new CpuBackend(1, -1));
    }

    static float[][] inputs(Random r, Kernel k, int n) {
        float[][] in = new float[k.inputs().size()][];
        for (int i = 0; i < in.length; i++) in[i] = RandomPrograms.hostileFloats(r, n);
        return in;
    }
}
