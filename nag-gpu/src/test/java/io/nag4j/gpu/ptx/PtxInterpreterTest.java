package io.nag4j.gpu.ptx;

import io.nag4j.core.ir.Eqn;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.ir.Op;
import io.nag4j.core.ir.Operand;
import io.nag4j.core.fuzz.RandomPrograms;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Rules;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.opencl.OpenClTestSupport;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;

import static io.nag4j.gpu.ptx.PtxParityTest.stepAndCompare;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The interpreter itself: its compare and min/max semantics against the PTX ISA's tables written out
 * here independently, and that it fails on broken PTX (so {@link PtxParityTest} passing means something).
 */
class PtxInterpreterTest {
    private static final String HEADER = ".version 7.0\n.target sm_75\n.address_size 64\n";

    /** Runs {@code op %f2, %f0, %f1} (then {@code tail}) on one thread with %f0 = a, %f1 = b; returns %f2's bits. */
    static int run2(String op, float a, float b) {
        String ptx = HEADER + ".visible .entry t(.param .f32 p_a, .param .f32 p_b, .param .u64 p_out)\n{\n"
                + ".reg .pred %p<1>;\n.reg .f32 %f<3>;\n.reg .b64 %rd<1>;\n"
                + "ld.param.f32 %f0, [p_a];\nld.param.f32 %f1, [p_b];\nld.param.u64 %rd0, [p_out];\n"
                + op + ";\nst.global.f32 [%rd0], %f2;\nret;\n}\n";
        PtxInterpreter k = PtxInterpreter.load(ptx, Mode.EXACT, true);
        float[] out = {Float.intBitsToFloat(0x12345678)};
        PtxInterpreter.Memory mem = new PtxInterpreter.Memory();
        long addr = mem.allocate("out", out);
        k.launch(mem, new long[] {Float.floatToRawIntBits(a) & 0xffffffffL, Float.floatToRawIntBits(b) & 0xffffffffL, addr}, 1, 1);
        return Float.floatToRawIntBits(out[0]);
    }

    @Test
    void floatComparesFollowTheIsaTables() {
        // PTX ISA 9.3.1.2, written out per pair: (1,2) (2,1) (1,1) (-0,+0) (NaN,1) (NaN,NaN); T = true.
        float nan = Float.NaN;
        float[][] pairs = {{1, 2}, {2, 1}, {1, 1}, {-0f, 0f}, {nan, 1}, {nan, nan}};
        Map<String, String> table = new LinkedHashMap<>();
        table.put("eq", "FFTTFF");
        table.put("ne", "TTFFFF");
        table.put("lt", "TFFFFF");
        table.put("le", "TFTTFF");
        table.put("gt", "FTFFFF");
        table.put("ge", "FTTTFF");
        table.put("equ", "FFTTTT");
        table.put("neu", "TTFFTT");
        table.put("ltu", "TFFFTT");
        table.put("leu", "TFTTTT");
        table.put("gtu", "FTFFTT");
        table.put("geu", "FTTTTT");
        table.put("num", "TTTTFF");
        table.put("nan", "FFFFTT");
        for (var e : table.entrySet()) {
            for (int i = 0; i < pairs.length; i++) {
                int got = run2("setp." + e.getKey() + ".f32 %p0, %f0, %f1;\nselp.f32 %f2, 0f3F800000, 0f00000000, %p0", pairs[i][0], pairs[i][1]);
                int want = e.getValue().charAt(i) == 'T' ? 0x3f800000 : 0;
                assertEquals(want, got, "setp." + e.getKey() + ".f32 on (" + pairs[i][0] + ", " + pairs[i][1] + ")");
            }
        }
        long known = PtxInterpreter.opcodes().stream().filter(o -> o.startsWith("setp.") && o.endsWith(".f32")).count();
        assertEquals(table.size(), known, "every float compare the interpreter knows is in this table");
    }

    @Test
    void minMaxFollowTheIsaNotJava() {
        // PTX ISA 9.7.3.11/12: one NaN -> the other operand, two NaNs -> canonical NaN, +0.0 > -0.0.
        assertEquals(Float.floatToRawIntBits(1f), run2("min.f32 %f2, %f0, %f1", Float.NaN, 1f));
        assertEquals(Float.floatToRawIntBits(1f), run2("max.f32 %f2, %f0, %f1", 1f, Float.NaN));
        assertEquals(PtxInterpreter.CANONICAL_NAN, run2("min.f32 %f2, %f0, %f1", Float.NaN, Float.intBitsToFloat(0xffc00001)));
        assertEquals(0x80000000, run2("min.f32 %f2, %f0, %f1", 0f, -0f));
        assertEquals(0, run2("max.f32 %f2, %f0, %f1", -0f, 0f));
        // and the arithmetic: NaN results are canonical, signed zeros and subnormals kept.
        assertEquals(PtxInterpreter.CANONICAL_NAN, run2("sub.rn.f32 %f2, %f0, %f1", Float.POSITIVE_INFINITY, Float.POSITIVE_INFINITY));
        assertEquals(0x80000000, run2("add.rn.f32 %f2, %f0, %f1", -0f, -0f));
        assertEquals(1, run2("sub.rn.f32 %f2, %f0, %f1", 3 * Float.MIN_VALUE, 2 * Float.MIN_VALUE));
        assertEquals(0x80000000, run2("sqrt.rn.f32 %f2, %f0", -0f, 0f));
    }

    // ---- broken PTX is caught ----

    private static final Rule NAG = Rules.byName("nag");

    /**
     * nag's EXACT PTX with {@code edit} applied, read as {@code mode}, run one step over 257 elements
     * (hostile or ordinary values) against the evaluator.
     */
    private static void runNag(UnaryOperator<String> edit, Mode mode, boolean contract, boolean ordinaryData) {
        Kernel k = NAG.kernel();
        String ptx = PtxRenderer.render(k, Mode.EXACT);
        String broken = edit.apply(ptx);
        if (broken.equals(ptx)) throw new IllegalStateException("the edit changed nothing"); // not an AssertionError: that would pass
        int n = 257;
        float[][] before = new float[3][];
        Random r = new Random(5);
        SplittableRandom sr = new SplittableRandom(5);
        for (int i = 0; i < 3; i++) before[i] = ordinaryData ? OpenClTestSupport.values(sr, n, 0) : RandomPrograms.hostileFloats(r, n);
        stepAndCompare(k, PtxInterpreter.load(broken, mode, contract), before, NAG.scalars(1, NAG.defaults()), "a deliberately broken PTX");
    }

    private static String first(String ptx, String regex, String replacement) {
        return ptx.replaceFirst(regex, replacement);
    }

    @Test
    void unbrokenNagPasses() {
        runNag(p -> p + "\n", Mode.EXACT, true, false); // the harness itself passes, so the failures below are the edits'
    }

    @Test
    void swappedSubOperandsAreCaught() {
        AssertionError e = assertThrows(AssertionError.class,
                () -> runNag(p -> first(p, "sub\\.rn\\.f32 (%f\\d+), (%f\\d+), (%f\\d+)", "sub.rn.f32 $1, $3, $2"), Mode.EXACT, true, false));
        assertTrue(e.getMessage().contains("kernel nag"), e.getMessage());
    }

    @Test
    void swappedScalarParametersAreCaught() {
        assertThrows(AssertionError.class, () -> runNag(p -> p.replace("[p_s0]", "[p_tmp]").replace("[p_s1]", "[p_s0]").replace("[p_tmp]", "[p_s1]"),
                Mode.EXACT, true, false));
    }

    @Test
    void aDroppedRoundingModifierIsRefusedInExactAndChangesBitsWhenContracted() {
        PtxInterpreter.PtxError e = assertThrows(PtxInterpreter.PtxError.class,
                () -> runNag(p -> first(p, "add\\.rn\\.f32", "add.f32"), Mode.EXACT, true, false));
        assertTrue(e.getMessage().contains("add.f32") && e.getMessage().contains("contract"), e.getMessage());
        // As meaning, not text: nag with its first mul and sub unrounded, read as ptxas may contract them.
        AssertionError a = assertThrows(AssertionError.class, () -> runNag(
                p -> p.replace("mul.rn.f32 %f7,", "mul.f32 %f7,").replace("sub.rn.f32 %f8,", "sub.f32 %f8,"), Mode.FAST, true, true));
        assertTrue(a.getMessage().contains("differ"), a.getMessage());
    }

    @Test
    void ftzApproxAndUnknownInstructionsAreRefusedByName() {
        String nag = PtxRenderer.render(NAG.kernel(), Mode.EXACT);
        String adam = PtxRenderer.render(Rules.byName("adam").kernel(), Mode.EXACT);
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put(first(nag, "add\\.rn\\.f32", "add.rn.ftz.f32"), ".ftz");
        cases.put(first(adam, "div\\.rn\\.f32", "div.approx.f32"), "div.approx.f32");
        cases.put(first(adam, "sqrt\\.rn\\.f32", "sqrt.approx.ftz.f32"), "sqrt.approx.ftz.f32");
        cases.put(first(nag, "ret;", "testp.finite.f32 %p0, %f0;\n    ret;"), "unknown instruction testp.finite.f32");
        cases.put(first(nag, "add\\.rn\\.f32", "add.rz.f32"), "unknown instruction add.rz.f32");
        cases.put(first(nag, "mul\\.wide\\.u32", "mul.wide.s32"), "unknown instruction mul.wide.s32");
        cases.put(first(nag, "\\.reg \\.f32 %f<12>", ".reg .f32 %f<11>"), "undeclared register %f11");
        cases.put(first(nag, "ld\\.global\\.f32 %f0,", "ld.global.f32 %rd0,"), "register %rd0 is .b64, the instruction needs .f32");
        cases.put(first(nag, "ld\\.param\\.f32 %f3, \\[p_s0\\]", "ld.param.u64 %rd0, [p_s0]"), "parameter p_s0 is .f32, loaded as .u64");
        cases.put(first(nag, "st\\.global\\.f32 \\[%rd6\\]", "st.global.f32 [%r0]"), "address register %r0 is .b32");
        cases.put(first(nag, "\\[%rd6\\], %f11;", "[%rd6], 0f00000000;"), "operand 0f00000000 must be a register");
        for (var c : cases.entrySet()) {
            PtxInterpreter.PtxError e = assertThrows(PtxInterpreter.PtxError.class, () -> PtxInterpreter.load(c.getKey(), Mode.EXACT, true));
            assertTrue(e.getMessage().contains(c.getValue()), "expected '" + c.getValue() + "' in: " + e.getMessage());
        }
    }

    @Test
    void aMissingOrOffByOneBoundsCheckIsAnOutOfBoundsAccess() {
        PtxInterpreter.PtxError e = assertThrows(PtxInterpreter.PtxError.class,
                () -> runNag(p -> p.replace("@%p0 bra $L_exit;", ""), Mode.EXACT, true, false));
        assertTrue(e.getMessage().contains("out-of-bounds") && e.getMessage().contains("element 257 of 'param', which holds 257"), e.getMessage());
        e = assertThrows(PtxInterpreter.PtxError.class, () -> runNag(p -> p.replace("setp.ge.u64", "setp.gt.u64"), Mode.EXACT, true, false));
        assertTrue(e.getMessage().contains("block 1 thread 1,") && e.getMessage().contains("out-of-bounds"), e.getMessage());
        e = assertThrows(PtxInterpreter.PtxError.class, () -> runNag(p -> p.replace("shl.b64 %rd4, %rd3, 2;", "shl.b64 %rd4, %rd3, 3;"),
                Mode.EXACT, true, false));
        assertTrue(e.getMessage().contains("out-of-bounds"), e.getMessage());
    }

    @Test
    void aRegisterReadBeforeItIsWrittenIsAnError() {
        PtxInterpreter.PtxError e = assertThrows(PtxInterpreter.PtxError.class,
                () -> runNag(p -> p.replaceFirst("ld\\.param\\.f32 %f3, \\[p_s0\\];[^\n]*\n", ""), Mode.EXACT, true, false));
        assertTrue(e.getMessage().contains("register %f3 read before it was written"), e.getMessage());
    }

    /** min/max over every pair of special values through the whole PTX path; the signed-zero half of the lowering matters. */
    @Test
    void minMaxOverEveryPairOfSpecialValues() {
        Kernel k = new Kernel("minmax", List.of("param", "update", "hi"), List.of(),
                List.of(new Eqn(0, Op.MIN, List.of(new Operand.Input(0), new Operand.Input(1))),
                        new Eqn(1, Op.MAX, List.of(new Operand.Input(0), new Operand.Input(1)))),
                List.of(new Kernel.Output(0, new Operand.Var(0)), new Kernel.Output(2, new Operand.Var(1))));
        float[] s = RandomPrograms.SPECIALS;
        float[][] before = new float[3][s.length * s.length];
        for (int i = 0; i < s.length; i++) {
            for (int j = 0; j < s.length; j++) {
                before[0][i * s.length + j] = s[i];
                before[1][i * s.length + j] = s[j];
            }
        }
        String ptx = PtxRenderer.render(k, Mode.EXACT);
        stepAndCompare(k, PtxInterpreter.load(ptx, Mode.EXACT, true), before, new float[0], "every special pair");
        AssertionError e = assertThrows(AssertionError.class,
                () -> stepAndCompare(k, PtxInterpreter.load(ptx.replace("or.b32", "and.b32"), Mode.EXACT, true), before, new float[0], "or.b32 -> and.b32"));
        assertTrue(e.getMessage().contains("0x80000000") || e.getMessage().contains("0x00000000"), e.getMessage());
    }
}
