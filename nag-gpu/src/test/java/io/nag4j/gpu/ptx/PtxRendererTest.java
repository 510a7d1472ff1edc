package io.nag4j.gpu.ptx;

import io.nag4j.core.ir.Eqn;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.ir.Op;
import io.nag4j.core.ir.Operand;
import io.nag4j.core.rule.Rules;
import io.nag4j.core.optim.Mode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/** Text checks of the generated PTX: what EXACT mode promises, without a GPU or ptxas. */
class PtxRendererTest {
    private static final Pattern F32_ARITH = Pattern.compile("^(add|sub|mul|div|sqrt|fma)((?:\\.[a-z0-9]+)*)\\.f32\\b");
    private static final Pattern FLOAT_IMM = Pattern.compile("\\b0[fF][0-9A-Fa-f]+\\b");
    private static final Pattern DECIMAL_FLOAT = Pattern.compile("(?<![\\w%$.])[-+]?\\d+\\.\\d*(?:[eE][-+]?\\d+)?");

    @TestFactory
    List<DynamicTest> exactModeKeepsItsPromises() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Kernel k : PtxKernels.all()) tests.add(dynamicTest(k.name(), () -> checkExact(k, PtxRenderer.render(k, Mode.EXACT))));
        return tests;
    }

    /** FAST is the fused IR rendered as EXACT renders: every f32 add, sub and mul keeps .rn, fma.rn only for the fused IR's FMA. */
    @TestFactory
    List<DynamicTest> fastModeIsTheFusedKernelWithEveryRoundingWritten() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Kernel k : PtxKernels.all()) tests.add(dynamicTest(k.name(), () -> checkFast(k, PtxRenderer.render(k, Mode.FAST))));
        return tests;
    }

    static void checkExact(Kernel k, String ptx) {
        String where = "EXACT PTX of " + k.name() + ":\n" + ptx;
        assertFalse(ptx.contains(".ftz"), "no .ftz: " + where);
        assertFalse(ptx.contains(".approx"), "no .approx: " + where);
        assertFalse(ptx.contains(".full"), "no div.full: " + where);
        int fma = 0;
        for (String inst : instructions(ptx)) {
            Matcher m = F32_ARITH.matcher(inst);
            if (!m.find()) continue;
            List<String> mods = List.of(m.group(2).split("\\."));
            assertTrue(mods.contains("rn"), "f32 " + m.group(1) + " without .rn: '" + inst + "' in " + where);
            if (m.group(1).equals("fma")) fma++;
        }
        assertEquals(count(k, Op.FMA), fma, "fma.rn.f32 only where the IR has FMA: " + where);
        checkCommon(k, ptx, where);
    }

    static void checkFast(Kernel k, String ptx) {
        Kernel fused = Mode.FAST.kernel(k);
        checkExact(fused, ptx);
        String asExact = PtxRenderer.render(fused, Mode.EXACT);
        assertEquals(asExact.replace(PtxRenderer.entryName(fused, Mode.EXACT), "ENTRY").replace("mode EXACT", "mode"),
                ptx.replace(PtxRenderer.entryName(fused, Mode.FAST), "ENTRY").replace("mode FAST", "mode"),
                "FAST's PTX is EXACT's rendering of the fused kernel, but for its entry name: " + k.name());
    }

    /** Header, ABI and constants, both modes. */
    static void checkCommon(Kernel k, String ptx, String where) {
        assertTrue(ptx.contains("\n.version 7.0\n.target sm_75\n.address_size 64\n"), "header: " + where);
        int params = 0;
        Matcher pm = Pattern.compile("\\.param \\.(u64|f32) p_(n|in\\d+|s\\d+)").matcher(ptx);
        List<String> order = new ArrayList<>();
        while (pm.find()) {
            params++;
            order.add(pm.group(2));
        }
        assertEquals(1 + k.inputs().size() + k.scalars().size(), params, "ABI: n, one pointer per input, one float per scalar: " + where);
        assertEquals("n", order.getFirst(), where);
        assertTrue(ptx.contains("setp.ge.u64"), "bounds check: " + where);
        for (String inst : instructions(ptx)) {
            Matcher d = DECIMAL_FLOAT.matcher(inst);
            if (d.find()) fail("decimal float literal '" + d.group() + "' in '" + inst + "': " + where);
            Matcher f = FLOAT_IMM.matcher(inst);
            while (f.find()) assertEquals(10, f.group().length(), "float immediates as 0f + 8 hex digits: '" + inst + "'");
        }
        // Every IR constant appears with its exact bits.
        for (Eqn e : k.eqns()) for (Operand a : e.args()) checkConst(a, ptx, where);
        for (Kernel.Output o : k.outputs()) checkConst(o.value(), ptx, where);
        // One store per output, after the last computation.
        List<String> inst = instructions(ptx);
        int firstStore = -1;
        for (int i = 0; i < inst.size(); i++) if (inst.get(i).startsWith("st.global.f32")) { firstStore = i; break; }
        assertEquals(k.outputs().size(), inst.stream().filter(s -> s.startsWith("st.global.f32")).count(), where);
        for (int i = firstStore; i < inst.size(); i++) {
            String s = inst.get(i);
            assertTrue(s.startsWith("st.global.f32") || s.equals("ret;"),
                    "only stores after the first store (outputs computed first): '" + s + "' in " + where);
        }
    }

    private static void checkConst(Operand a, String ptx, String where) {
        if (a instanceof Operand.Const c) {
            String imm = String.format(Locale.ROOT, "0f%08X", c.bits());
            assertTrue(ptx.contains(imm), "constant " + c.value() + " as " + imm + ": " + where);
        }
    }

    private static long count(Kernel k, Op op) {
        return k.eqns().stream().filter(e -> e.op() == op).count();
    }

    /** Instruction lines without comments, labels or directives. */
    static List<String> instructions(String ptx) {
        List<String> out = new ArrayList<>();
        boolean inBody = false;
        for (String raw : ptx.split("\n")) {
            String s = raw.replaceFirst("//.*$", "").strip();
            if (s.equals("{")) { inBody = true; continue; }
            if (!inBody || s.isEmpty() || s.startsWith(".") || s.endsWith(":") || s.equals("}")) continue;
            out.add(s);
        }
        return out;
    }

    @Test
    void nagExactIsTheSeedsArithmetic() {
        String ptx = PtxRenderer.render(Rules.byName("nag").kernel(), Mode.EXACT);
        List<String> arith = instructions(ptx).stream().filter(s -> F32_ARITH.matcher(s).find()).toList();
        assertEquals(List.of("mul.rn.f32", "mul.rn.f32", "sub.rn.f32", "sub.rn.f32", "mul.rn.f32", "add.rn.f32"),
                arith.stream().map(s -> s.substring(0, s.indexOf(' '))).toList(), ptx);
        assertTrue(ptx.contains(".visible .entry nag4j_nag_exact("), ptx);
    }

    @Test
    void checksCatchAMissingRoundingModifier() {
        // The EXACT check itself can fail: a contractible add is caught.
        Kernel k = Rules.byName("nag").kernel();
        String bad = PtxRenderer.render(k, Mode.EXACT).replaceFirst("add\\.rn\\.f32", "add.f32");
        AssertionError e = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class, () -> checkExact(k, bad));
        assertTrue(e.getMessage().contains("without .rn"), e.getMessage());
    }

    @Test
    void entryNamesAreIdentifiers() {
        Kernel k = new Kernel("my-rule.v2", List.of("param", "update"), List.of(), List.of(),
                List.of(new Kernel.Output(0, new Operand.Input(1))));
        assertEquals("nag4j_my_rule_v2_fast", PtxRenderer.entryName(k, Mode.FAST));
        assertTrue(PtxRenderer.render(k, Mode.EXACT).contains("st.global.f32"), "an output that is an input");
        Kernel odd = new Kernel("two\nlines", k.inputs(), k.scalars(), k.eqns(), k.outputs());
        assertTrue(PtxRenderer.render(odd, Mode.EXACT).startsWith("// nag4j PTX for kernel 'two?lines'"), "the name stays in its comment");
    }
}
