package io.nag4j.gpu.opencl;

import io.nag4j.core.ir.Eqn;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.ir.Op;
import io.nag4j.core.ir.Operand;
import io.nag4j.core.rule.Nag;
import io.nag4j.core.optim.Mode;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The OpenCL C text and build options (no device needed). */
class OpenClRendererTest {
    /** Renderer text: what EXACT must and must not contain. */
    @Test
    void exactRenderingHasThePragmaBitPatternsAndNoFastPaths() {
        Kernel k = new Kernel("k-1", List.of("param", "update"), List.of("eta"),
                List.of(new Eqn(0, Op.MUL, List.of(new Operand.Input(1), new Operand.Const(0x3c23d70a))),
                        new Eqn(1, Op.SUB, List.of(new Operand.Input(0), new Operand.Var(0))),
                        new Eqn(2, Op.MIN, List.of(new Operand.Var(1), new Operand.Scalar(0))),
                        new Eqn(3, Op.MAX, List.of(new Operand.Var(2), new Operand.Const(0xff800000)))),
                List.of(new Kernel.Output(0, new Operand.Var(3))));
        String src = OpenClRenderer.render(k, Mode.EXACT);
        assertTrue(src.startsWith("#pragma OPENCL FP_CONTRACT OFF\n"), src);
        assertTrue(src.contains("as_float(0x3c23d70au)"), src);
        assertTrue(src.contains("as_float(0xff800000u)"), src);
        assertFalse(src.contains("native_"), src);
        assertFalse(src.contains("half_"), src);
        assertFalse(src.contains("fmin(") || src.contains("fmax("), "Java min/max semantics, not fmin/fmax: " + src);
        assertFalse(src.contains("fma(") || src.contains("mad("), src);
        assertFalse(src.contains("0.01"), "no decimal constants: " + src);
        assertTrue(src.contains("__kernel void nag4j_k_1(const ulong n"), src);
        assertTrue(src.contains("__global float* in0"), src);
        assertTrue(src.contains("__global const float* in1"), "the update is read-only: " + src);
        assertTrue(src.contains("const float s0"), src);
        assertTrue(src.contains("if (i >= n) return;"), src);
        assertEquals(src, OpenClRenderer.render(k, Mode.EXACT));
        String opts = OpenClRenderer.buildOptions(Mode.EXACT);
        assertTrue(opts.contains("-cl-fp32-correctly-rounded-divide-sqrt"), opts);
        for (String bad : List.of("-cl-mad-enable", "-cl-fast-relaxed-math", "-cl-unsafe-math-optimizations",
                "-cl-finite-math-only", "-cl-denorms-are-zero", "-cl-no-signed-zeros")) {
            assertFalse(opts.contains(bad), bad);
        }
    }

    @Test
    void renderedNagReadsAllInputsBeforeWritingAny() {
        String src = OpenClRenderer.render(Nag.INSTANCE.kernel(), Mode.EXACT);
        int lastRead = src.lastIndexOf("= in");
        int firstWrite = src.indexOf("in0[i] =");
        assertTrue(lastRead < firstWrite && firstWrite > 0, src);
        assertArrayEquals(new String[] {"in0[i] = o0;", "in2[i] = o1;"},
                src.lines().map(String::strip).filter(l -> l.matches("in\\d\\[i] = o\\d;")).toArray(String[]::new), src);
    }

    /** The FAST kernel really fuses: the seed's shape {@code p - u*eta} becomes one fma. */
    @Test
    void fastIsTheFusedKernelRenderedAsExactWithNoFusingOfItsOwn() {
        for (Kernel k : io.nag4j.core.rule.Rules.kernels()) {
            Kernel fused = Mode.FAST.kernel(k);
            String fast = OpenClRenderer.render(k, Mode.FAST);
            assertEquals(OpenClRenderer.render(fused, Mode.EXACT).replace("mode EXACT", "mode FAST"), fast,
                    "FAST is EXACT's rendering of the fused IR: " + k.name());
            assertTrue(fast.startsWith("#pragma OPENCL FP_CONTRACT OFF"), fast);
            assertEquals(fused.eqns().stream().filter(e -> e.op() == Op.FMA).count(), fast.split("fma\\(", -1).length - 1, "fma() only for the IR's FMA: " + fast);
        }
        assertTrue(OpenClRenderer.render(Nag.INSTANCE.kernel(), Mode.FAST).contains("fma("), "nag has a multiply-add to fuse");
        assertEquals(OpenClRenderer.buildOptions(Mode.EXACT), OpenClRenderer.buildOptions(Mode.FAST), "no -cl-mad-enable: FMA is the IR's");
    }
}
