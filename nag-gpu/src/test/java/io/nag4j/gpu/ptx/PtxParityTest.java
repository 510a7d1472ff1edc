package io.nag4j.gpu.ptx;

import io.nag4j.core.golden.Bits;
import io.nag4j.core.ir.Evaluator;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.fuzz.RandomPrograms;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Rules;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.opencl.OpenClTestSupport;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * The PTX {@link PtxRenderer} emits, executed by {@link PtxInterpreter} with the launch
 * {@link CudaContext#launch} makes, against the IR evaluator: EXACT bit for bit (NaN by class), FAST
 * bit for bit against the evaluator on the fused kernel, and within the bound docs/numerics.md
 * states of EXACT. This checks
 * the PTX's meaning under our reading of the PTX ISA; only a GPU checks the hardware.
 */
class PtxParityTest {
    /** Element counts around the block size (256): the threads past n must exit before any access. */
    static final int[] COUNTS = {1, 255, 256, 257, 1000};
    static final int STEPS = 6;

    static Stream<Rule> builtInRules() { return Rules.all().stream(); }

    static PtxInterpreter load(Kernel k, Mode mode, boolean contract) {
        return PtxInterpreter.load(PtxRenderer.render(k, mode), mode, contract);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("builtInRules")
    void everyBuiltInRuleIsBitExactOverSteps(Rule rule) {
        Kernel k = rule.kernel();
        PtxInterpreter ptx = load(k, Mode.EXACT, true);
        for (int n : COUNTS) {
            Random r = new Random(rule.name().hashCode() * 31L + n);
            float[][] state = new float[k.inputs().size()][];
            for (int i = 0; i < state.length; i++) state[i] = RandomPrograms.hostileFloats(r, n);
            Hyperparams hp = rule.defaults();
            for (int t = 1; t <= STEPS; t++) {
                if (t == STEPS / 2 + 1) hp = RandomPrograms.perturbedDefaults(rule, r);
                state[Kernel.UPDATE] = RandomPrograms.hostileFloats(r, n);
                state = stepAndCompare(k, ptx, state, rule.scalars(t, hp), "EXACT, n=" + n + ", step " + t + " (hp " + hp + ")");
            }
        }
    }

    /** Every kernel of {@link PtxKernels}: built-in rules, random kernels over every op, the CPU differential tests' random rules. */
    @TestFactory
    Stream<DynamicTest> randomKernelsAndRulesAreBitExact() {
        return PtxKernels.all().stream().map(k -> dynamicTest(k.name(), () -> randomSteps(k, load(k, Mode.EXACT, true), "EXACT")));
    }

    /** FAST's PTX computes the fused kernel's bits: the evaluator on {@code Mode.FAST.kernel(k)}, bit for bit. */
    @TestFactory
    Stream<DynamicTest> fastIsTheFusedKernelBitForBit() {
        return PtxKernels.all().stream().map(k -> dynamicTest(k.name(), () -> randomSteps(Mode.FAST.kernel(k), load(k, Mode.FAST, false), "FAST")));
    }

    private static void randomSteps(Kernel k, PtxInterpreter ptx, String what) {
        int n = 300;
        Random r = new Random(k.hash().hashCode());
        float[][] state = new float[k.inputs().size()][];
        for (int i = 0; i < state.length; i++) state[i] = RandomPrograms.hostileFloats(r, n);
        for (int t = 1; t <= 2; t++) {
            state[Kernel.UPDATE] = RandomPrograms.hostileFloats(r, n);
            state = stepAndCompare(k, ptx, state, RandomPrograms.hostileFloats(r, k.scalars().size()), what + ", n=" + n + ", step " + t);
        }
    }

    /** The stated per-step bound of FAST (docs/numerics.md, "OpenCL FAST", which "PTX FAST" adopts): 4 ulp of S. */
    static final double BOUND_ULPS_OF_S = 4;

    /**
     * FAST (the fused kernel) against EXACT, on the data OpenClFastModeTest uses: ordinary values,
     * non-negative accumulators, each step from the same inputs as the evaluator. Prints the
     * measured maximum.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("builtInRules")
    void fastContractedStaysWithinItsStatedBound(Rule rule) {
        Kernel k = rule.kernel();
        PtxInterpreter ptx = load(k, Mode.FAST, false);
        int n = 2049, steps = 12;
        SplittableRandom r = new SplittableRandom(42 + rule.name().hashCode());
        double worst = 0;
        long differing = 0, total = 0;
        float[] in = new float[k.inputs().size()], vars = new float[k.eqns().size()];
        for (int t = 1; t <= steps; t++) {
            float[][] before = new float[k.inputs().size()][];
            for (int i = 0; i < before.length; i++) before[i] = OpenClTestSupport.values(r, n, 0);
            for (int i = 2; i < before.length; i++) for (int e = 0; e < n; e++) before[i][e] = Math.abs(before[i][e]);
            float[] scalars = rule.scalars(t, rule.defaults());
            float[][] fast = run(k, ptx, before, scalars);
            for (int e = 0; e < n; e++) {
                float s = 0;
                for (int i = 0; i < in.length; i++) s = maxMag(s, in[i] = before[i][e]);
                for (float x : scalars) s = maxMag(s, x);
                Evaluator.evalElement(k, in, scalars, vars);
                for (float v : vars) s = maxMag(s, v);
                for (Kernel.Output o : k.outputs()) {
                    float exact = in[o.input()], got = fast[o.input()][e];
                    total++;
                    if (Bits.same(exact, got)) continue;
                    differing++;
                    double ofS = Math.abs((double) exact - got) / Math.ulp(s);
                    worst = Math.max(worst, ofS);
                    if (!(ofS <= BOUND_ULPS_OF_S)) {
                        fail(rule.name() + " FAST step " + t + " " + k.inputs().get(o.input()) + " element " + e + ": exact "
                                + hex(exact) + ", fast " + hex(got) + ", " + ofS + " ulp of S=" + hex(s));
                    }
                }
            }
        }
        System.out.printf("PTX FAST (interpreted) %s: max |FAST-EXACT| = %.3f ulp(S); %d of %d outputs differ%n",
                rule.name(), worst, differing, total);
        if (Mode.FAST.kernel(k) != k) assertTrue(differing > 0, rule.name() + ": fusing changed no output, so this test checked nothing");
    }

    /** nag's kernel over n > 2^32 elements: only the last three blocks run, over buffers backed only where they touch. */
    @Test
    void indexesPast32BitsWith64BitArithmetic() {
        Kernel k = Rules.byName("nag").kernel();
        PtxInterpreter ptx = load(k, Mode.EXACT, true);
        long n = 5_000_000_123L; // ctaid * ntid passes 2^32, byte offsets need 35 bits; n % 256 = 123
        int blocks = Math.toIntExact((n + PtxRenderer.BLOCK_SIZE - 1) / PtxRenderer.BLOCK_SIZE);
        int first = blocks - 3;
        long from = (long) first * PtxRenderer.BLOCK_SIZE;
        int window = Math.toIntExact(n - from);
        Random r = new Random(64);
        float[][] before = new float[k.inputs().size()][];
        float[][] dev = new float[before.length][];
        PtxInterpreter.Memory mem = new PtxInterpreter.Memory();
        long[] ptrs = new long[before.length];
        for (int i = 0; i < before.length; i++) {
            before[i] = RandomPrograms.hostileFloats(r, window);
            dev[i] = before[i].clone();
            ptrs[i] = mem.allocate(k.inputs().get(i), 4 * n, 4 * from, MemorySegment.ofArray(dev[i]));
        }
        float[] scalars = Rules.byName("nag").scalars(3, Rules.byName("nag").defaults());
        ptx.launch(mem, PtxInterpreter.arguments(n, ptrs, scalars), blocks, PtxRenderer.BLOCK_SIZE, first, blocks);
        float[][] cpu = copy(before);
        OpenClTestSupport.evaluate(k, cpu, scalars);
        assertSameBits(k, "EXACT, elements " + from + " to " + n + " of " + n, before, cpu, dev, scalars);
    }

    // ---- shared with PtxInterpreterTest ----

    /** One launch over copies of {@code before} and one evaluator pass; fails on the first differing bit; returns the result. */
    static float[][] stepAndCompare(Kernel k, PtxInterpreter ptx, float[][] before, float[] scalars, String where) {
        float[][] dev = run(k, ptx, before, scalars);
        float[][] cpu = copy(before);
        OpenClTestSupport.evaluate(k, cpu, scalars);
        assertSameBits(k, where, before, cpu, dev, scalars);
        return cpu;
    }

    /** The PTX over copies of {@code before}, one exact-size buffer per input, launched as CudaContext launches. */
    static float[][] run(Kernel k, PtxInterpreter ptx, float[][] before, float[] scalars) {
        float[][] dev = copy(before);
        PtxInterpreter.Memory mem = new PtxInterpreter.Memory();
        long[] ptrs = new long[dev.length];
        for (int i = 0; i < dev.length; i++) ptrs[i] = mem.allocate(k.inputs().get(i), dev[i]);
        ptx.launchLikeCudaContext(mem, dev[0].length, ptrs, scalars);
        return dev;
    }

    /** Every input buffer (outputs and the ones no output writes) equal in bits, NaN by class. */
    static void assertSameBits(Kernel k, String where, float[][] before, float[][] expected, float[][] got, float[] scalars) {
        for (int i = 0; i < expected.length; i++) {
            int bad = 0, first = -1;
            for (int e = 0; e < expected[i].length; e++) {
                if (!Bits.same(expected[i][e], got[i][e])) {
                    if (first < 0) first = e;
                    bad++;
                }
            }
            if (bad == 0) continue;
            StringBuilder ins = new StringBuilder();
            for (int j = 0; j < before.length; j++) ins.append(j == 0 ? "" : ", ").append(k.inputs().get(j)).append('=').append(hex(before[j][first]));
            StringBuilder sc = new StringBuilder();
            for (int s = 0; s < scalars.length; s++) sc.append(s == 0 ? "" : ", ").append(k.scalars().get(s)).append('=').append(hex(scalars[s]));
            fail("kernel " + k.name() + ", " + where + ": input '" + k.inputs().get(i) + "' element " + first + " (" + bad + " of "
                    + expected[i].length + " differ): evaluator " + hex(expected[i][first]) + ", PTX " + hex(got[i][first])
                    + "; the element's inputs were " + ins + "; scalars " + sc);
        }
    }

    static String hex(float v) { return String.format("0x%08x (%s)", Float.floatToRawIntBits(v), v); }

    static float[][] copy(float[][] a) {
        float[][] c = new float[a.length][];
        for (int i = 0; i < a.length; i++) c[i] = Arrays.copyOf(a[i], a[i].length);
        return c;
    }

    /** The larger magnitude, ignoring NaN (a NaN intermediate says nothing of the scale). */
    private static float maxMag(float s, float v) { return Float.isNaN(v) ? s : Math.max(s, Math.abs(v)); }

}
