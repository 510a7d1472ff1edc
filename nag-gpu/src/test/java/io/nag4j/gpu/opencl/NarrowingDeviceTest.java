package io.nag4j.gpu.opencl;

import io.nag4j.core.ir.Eqn;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.ir.Op;
import io.nag4j.core.ir.Operand;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.CompiledKernel;
import io.nag4j.gpu.ptx.PtxInterpreter;
import io.nag4j.gpu.ptx.PtxRenderer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static io.nag4j.gpu.opencl.OpenClTestSupport.assertSameBits;
import static io.nag4j.gpu.opencl.OpenClTestSupport.evaluate;

/**
 * The four narrowings (bf16, f16 to nearest; bf16_sr, f16_sr) on the devices against the
 * evaluator, bit for bit (NaN payloads included): every boundary case of both types (every
 * sign and exponent with the significand bits around each rounding point and tie, the overflow
 * thresholds, f16's subnormal range) at the uniforms that decide a stochastic rounding, and
 * 2^21 random float32 bit patterns with random uniforms; on PoCL, and a sample through the PTX
 * interpreter. All 2^32 inputs are checked on the CPU (NarrowingExhaustiveTest).
 */
class NarrowingDeviceTest extends OpenClContextTest {
    /** param <- bf16(x), s1 <- f16(x), s2 <- bf16_sr(x, u), s3 <- f16_sr(x, u), with x the update and u input s0. */
    static final Kernel K = new Kernel("narrowings", List.of("param", "update", "s0", "s1", "s2", "s3"), List.of(), List.of(
            new Eqn(0, Op.BF16, List.of(new Operand.Input(1))), new Eqn(1, Op.F16, List.of(new Operand.Input(1))),
            new Eqn(2, Op.BF16_SR, List.of(new Operand.Input(1), new Operand.Input(2))), new Eqn(3, Op.F16_SR, List.of(new Operand.Input(1), new Operand.Input(2)))),
            List.of(new Kernel.Output(0, new Operand.Var(0)), new Kernel.Output(3, new Operand.Var(1)), new Kernel.Output(4, new Operand.Var(2)),
                    new Kernel.Output(5, new Operand.Var(3))));

    /** Boundary inputs with the uniforms that decide them, as columns x and u. */
    static float[][] boundaries() {
        List<Float> xs = new ArrayList<>(), us = new ArrayList<>();
        int[] lows = {0, 1, 0x0fff, 0x1000, 0x1001, 0x17ff, 0x1800, 0x1fff, 0x2000, 0x2001, 0x3000, 0x7fff, 0x8000, 0x8001, 0xc000, 0xfffe, 0xffff};
        int[] mids = {0x000000, 0x010000, 0x7f0000, 0x7e0000, 0x002000, 0x7fe000, 0x400000};
        for (int sign = 0; sign < 2; sign++) {
            for (int exp = 0; exp < 256; exp++) {
                for (int mid : mids) {
                    for (int low : lows) {
                        int b = sign << 31 | exp << 23 | ((mid | low) & 0x7fffff);
                        addWithDecisiveUniforms(Float.intBitsToFloat(b), xs, us);
                    }
                }
            }
        }
        float[] extra = {65504f, 65519.996f, 65520f, 65536f, 0x1p-14f, Math.nextDown(0x1p-14f), 0x1p-24f, 0x1p-25f, 3 * 0x1p-26f, 0x1.ff8p-15f,
                Float.intBitsToFloat(0x7f7f8000), Float.intBitsToFloat(0x7f7f7fff), Float.MAX_VALUE, Float.MIN_VALUE, Float.intBitsToFloat(0x7fc00001),
                Float.intBitsToFloat(0x7f800001), Float.intBitsToFloat(0xff812345)};
        for (float x : extra) {
            addWithDecisiveUniforms(x, xs, us);
            addWithDecisiveUniforms(-x, xs, us);
        }
        float[][] cols = new float[2][xs.size()];
        for (int i = 0; i < xs.size(); i++) {
            cols[0][i] = xs.get(i);
            cols[1][i] = us.get(i);
        }
        return cols;
    }

    private static void addWithDecisiveUniforms(float x, List<Float> xs, List<Float> us) {
        int a = Float.floatToRawIntBits(x) & 0x7fffffff;
        List<Float> fr = new ArrayList<>(List.of((Float.floatToRawIntBits(x) & 0xffff) * 0x1p-16f, (a & 0x1fff) * 0x1p-13f));
        float y = Float.intBitsToFloat(a) * 0x1p24f;
        if (Float.isFinite(y)) fr.add(y - (float) Math.floor(y));
        List<Float> u = new ArrayList<>(List.of(0f, 1f - 0x1p-24f, Float.NaN));
        for (float f : fr) {
            u.add(f);
            u.add(Math.nextDown(f));
        }
        for (float v : u) {
            xs.add(x);
            us.add(v);
        }
    }

    static float[][] columns(float[] x, float[] u) {
        float[][] c = new float[K.inputs().size()][x.length];
        c[1] = x.clone();
        c[2] = u.clone();
        return c;
    }

    @Test
    void everyBoundaryAndTwoMillionRandomInputsMatchTheEvaluatorOnTheDevice() {
        float[][] b = boundaries();
        int random = 1 << 21;
        SplittableRandom r = new SplittableRandom(2026_12_03);
        float[] x = new float[b[0].length + random], u = new float[x.length];
        System.arraycopy(b[0], 0, x, 0, b[0].length);
        System.arraycopy(b[1], 0, u, 0, b[1].length);
        for (int i = b[0].length; i < x.length; i++) {
            x[i] = Float.intBitsToFloat(r.nextInt());
            u[i] = (r.nextInt() >>> 8) * 0x1p-24f;
        }
        float[][] expected = columns(x, u);
        evaluate(K, expected, new float[0]);
        CompiledKernel ck = ctx.compile(K, Mode.EXACT);
        float[][] in = columns(x, u);
        try (var run = new OpenClTestSupport.Runner(ctx, ck, x.length)) {
            for (int i = 0; i < in.length; i++) run.write(i, in[i]);
            run.launch(new float[0]);
            for (int o : new int[] {0, 3, 4, 5}) {
                assertSameBits(expected[o], run.read(o), ctx.info().name() + " " + K.inputs().get(o) + " (" + b[0].length + " boundary cases, then random)",
                        new float[][] {x, u});
            }
        }
        // The PTX of the same kernel: the boundaries and a random sample through the interpreter.
        int n = b[0].length + 20_000;
        float[][] ptxIn = columns(java.util.Arrays.copyOf(x, n), java.util.Arrays.copyOf(u, n)), ptxWant = columns(java.util.Arrays.copyOf(x, n), java.util.Arrays.copyOf(u, n));
        evaluate(K, ptxWant, new float[0]);
        PtxInterpreter.run(PtxRenderer.render(K, Mode.EXACT), Mode.EXACT, ptxIn, new float[0]);
        for (int o : new int[] {0, 3, 4, 5}) assertSameBits(ptxWant[o], ptxIn[o], "PTX interpreter " + K.inputs().get(o), new float[][] {x, u});
    }
}
