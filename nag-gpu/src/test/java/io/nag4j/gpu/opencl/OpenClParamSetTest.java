package io.nag4j.gpu.opencl;

import io.nag4j.core.optim.EvaluatorExecutor;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.optim.KernelOptimizer;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.optim.Optimizer;
import io.nag4j.core.reference.ReferenceOptimizer;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Rules;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.CompiledKernel;
import io.nag4j.gpu.device.DeviceBuffer;
import io.nag4j.gpu.device.DeviceContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static io.nag4j.gpu.opencl.OpenClTestSupport.assertSameBits;
import static io.nag4j.gpu.opencl.OpenClTestSupport.evaluate;
import static io.nag4j.gpu.opencl.OpenClTestSupport.value;
import static io.nag4j.gpu.opencl.OpenClTestSupport.values;

/**
 * A ParamSet of 101 tensors of odd shapes packed into one device buffer per kernel input (each
 * tensor copied in at its byte offset), one launch per step, against the hand-written CPU
 * reference optimizer (the traced kernel on the evaluator for a rule without one), 310 steps.
 */
class OpenClParamSetTest extends OpenClContextTest {
    static Stream<Rule> builtInRules() { return Rules.all().stream(); }

    @ParameterizedTest(name = "{0}")
    @MethodSource("builtInRules")
    void manyOddTensorsInOneLaunchPerStepMatchTheCpuReference(Rule rule) {
        SplittableRandom r = new SplittableRandom(99 + rule.name().hashCode());
        Hyperparams hp = rule.defaults();
        Optimizer ref;
        try {
            ref = ReferenceOptimizer.forRule(rule.name(), hp);
        } catch (IllegalArgumentException noHandWritten) {
            ref = new KernelOptimizer(rule, hp, EvaluatorExecutor.INSTANCE);
        }
        Kernel k = rule.kernel();
        CompiledKernel ck = ctx.compile(k, Mode.EXACT);
        List<Tensor> ts = new ArrayList<>();
        for (int i = 0; i < 101; i++) {
            long[] shape = switch (i % 4) {
                case 0 -> new long[] {1 + 2L * r.nextInt(40)};
                case 1 -> new long[] {1 + 2L * r.nextInt(6), 1 + 2L * r.nextInt(9)};
                case 2 -> new long[] {1};
                default -> new long[] {3, 1 + 2L * r.nextInt(3), 5};
            };
            Tensor t = Tensor.zeros("w" + i, shape);
            t.copyFrom(values(r, (int) t.size(), 0.05));
            ts.add(t);
        }
        try (ParamSet params = new ParamSet(ts); ParamSet updates = params.zerosLike(""); OptState state = ref.init(params)) {
            int nt = params.size();
            long[] off = new long[nt + 1];
            for (int i = 0; i < nt; i++) off[i + 1] = off[i] + params.get(i).size();
            long total = off[nt];
            List<DeviceBuffer> bufs = new ArrayList<>();
            for (String in : k.inputs()) bufs.add(ctx.allocate(in, 4 * total));
            try {
                // Initial param and (zero) state, tensor by tensor at their offsets.
                for (int i = 0; i < nt; i++) {
                    ctx.copyIn(bufs.get(Kernel.PARAM), 4 * off[i], params.get(i).segment(), false);
                    for (int s = 0; s < k.slots().size(); s++) {
                        ctx.copyIn(bufs.get(2 + s), 4 * off[i], state.slot(k.slots().get(s)).get(i).segment(), false);
                    }
                }
                int steps = 310;
                for (int t = 1; t <= steps; t++) {
                    if (t == 150) hp = scaled(rule, r);
                    for (int i = 0; i < nt; i++) {
                        Tensor u = updates.get(i);
                        for (long e = 0; e < u.size(); e++) u.set(e, value(r, 0.03));
                        ctx.copyIn(bufs.get(Kernel.UPDATE), 4 * off[i], u.segment(), false);
                    }
                    ctx.launch(ck, total, bufs, rule.scalars(t, hp));
                    ctx.finish();
                    ref.step(state, params, updates, hp);
                    if (t % 10 == 0 || t == steps) {
                        check(ctx, bufs.get(Kernel.PARAM), params, off, rule.name() + " step " + t + " param");
                        for (int s = 0; s < k.slots().size(); s++) {
                            String slot = k.slots().get(s);
                            check(ctx, bufs.get(2 + s), state.slot(slot), off, rule.name() + " step " + t + " slot " + slot);
                        }
                    }
                }
            } finally {
                for (DeviceBuffer b : bufs) b.close();
            }
        }
    }

    private static void check(DeviceContext ctx, DeviceBuffer buf, ParamSet expected, long[] off, String what) {
        for (int i = 0; i < expected.size(); i++) {
            Tensor e = expected.get(i);
            float[] got = new float[(int) e.size()];
            ctx.copyOut(buf, 4 * off[i], MemorySegment.ofArray(got));
            assertSameBits(e.toArray(), got, what + " tensor '" + e.name() + "'", null);
        }
    }

    private static Hyperparams scaled(Rule rule, SplittableRandom r) {
        Hyperparams hp = rule.defaults();
        for (String name : hp.names()) hp = hp.with(name, hp.get(name) * (float) (0.5 + r.nextDouble()));
        try {
            rule.validate(hp);
            return hp;
        } catch (IllegalArgumentException e) {
            return rule.defaults();
        }
    }

    /** Element counts at the edges of the launch rounding, and one large launch. */
    @Test
    void edgeSizesAndALargeLaunch() {
        Rule rule = Rules.byName("nag");
        Kernel k = rule.kernel();
        CompiledKernel ck = ctx.compile(k, Mode.EXACT);
        for (int n : new int[] {1, 2, 63, 64, 65, 127, 129, 1_000_003}) {
            SplittableRandom r = new SplittableRandom(n);
            float[][] cpu = new float[k.inputs().size()][];
            for (int i = 0; i < cpu.length; i++) cpu[i] = values(r, n, 0.05);
            float[] scalars = rule.scalars(2, rule.defaults());
            try (var run = new OpenClTestSupport.Runner(ctx, ck, n)) {
                for (int i = 0; i < cpu.length; i++) run.write(i, cpu[i]);
                float[][] before = new float[cpu.length][];
                for (int i = 0; i < cpu.length; i++) before[i] = cpu[i].clone();
                evaluate(k, cpu, scalars);
                run.launch(scalars);
                for (Kernel.Output o : k.outputs()) {
                    assertSameBits(cpu[o.input()], run.read(o.input()), "n=" + n + " " + k.inputs().get(o.input()), before);
                }
            }
        }
    }
}
