package io.nag4j.gpu.opencl;

import io.nag4j.core.golden.NagGolden;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.fuzz.RandomPrograms;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Nag;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Rules;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.CompiledKernel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static io.nag4j.gpu.opencl.OpenClTestSupport.assertSameBits;
import static io.nag4j.gpu.opencl.OpenClTestSupport.evaluate;
import static io.nag4j.gpu.opencl.OpenClTestSupport.values;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** EXACT mode on the OpenCL device against the CPU oracle (the IR evaluator), bit for bit. */
class OpenClParityTest extends OpenClContextTest {
    /** Every built-in rule in every configuration of its flags. */
    static Stream<org.junit.jupiter.params.provider.Arguments> builtInRules() {
        return Rules.all().stream().flatMap(r -> Rules.configurations(r).keySet().stream()
                .map(c -> org.junit.jupiter.params.provider.Arguments.of(r, c)));
    }

    /**
     * Every registered rule, 300 steps over an odd element count, with NaN, infinities, signed
     * zeros and subnormals in params, state and updates, and hyperparameters changed midway.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("builtInRules")
    void everyBuiltInRuleIsBitExactOverManySteps(Rule rule, String config) {
        Hyperparams base = Rules.configurations(rule).get(config);
        Kernel k = rule.kernel(base);
        CompiledKernel ck = ctx.compile(k, Mode.EXACT);
        int n = 1031, steps = 300;
        SplittableRandom r = new SplittableRandom(rule.name().hashCode());
        float[][] cpu = new float[k.inputs().size()][];
        for (int i = 0; i < cpu.length; i++) cpu[i] = values(r, n, 0.08);
        Hyperparams hp = base;
        try (var run = new OpenClTestSupport.Runner(ctx, ck, n)) {
            for (int i = 0; i < cpu.length; i++) run.write(i, cpu[i]);
            for (int t = 1; t <= steps; t++) {
                if (t == steps / 2) hp = RandomPrograms.perturbedDefaults(rule, r);
                float[] scalars = rule.scalars(t, hp);
                cpu[Kernel.UPDATE] = values(r, n, 0.04);
                run.write(Kernel.UPDATE, cpu[Kernel.UPDATE]);
                float[][] before = copy(cpu);
                evaluate(k, cpu, scalars);
                run.launch(scalars);
                for (Kernel.Output o : k.outputs()) {
                    assertSameBits(cpu[o.input()], run.read(o.input()),
                            rule.name() + " step " + t + " " + k.inputs().get(o.input()) + " (hp " + hp + ")", before);
                }
                assertSameBits(before[Kernel.UPDATE], run.read(Kernel.UPDATE), rule.name() + " step " + t + " update untouched", null);
            }
        }
    }


    private static float[][] copy(float[][] a) {
        float[][] c = new float[a.length][];
        for (int i = 0; i < a.length; i++) c[i] = a[i].clone();
        return c;
    }

    /**
     * The seed's golden NAG cases A, B, C through the driver directly: each step is one launch
     * over the whole ParamSet, its tensors packed contiguously into one buffer per input.
     */
    @Test
    void nagGoldenCasesThroughOneLaunchPerStep() {
        Kernel k = Nag.INSTANCE.kernel();
        CompiledKernel ck = ctx.compile(k, Mode.EXACT);
        for (NagGolden.Trajectory tr : NagGolden.all()) {
            int nt = tr.names().size();
            int[] offset = new int[nt + 1];
            for (int i = 0; i < nt; i++) offset[i + 1] = offset[i] + tr.theta0().get(i).length;
            int total = offset[nt];
            float[] theta = new float[total];
            for (int i = 0; i < nt; i++) System.arraycopy(tr.theta0().get(i), 0, theta, offset[i], tr.theta0().get(i).length);
            try (var run = new OpenClTestSupport.Runner(ctx, ck, total)) {
                run.write(Kernel.PARAM, theta);
                run.write(2, new float[total]);
                for (int s = 0; s < tr.steps(); s++) {
                    float[] upd = new float[total];
                    for (int i = 0; i < nt; i++) System.arraycopy(tr.updates()[s][i], 0, upd, offset[i], offset[i + 1] - offset[i]);
                    run.write(Kernel.UPDATE, upd);
                    run.launch(Nag.INSTANCE.scalars(s + 1, Nag.INSTANCE.defaults()));
                    float[] th = run.read(Kernel.PARAM), ph = run.read(2);
                    List<float[]> thetas = new ArrayList<>(), phis = new ArrayList<>();
                    for (int i = 0; i < nt; i++) {
                        thetas.add(java.util.Arrays.copyOfRange(th, offset[i], offset[i + 1]));
                        phis.add(java.util.Arrays.copyOfRange(ph, offset[i], offset[i + 1]));
                    }
                    NagGolden.check(tr, s + 1, thetas, phis);
                }
            }
            assertEquals(tr.steps(), tr.expect().lastKey(), "case " + tr.name() + ": every step up to the last was checked");
        }
    }
}
