package io.nag4j.gpu.opencl;

import io.nag4j.core.ir.Eqn;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.ir.Op;
import io.nag4j.core.ir.Operand;
import io.nag4j.gpu.Mode;
import io.nag4j.gpu.device.CompiledKernel;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static io.nag4j.gpu.opencl.OpenClTestSupport.assertSameBits;
import static io.nag4j.gpu.opencl.OpenClTestSupport.evaluate;
import static io.nag4j.gpu.opencl.OpenClTestSupport.value;
import static io.nag4j.gpu.opencl.OpenClTestSupport.values;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Random IR kernels (every op, special constants, outputs that read inputs other outputs
 * overwrite) rendered in EXACT mode and run on the device, bit for bit against the evaluator.
 */
class OpenClRandomKernelTest extends OpenClContextTest {
    @Test
    void randomKernelsAreBitExact() {
        int kernels = 40;
        java.util.EnumSet<Op> seen = java.util.EnumSet.noneOf(Op.class);
        for (int seed = 1; seed <= kernels; seed++) {
            SplittableRandom r = new SplittableRandom(seed * 7919L);
            Kernel k = randomKernel(r, "random" + seed);
            for (Eqn e : k.eqns()) seen.add(e.op());
            CompiledKernel ck = ctx.compile(k, Mode.EXACT);
            int n = 257;
            float[][] cpu = new float[k.inputs().size()][];
            for (int i = 0; i < cpu.length; i++) cpu[i] = values(r, n, 0.15);
            try (var run = new OpenClTestSupport.Runner(ctx, ck, n)) {
                for (int i = 0; i < cpu.length; i++) run.write(i, cpu[i]);
                for (int step = 1; step <= 3; step++) {
                    float[] scalars = new float[k.scalars().size()];
                    for (int i = 0; i < scalars.length; i++) scalars[i] = value(r, 0.2);
                    float[][] before = new float[cpu.length][];
                    for (int i = 0; i < cpu.length; i++) before[i] = cpu[i].clone();
                    evaluate(k, cpu, scalars);
                    run.launch(scalars);
                    for (Kernel.Output o : k.outputs()) {
                        assertSameBits(cpu[o.input()], run.read(o.input()), "seed " + seed + " step " + step + " output "
                                + k.inputs().get(o.input()) + " scalars " + java.util.Arrays.toString(scalars) + "\n" + k.print(), before);
                    }
                }
            }
        }
        assertEquals(java.util.EnumSet.allOf(Op.class), seen, "the random kernels cover every op");
    }

    /** A random well-formed kernel: 2 to 4 inputs, up to 3 scalars, 1 to 40 equations over every op. */
    static Kernel randomKernel(SplittableRandom r, String name) {
        List<String> inputs = new ArrayList<>(List.of("param", "update"));
        for (int i = r.nextInt(3); i > 0; i--) inputs.add("slot" + inputs.size());
        List<String> scalars = new ArrayList<>();
        for (int i = r.nextInt(4); i > 0; i--) scalars.add("h" + scalars.size());
        Op[] ops = Op.values();
        List<Eqn> eqns = new ArrayList<>();
        int count = 1 + r.nextInt(40);
        for (int id = 0; id < count; id++) {
            Op op = ops[r.nextInt(ops.length)];
            List<Operand> args = new ArrayList<>();
            for (int a = 0; a < op.arity(); a++) args.add(operand(r, id, inputs.size(), scalars.size()));
            eqns.add(new Eqn(id, op, args));
        }
        List<Kernel.Output> outputs = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            if (i == Kernel.UPDATE) continue;
            // Mostly the last values; sometimes another input, so an output reads what another overwrites.
            Operand v = r.nextInt(4) == 0 ? new Operand.Input(r.nextInt(inputs.size())) : new Operand.Var(count - 1 - r.nextInt(Math.min(count, 3)));
            outputs.add(new Kernel.Output(i, v));
        }
        return new Kernel(name, inputs, scalars, eqns, outputs);
    }

    private static Operand operand(SplittableRandom r, int before, int nInputs, int nScalars) {
        int pick = r.nextInt(100);
        if (pick < 40 && before > 0) return new Operand.Var(r.nextInt(before));
        if (pick < 70) return new Operand.Input(r.nextInt(nInputs));
        if (pick < 85 && nScalars > 0) return new Operand.Scalar(r.nextInt(nScalars));
        return new Operand.Const(Float.floatToRawIntBits(value(r, 0.5)));
    }
}
