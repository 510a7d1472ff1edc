package io.nag4j.gpu.opencl;

import io.nag4j.core.fuzz.RandomPrograms;
import io.nag4j.core.ir.Eqn;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.ir.Op;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.CompiledKernel;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static io.nag4j.gpu.opencl.OpenClTestSupport.assertSameBits;
import static io.nag4j.gpu.opencl.OpenClTestSupport.evaluate;
import static io.nag4j.gpu.opencl.OpenClTestSupport.value;
import static io.nag4j.gpu.opencl.OpenClTestSupport.values;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Random programs ({@link RandomPrograms}: every op, special constants, outputs that read inputs
 * other outputs overwrite) rendered in EXACT mode and run on the device over several steps, bit for
 * bit against the evaluator. {@code nag4j fuzz} runs thousands more, merged in batches.
 */
class OpenClRandomKernelTest extends OpenClContextTest {
    @Test
    void randomKernelsAreBitExact() {
        int kernels = 40;
        java.util.EnumSet<Op> seen = java.util.EnumSet.noneOf(Op.class);
        for (int seed = 1; seed <= kernels; seed++) {
            SplittableRandom r = new SplittableRandom(seed * 7919L);
            Kernel k = RandomPrograms.program(seed * 7919L);
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
        assertEquals(java.util.EnumSet.copyOf(java.util.Arrays.asList(io.nag4j.core.fuzz.RandomPrograms.DRAWN)), seen, "the random kernels cover every op but random");
    }
}
