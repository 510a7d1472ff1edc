package io.nag4j.tornado;

import io.nag4j.core.ir.Kernel;
import io.nag4j.core.rule.Adam;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Nag;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Trace;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.plan.Renderers;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The two renderers are plain text from the IR: checked without TornadoVM. */
class TornadoRenderersTest {
    static Rule constants(float... cs) {
        return new Rule() {
            @Override public String name() { return "consts"; }
            @Override public List<String> slots() { return List.of(); }
            @Override public Hyperparams defaults() { return Hyperparams.of("k", 1f); }
            @Override public void update(Trace t) {
                var v = t.param();
                for (float c : cs) v = v.add(t.constant(c));
                t.setParam(v.mul(t.hyper("k")));
            }
        };
    }

    @Test
    void registeredAsTargetsByServiceLoader() {
        assertTrue(Renderers.has("tornado") && Renderers.has("tornado-opencl"), Renderers.targets().toString());
        assertEquals(TornadoKernelRenderer.render(Nag.INSTANCE.kernel(), Mode.EXACT), Renderers.render("tornado", Nag.INSTANCE.kernel(), Mode.EXACT));
    }

    @Test
    void finiteConstantsAreExactHexLiteralsAndNonFiniteOnesTravelAsData() {
        Kernel k = constants(0.1f, -0f, Float.MIN_VALUE, Float.NaN, Float.intBitsToFloat(0x7fc00123), Float.POSITIVE_INFINITY, Float.NaN).kernel();
        String src = TornadoKernelRenderer.render(k, Mode.EXACT);
        assertTrue(src.contains("(0x1.99999ap-4f)") && src.contains("(-0x0.0p0f)") && src.contains("(0x0.000002p-126f)"), src);
        assertTrue(!src.contains("NaN") && !src.contains("Infinity"), src);
        // One slot per distinct bit pattern, after the rule's one scalar.
        assertEquals(List.of(0x7fc00000, 0x7fc00123, 0x7f800000), TornadoKernelRenderer.spilledConstants(k));
        assertEquals(4, TornadoKernelRenderer.scalarSlots(k));
        assertTrue(src.contains("float c0 = scalars.get(1);") && src.contains("float c2 = scalars.get(3);"), src);
    }

    @Test
    void constantSubexpressionsAreFoldedHereSoANaNTheyMakeTravelsAsData() {
        // TornadoVM folds sqrt(-2032.99f) itself and prints the NaN as the undeclared NaNF.
        Rule rule = new Rule() {
            @Override public String name() { return "folds"; }
            @Override public List<String> slots() { return List.of(); }
            @Override public Hyperparams defaults() { return Hyperparams.of("k", 1f); }
            @Override public void update(Trace t) {
                var nan = t.constant(-2032.9893f).sqrt();
                var big = t.constant(3e38f).mul(t.constant(2f));
                t.setParam(t.param().add(nan).add(big.mul(t.hyper("k"))).add(t.constant(4f).sqrt()));
            }
        };
        Kernel k = rule.kernel();
        String src = TornadoKernelRenderer.render(k, Mode.EXACT);
        assertEquals(List.of(Float.floatToRawIntBits((float) Math.sqrt(-2032.9893f)), 0x7f800000), TornadoKernelRenderer.spilledConstants(k));
        assertTrue(!src.contains("TornadoMath.sqrt") && src.contains("(0x1.0p1f)"), "every sqrt here is of a constant: " + src);
    }

    @Test
    void theKernelMethodIsNotNamedLikeAnOpenClBuiltin() {
        // TornadoVM names the OpenCL kernel after the Java method; "step" is an OpenCL C builtin and fails clCreateKernel.
        String src = TornadoKernelRenderer.render(Nag.INSTANCE.kernel(), Mode.EXACT);
        assertTrue(src.contains("public static void nag4j_nag(KernelContext context, FloatArray in0, FloatArray in1, FloatArray in2, FloatArray scalars, int n)"), src);
        assertTrue(src.contains("graph.task(id, " + TornadoKernelRenderer.className(Nag.INSTANCE.kernel(), Mode.EXACT) + "::nag4j_nag, context, inputs[0], inputs[1], inputs[2], scalars, n)"), src);
    }

    @Test
    void fmaHasNoExactLoweringInEitherMode() {
        Kernel k = TornadoBackendTest.FMA_RULE.kernel();
        var e = assertThrows(IllegalArgumentException.class, () -> TornadoKernelRenderer.render(k, Mode.EXACT));
        assertTrue(e.getMessage().contains("rule 'fused'") && e.getMessage().contains("fma"), e.getMessage());
        // FAST's fused kernels have FMA where nag's had a multiply-add: TornadoVM's JIT cannot give their bits either.
        var fast = assertThrows(IllegalArgumentException.class, () -> TornadoKernelRenderer.render(Nag.INSTANCE.kernel(), Mode.FAST));
        assertTrue(fast.getMessage().contains("FAST fuses"), fast.getMessage());
    }

    @Test
    void classNamesDifferByModeAndKernel() {
        Kernel nag = Nag.INSTANCE.kernel(), adam = Adam.INSTANCE.kernel();
        assertTrue(!TornadoKernelRenderer.className(nag, Mode.EXACT).equals(TornadoKernelRenderer.className(nag, Mode.FAST)));
        assertTrue(!TornadoKernelRenderer.className(nag, Mode.EXACT).equals(TornadoKernelRenderer.className(adam, Mode.EXACT)));
        assertTrue(TornadoKernelRenderer.className(nag, Mode.EXACT).matches("Nag4j_nag_exact_[0-9a-f]{20}"));
    }

    @Test
    void tooManyInputsForATornadoTaskAreRefused() {
        List<String> slots = new ArrayList<>();
        for (int i = 0; i < 11; i++) slots.add("s" + i);
        Rule wide = new Rule() {
            @Override public String name() { return "wide"; }
            @Override public List<String> slots() { return slots; }
            @Override public Hyperparams defaults() { return Hyperparams.of("k", 1f); }
            @Override public void update(Trace t) {
                for (String s : slots) t.setSlot(s, t.slot(s).add(t.update()));
                t.setParam(t.param());
            }
        };
        var e = assertThrows(IllegalArgumentException.class, () -> TornadoKernelRenderer.render(wide.kernel(), Mode.EXACT));
        assertTrue(e.getMessage().contains("rule 'wide' has 13 element inputs"), e.getMessage());
    }

    @Test
    void thePrebuiltOpenClIsNag4jsOwnBodyBehindTornadoVmsCallingConvention() {
        Kernel k = Adam.INSTANCE.kernel();
        String src = TornadoOpenClRenderer.render(k, Mode.EXACT);
        assertTrue(src.startsWith("#pragma OPENCL FP_CONTRACT OFF\n"), src);
        assertTrue(src.contains("__global long *_kernel_context, __constant uchar *_constant_region,\n        __local uchar *_local_region, __global int *_atomics"), src);
        assertTrue(src.contains(io.nag4j.gpu.opencl.OpenClRenderer.body(k)), "the element body is the OpenCL renderer's, unchanged");
        assertTrue(src.contains("(__global float*) (a0 + NAG4J_HEADER)") && src.contains("(__global const float*) (a1 + NAG4J_HEADER)"), src);
        assertTrue(src.contains("if (i >= NAG4J_N) return;"), src);
        String opts = TornadoOpenClRenderer.buildOptions(Mode.EXACT, 16, 1234);
        assertTrue(opts.contains("-cl-fp32-correctly-rounded-divide-sqrt") && opts.contains("-DNAG4J_HEADER=16") && opts.contains("-DNAG4J_N=1234UL")
                && !opts.contains("mad") && !opts.contains("fast"), opts);
    }
}
