package io.nag4j.core.ir;

import io.nag4j.core.cpu.CpuBackend;
import io.nag4j.core.reference.MasterWeightsReference;
import io.nag4j.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Stochastic rounding's definition ({@link Narrowing#bf16Stochastic}, {@link Narrowing#f16Stochastic})
 * against the reference's second implementation in doubles at every rounding boundary, Philox against
 * Random123's published known answers, the CPU loop of {@link Op#RANDOM} against the evaluator, and
 * the expectation of the rounding against the value rounded.
 */
class StochasticRoundingTest {
    /** Random123's kat_vectors for philox4x32_10: counter, key, output. */
    static final int[][] KAT = {
            {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
            {-1, -1, -1, -1, -1, -1, 0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
            {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
    };

    @Test
    void philoxGivesRandom123sKnownAnswers() {
        for (int[] v : KAT) {
            for (int j = 0; j < 4; j++) {
                int got = Philox.word(v[0], v[1], v[2], v[3], v[4], v[5], j);
                assertEquals(v[6 + j], got, String.format("counter %08x %08x %08x %08x key %08x %08x word %d: got %08x", v[0], v[1], v[2], v[3], v[4], v[5], j, got));
            }
        }
    }

    @Test
    void theTwoPhiloxImplementationsAgreeAndTheCounterLayoutIsTheDocumentedOne() {
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < 20_000; i++) {
            long seed = r.nextLong(), step = r.nextLong() & 0xffffffffL, element = i % 3 == 0 ? r.nextLong() & 0xfffffffffL : r.nextInt(1 << 20);
            int tensor = r.nextInt(1000);
            float a = Philox.uniform(seed, step, tensor, element, 0), b = MasterWeightsReference.uniform(seed, step, tensor, element);
            assertEquals(Float.floatToRawIntBits(b), Float.floatToRawIntBits(a), "seed " + seed + " step " + step + " tensor " + tensor + " element " + element);
            int w = Philox.word((int) element, (int) (element >>> 32), tensor, (int) step, (int) seed, (int) (seed >>> 32), 0);
            assertEquals((w >>> 8) * 0x1p-24f, a);
            assertTrue(a >= 0f && a < 1f);
            // the 16-bit pieces the kernels carry give the same uniform
            float viaPieces = Philox.uniform(0, Philox.piece(seed, 0), Philox.piece(seed, 1), Philox.piece(seed, 2), Philox.piece(seed, 3),
                    Philox.piece(step, 0), Philox.piece(step, 1), tensor, element);
            assertEquals(Float.floatToRawIntBits(a), Float.floatToRawIntBits(viaPieces));
        }
    }

    /** The uniforms that decide a rounding of x: each fraction a definition may drop, just below and above it, and the ends. */
    static List<Float> decisive(int bits, SplittableRandom r) {
        int a = bits & 0x7fffffff;
        List<Float> fr = new ArrayList<>(List.of((bits & 0xffff) * 0x1p-16f, (a & 0x1fff) * 0x1p-13f));
        float y = Float.intBitsToFloat(a) * 0x1p24f;
        if (Float.isFinite(y)) fr.add(y - (float) Math.floor(y));
        List<Float> u = new ArrayList<>(List.of(0f, 0x1p-24f, 1f - 0x1p-24f, 0.5f, Float.NaN, -0.25f, 1f, (r.nextInt() >>> 8) * 0x1p-24f));
        for (float f : fr) {
            u.add(f);
            u.add(Math.nextDown(f));
            u.add(Math.nextUp(f));
        }
        return u;
    }

    @Test
    void theDefinitionMatchesTheReferencesDoublesAtEveryBoundary() {
        int[] lows = {0, 1, 2, 0x0fff, 0x1000, 0x1001, 0x1fff, 0x2000, 0x7fff, 0x8000, 0x8001, 0xffff};
        AtomicLong bad = new AtomicLong(), checked = new AtomicLong();
        IntStream.range(0, 1 << 16).parallel().forEach(hi -> {
            SplittableRandom r = new SplittableRandom(hi);
            for (int l = 0; l < lows.length + 4; l++) {
                int b = hi << 16 | (l < lows.length ? lows[l] : r.nextInt(1 << 16));
                float x = Float.intBitsToFloat(b);
                for (float u : decisive(b, r)) {
                    int bf = Float.floatToRawIntBits(Narrowing.bf16Stochastic(x, u)), bfRef = Float.floatToRawIntBits(MasterWeightsReference.bf16Stochastic(x, u));
                    int f = Float.floatToRawIntBits(Narrowing.f16Stochastic(x, u)), fRef = Float.floatToRawIntBits(MasterWeightsReference.f16Stochastic(x, u));
                    checked.incrementAndGet();
                    if ((bf != bfRef || f != fRef) && bad.getAndIncrement() < 5) {
                        System.err.printf("x %08x (%s) u %s: bf16_sr %08x (reference %08x), f16_sr %08x (reference %08x)%n", b, x, u, bf, bfRef, f, fRef);
                    }
                }
            }
        });
        assertEquals(0, bad.get(), "of " + checked.get() + " (x, u) pairs, these differ from the reference (first printed above)");
    }

    @Test
    void theResultIsOneOfTheTwoNeighboursRoundingToNearestChoosesBetween() {
        SplittableRandom r = new SplittableRandom(9);
        for (int i = 0; i < 2_000_000; i++) {
            float x = Float.intBitsToFloat(r.nextInt());
            if (Float.isNaN(x)) continue;
            float u = (r.nextInt() >>> 8) * 0x1p-24f;
            for (boolean bf : new boolean[] {true, false}) {
                float got = bf ? Narrowing.bf16Stochastic(x, u) : Narrowing.f16Stochastic(x, u);
                float near = bf ? Narrowing.bf16(x) : Narrowing.f16(x);
                float again = bf ? Narrowing.bf16(got) : Narrowing.f16(got);
                assertEquals(Float.floatToRawIntBits(got), Float.floatToRawIntBits(again), "x " + x + " u " + u + ": " + got + " is not a " + (bf ? "bf16" : "f16"));
                // u = 1 never steps away (the truncation), u = 0 always does when inexact: got is one of those two
                // neighbours, and rounding to nearest picks one of the same two (or overflows past them).
                float lo = bf ? Narrowing.bf16Stochastic(x, 1f) : Narrowing.f16Stochastic(x, 1f);
                float hi = bf ? Narrowing.bf16Stochastic(x, 0f) : Narrowing.f16Stochastic(x, 0f);
                assertTrue(got == lo || got == hi, "x " + x + " u " + u + ": " + got + " is neither " + lo + " nor " + hi);
                if (Float.isFinite(lo)) assertTrue(Math.abs(lo) <= Math.abs(x) && Math.abs(hi) >= Math.abs(x), "x " + x + ": neighbours " + lo + ", " + hi);
                if (Float.isFinite(near) && Float.isFinite(hi)) assertTrue(near == lo || near == hi, "x " + x + ": nearest " + near + " is neither " + lo + " nor " + hi);
            }
        }
    }

    @Test
    void theExpectationIsTheValueRounded() {
        // Over 2^20 elements of one tensor, the mean of the stochastic roundings of x is x within 6 standard deviations.
        int n = 1 << 20;
        for (float x : new float[] {1.00390625f + 0x1p-20f, 3.14159265f, -0.1f, 1e-6f, 6e-6f, 65500f, 1e30f}) {
            for (boolean bf : new boolean[] {true, false}) {
                if (!bf && Math.abs(x) > 65504) continue;
                double sum = 0;
                for (int e = 0; e < n; e++) {
                    float u = Philox.uniform(42, 7, 3, e, 0);
                    sum += bf ? Narrowing.bf16Stochastic(x, u) : Narrowing.f16Stochastic(x, u);
                }
                double lo = bf ? Narrowing.bf16Stochastic(x, 1f) : Narrowing.f16Stochastic(x, 1f);
                double hi = bf ? Narrowing.bf16Stochastic(x, 0f) : Narrowing.f16Stochastic(x, 0f);
                double p = (x - lo) / (hi - lo), sigma = Math.abs(hi - lo) * Math.sqrt(p * (1 - p) / n);
                double mean = sum / n;
                assertTrue(Math.abs(mean - x) <= 6 * sigma + Math.ulp(x), (bf ? "bf16" : "f16") + " of " + x + ": mean " + mean + ", neighbours " + lo + " and " + hi
                        + ", sigma " + sigma);
            }
        }
    }

    @Test
    void theCpuLoopOfRandomAndStochasticRoundingMatchesTheEvaluator() {
        // param <- bf16_sr(update, random word 0), s <- f16_sr(update, random word 3), over three tensors of a step.
        List<Operand> rng = List.of(new Operand.Scalar(0), new Operand.Scalar(1), new Operand.Scalar(2), new Operand.Scalar(3), new Operand.Scalar(4), new Operand.Scalar(5));
        List<Operand> w0 = new ArrayList<>(List.of(new Operand.Const(Float.floatToRawIntBits(0f))));
        w0.addAll(rng);
        List<Operand> w3 = new ArrayList<>(List.of(new Operand.Const(Float.floatToRawIntBits(3f))));
        w3.addAll(rng);
        Kernel k = new Kernel("sr", List.of("param", "update", "s"), Kernel.RANDOM_SCALARS, List.of(
                new Eqn(0, Op.RANDOM, w0), new Eqn(1, Op.BF16_SR, List.of(new Operand.Input(1), new Operand.Var(0))),
                new Eqn(2, Op.RANDOM, w3), new Eqn(3, Op.F16_SR, List.of(new Operand.Input(1), new Operand.Var(2)))),
                List.of(new Kernel.Output(0, new Operand.Var(1)), new Kernel.Output(2, new Operand.Var(3))));
        long seed = 0x1234_5678_9abc_def0L, step = 0x0001_0002L;
        float[] scalars = new float[6];
        for (int i = 0; i < 4; i++) scalars[i] = Philox.piece(seed, i);
        scalars[4] = Philox.piece(step, 0);
        scalars[5] = Philox.piece(step, 1);
        int[] sizes = {3, 5000, 70_001};
        SplittableRandom r = new SplittableRandom(3);
        List<Tensor[]> groups = new ArrayList<>();
        for (int size : sizes) {
            float[] u = new float[size];
            for (int e = 0; e < size; e++) u[e] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(-9, 6)));
            groups.add(new Tensor[] {Tensor.zeros("p", size), Tensor.of("u", u), Tensor.zeros("s", size)});
        }
        for (int threads : new int[] {1, 2}) {
            try (CpuBackend cpu = threads == 1 ? CpuBackend.singleThread(CpuBackend.vectorAvailable()) : new CpuBackend(2, 0)) {
                cpu.prepare(k, groups).run(scalars);
            }
            float[] in = new float[3];
            for (int t = 0; t < groups.size(); t++) {
                Tensor[] g = groups.get(t);
                for (long e = 0; e < g[0].size(); e++) {
                    in[0] = 0;
                    in[1] = g[1].get(e);
                    in[2] = 0;
                    Evaluator.evalElement(k, in, scalars, new float[4], t, e);
                    float u = MasterWeightsReference.uniform(seed, step, t, e);
                    float want = MasterWeightsReference.bf16Stochastic(g[1].get(e), u);
                    if (Float.floatToRawIntBits(in[0]) != Float.floatToRawIntBits(g[0].get(e)) || Float.floatToRawIntBits(in[2]) != Float.floatToRawIntBits(g[2].get(e))
                            || Float.floatToRawIntBits(want) != Float.floatToRawIntBits(in[0])) {
                        fail(threads + " thread(s), tensor " + t + " element " + e + " x " + g[1].get(e) + ": cpu " + g[0].get(e) + ", " + g[2].get(e)
                                + "; evaluator " + in[0] + ", " + in[2] + "; reference bf16 " + want);
                    }
                }
            }
        }
        for (Tensor[] g : groups) for (Tensor t : g) t.close();
    }

    /** Steps adam with bf16 params under {@code rounding} on the CPU backend; the final params' bits, tensor after tensor. */
    static int[] trainedBits(io.nag4j.core.rule.Rounding rounding, int tensors) {
        var rule = new io.nag4j.core.rule.MasterWeights(io.nag4j.core.rule.Rules.byName("adam"), "bf16", rounding);
        // each tensor's data from its own generator, so tensor 0's is the same whatever else is bound
        SplittableRandom[] rs = new SplittableRandom[tensors];
        List<Tensor> ps = new ArrayList<>(), us = new ArrayList<>();
        for (int t = 0; t < tensors; t++) {
            SplittableRandom r = rs[t] = new SplittableRandom(100 + t);
            float[] v = new float[40_000 + t];
            for (int e = 0; e < v.length; e++) v[e] = rule.round((float) r.nextGaussian());
            ps.add(Tensor.of("p" + t, v));
            us.add(Tensor.zeros("p" + t, v.length));
        }
        try (var params = new io.nag4j.core.tensor.ParamSet(ps); var updates = new io.nag4j.core.tensor.ParamSet(us);
             var opt = io.nag4j.core.bound.HostBoundOptimizer.cpu(rule, rule.defaults().with("eta", 1e-4f), params, null, io.nag4j.core.optim.Mode.EXACT)) {
            for (int step = 0; step < 5; step++) {
                for (int t = 0; t < tensors; t++) for (long e = 0; e < updates.get(t).size(); e++) updates.get(t).set(e, (float) rs[t].nextGaussian());
                opt.step(updates);
            }
            try (var out = opt.readParams()) {
                int[] bits = new int[(int) out.totalSize()];
                int k = 0;
                for (Tensor t : out) for (long e = 0; e < t.size(); e++) bits[k++] = Float.floatToRawIntBits(t.get(e));
                return bits;
            }
        }
    }

    @Test
    void stochasticRoundingChangesTheParamsDependsOnlyOnTheSeedAndIsThePerTensorStream() {
        int[] nearest = trainedBits(io.nag4j.core.rule.Rounding.NEAREST, 3);
        int[] s1 = trainedBits(io.nag4j.core.rule.Rounding.stochastic(1), 3), s1again = trainedBits(io.nag4j.core.rule.Rounding.stochastic(1), 3);
        int[] s2 = trainedBits(io.nag4j.core.rule.Rounding.stochastic(2), 3);
        long vsNearest = IntStream.range(0, nearest.length).filter(i -> nearest[i] != s1[i]).count();
        long vsSeed2 = IntStream.range(0, s1.length).filter(i -> s1[i] != s2[i]).count();
        // eta 1e-4 moves a bf16 param by well under its ulp: to nearest most stay, stochastically many move
        assertTrue(vsNearest > nearest.length / 20 && vsNearest < nearest.length, vsNearest + " of " + nearest.length + " differ from rounding to nearest");
        assertTrue(vsSeed2 > s1.length / 20, vsSeed2 + " of " + s1.length + " differ between seeds 1 and 2");
        org.junit.jupiter.api.Assertions.assertArrayEquals(s1, s1again, "the same seed gives the same bits");
        // tensor 0 of a two-tensor set is tensor 0 of the three-tensor set: its stream is keyed by its index, not by what else is bound
        int[] two = trainedBits(io.nag4j.core.rule.Rounding.stochastic(1), 2);
        for (int i = 0; i < 40_000; i++) assertEquals(s1[i], two[i], "tensor 0 element " + i);
    }
}
