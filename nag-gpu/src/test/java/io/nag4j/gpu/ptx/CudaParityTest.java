package io.nag4j.gpu.ptx;

import io.nag4j.core.golden.Bits;
import io.nag4j.core.golden.NagGolden;
import io.nag4j.core.ir.Evaluator;
import io.nag4j.core.optim.EvaluatorExecutor;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.optim.KernelOptimizer;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.rule.Nag;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Rules;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import io.nag4j.core.optim.Mode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * EXACT mode on a real CUDA device, bit for bit: the seed's NAG golden trajectories, every built-in
 * rule against the evaluator on random data with special values, and the random kernels over every
 * op. Skips without a CUDA device (fails if NAG4J_REQUIRE_CUDA=1).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CudaParityTest {
    CudaContext ctx;

    /** Per test, so a skip shows its reason on every test; the context itself is opened once. */
    @BeforeEach
    void open() { if (ctx == null) ctx = openContext(); }

    /** Device 0 of the real driver; {@link CudaFakeParityTest} runs the same tests on the stand-in. */
    CudaContext openContext() { return CudaTestSupport.openDevice0(); }

    @AfterAll
    void close() {
        if (ctx != null) ctx.close();
        ctx = null;
    }

    @Test
    void nagGoldenTrajectoriesBitForBit() {
        var cuda = new KernelOptimizer(Nag.INSTANCE, Nag.INSTANCE.defaults(), new CudaTestSupport.Executor(ctx, Mode.EXACT));
        for (NagGolden.Trajectory tr : NagGolden.all()) {
            List<Tensor> ps = new ArrayList<>();
            for (int i = 0; i < tr.names().size(); i++) ps.add(Tensor.of(tr.names().get(i), tr.theta0().get(i), tr.shapes().get(i)));
            try (ParamSet params = new ParamSet(ps); ParamSet updates = params.zerosLike(""); OptState state = cuda.init(params)) {
                for (int s = 0; s < tr.steps(); s++) {
                    for (int i = 0; i < params.size(); i++) updates.get(i).copyFrom(tr.updates()[s][i]);
                    cuda.step(state, params, updates);
                    List<float[]> theta = new ArrayList<>(), phi = new ArrayList<>();
                    for (int i = 0; i < params.size(); i++) {
                        theta.add(params.get(i).toArray());
                        phi.add(state.slot("phi").get(i).toArray());
                    }
                    NagGolden.check(tr, s + 1, theta, phi);
                }
            }
        }
    }

    /** The rules to check: every built-in one on a real driver. */
    java.util.List<Rule> rules() { return Rules.all(); }

    @Test
    void everyRuleMatchesTheEvaluatorOnRandomData() {
        for (Rule rule : rules()) {
            var cuda = new KernelOptimizer(rule, rule.defaults(), new CudaTestSupport.Executor(ctx, Mode.EXACT));
            var oracle = new KernelOptimizer(rule, rule.defaults(), EvaluatorExecutor.INSTANCE);
            Random rnd = new Random(rule.name().hashCode());
            try (ParamSet p1 = params(rnd); ParamSet p2 = p1.copy(); ParamSet u = p1.zerosLike("");
                 OptState s1 = cuda.init(p1); OptState s2 = oracle.init(p2)) {
                for (int step = 1; step <= 4; step++) {
                    for (Tensor t : u) t.copyFrom(randomFloats(rnd, (int) t.size()));
                    cuda.step(s1, p1, u);
                    oracle.step(s2, p2, u);
                    for (int i = 0; i < p1.size(); i++) {
                        String where = "rule " + rule.name() + " step " + step + " tensor " + p1.get(i).name();
                        Bits.assertSame(p2.get(i).toArray(), p1.get(i).toArray(), where + " param");
                        for (String slot : rule.slots()) {
                            Bits.assertSame(s2.slot(slot).get(i).toArray(), s1.slot(slot).get(i).toArray(), where + " slot " + slot);
                        }
                    }
                }
            }
        }
    }

    @Test
    void randomKernelsOverEveryOpMatchTheEvaluator() {
        var exec = new CudaTestSupport.Executor(ctx, Mode.EXACT);
        Random rnd = new Random(7);
        int n = 777;
        for (Kernel k : PtxKernels.all()) {
            float[] scalars = randomFloats(rnd, k.scalars().size());
            Tensor[] group = new Tensor[k.inputs().size()];
            float[][] expected = new float[group.length][];
            for (int i = 0; i < group.length; i++) {
                group[i] = Tensor.of(k.inputs().get(i), randomFloats(rnd, n), n);
                expected[i] = group[i].toArray();
            }
            try {
                float[] in = new float[group.length];
                for (int e = 0; e < n; e++) {
                    for (int i = 0; i < in.length; i++) in[i] = expected[i][e];
                    Evaluator.evalElement(k, in, scalars);
                    for (int i = 0; i < in.length; i++) expected[i][e] = in[i];
                }
                exec.execute(k, List.<Tensor[]>of(group), scalars);
                for (int i = 0; i < group.length; i++) {
                    Bits.assertSame(expected[i], group[i].toArray(), "kernel " + k.name() + " input " + k.inputs().get(i) + "\n" + k.print());
                }
            } finally {
                for (Tensor t : group) t.close();
            }
        }
    }

    @Test
    void compileIsCachedByHashAndMode() {
        Kernel k = Nag.INSTANCE.kernel();
        var first = ctx.compile(k, Mode.FAST);
        var again = ctx.compile(k, Mode.FAST);
        assertEquals(true, again.cached());
        assertEquals(0, again.compileNanos());
        assertEquals(first.source(), again.source());
        assertEquals(PtxRenderer.render(k, Mode.FAST), again.source());
    }

    static ParamSet params(Random rnd) {
        return ParamSet.of(Tensor.of("w", randomFloats(rnd, 10007), 10007), Tensor.of("b", randomFloats(rnd, 3), 3),
                Tensor.of("k", randomFloats(rnd, 256 * 4), 16, 64));
    }

    /** Mostly ordinary values of mixed scales, with zeros of both signs, infinities, NaN and subnormals. */
    static float[] randomFloats(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            int pick = rnd.nextInt(20);
            a[i] = switch (pick) {
                case 0 -> io.nag4j.core.fuzz.RandomPrograms.SPECIALS[rnd.nextInt(io.nag4j.core.fuzz.RandomPrograms.SPECIALS.length)];
                case 1 -> Float.intBitsToFloat(rnd.nextInt() & 0x807fffff); // subnormal (or zero) of either sign
                case 2 -> Float.intBitsToFloat(rnd.nextInt());               // any bit pattern
                default -> (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(9) - 4));
            };
        }
        return a;
    }
}
