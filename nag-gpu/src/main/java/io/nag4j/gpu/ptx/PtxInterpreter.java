package io.nag4j.gpu.ptx;

import io.nag4j.core.optim.Mode;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A small, strict interpreter of the PTX subset {@link PtxRenderer} emits, so that without a GPU the
 * tests (and {@code nag4j fuzz}) can check what the PTX <em>computes</em> (operand order, registers, compares, selects, the
 * bounds check, 64-bit indexing), not only that it assembles.
 *
 * <p>Strict: an instruction, type, modifier or operand form missing from {@link #TABLE} is an error
 * naming it, as are undeclared or unwritten registers, operand types the PTX ISA's type-checking
 * rules reject, and any global access outside an allocated buffer. Semantics follow the PTX ISA
 * (sections cited at each entry); a GPU is still the only proof of the hardware.
 *
 * <p>f32 registers hold raw bits. An arithmetic result that is NaN is the canonical 0x7FFFFFFF, as
 * the CUDA C++ Programming Guide documents for single precision ("Floating-Point Standard"); nag4j
 * compares NaN by class, so this only keeps the interpreter from promising payloads.
 */
public final class PtxInterpreter {
    static final int CANONICAL_NAN = 0x7fffffff;
    private static final int MAX_STEPS_PER_THREAD = 100_000;

    /** An interpreter error: unknown or ill-typed PTX, or a fault while running it. */
    public static final class PtxError extends RuntimeException {
        PtxError(String message) { super(message); }
        PtxError(String message, Throwable cause) { super(message, cause); }
    }

    // ---- types: PTX ISA 5.2 (fundamental types) and the type-checking rules of 6.4 ----

    enum Type {
        PRED(1, 'p'), B32(32, 'b'), U32(32, 'u'), S32(32, 's'), F32(32, 'f'), B64(64, 'b'), U64(64, 'u'), S64(64, 's');

        final int bits;
        final char kind;

        Type(int bits, char kind) {
            this.bits = bits;
            this.kind = kind;
        }

        static Type of(String name) {
            try {
                return valueOf(name.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new PtxError("unknown type ." + name);
            }
        }

        /** PTX's operand type check: same size; .bX takes any, .u/.s take .b/.u/.s, .f takes .f/.b. */
        boolean accepts(Type reg) {
            if (this == PRED || reg == PRED) return this == reg;
            if (bits != reg.bits) return false;
            return switch (kind) {
                case 'b' -> true;
                case 'u', 's' -> reg.kind != 'f';
                default -> reg.kind == 'f' || reg.kind == 'b';
            };
        }

        long mask() { return bits == 64 ? -1L : (1L << bits) - 1; }
    }

    // ---- operands ----

    sealed interface Opnd permits Reg, Imm, Special, ParamRef, GlobalRef, LabelRef {}
    record Reg(String name, int index, Type type) implements Opnd {}
    /** An immediate: {@code 0fXXXXXXXX} (f32 bits) or a decimal integer. */
    record Imm(long value, boolean isFloat) implements Opnd {}
    /** %tid.x, %ntid.x, %ctaid.x, %nctaid.x (.u32). */
    record Special(String name) implements Opnd {}
    record ParamRef(String name, int index, Type type) implements Opnd {}
    record GlobalRef(Reg address) implements Opnd {}
    record LabelRef(String name, int target) implements Opnd {}

    private static final List<String> SPECIALS = List.of("%tid.x", "%ntid.x", "%ctaid.x", "%nctaid.x");

    /** What one operand position accepts. */
    private record Slot(char kind, Type type) {
        // kinds: d = destination register, r = source register, s = register or immediate,
        // x = special register or as s, m = [param], g = [global address register], l = label
    }

    private static Slot dst(Type t) { return new Slot('d', t); }
    private static Slot src(Type t) { return new Slot('s', t); }

    @FunctionalInterface
    private interface Exec { void run(PtxThread t, Opnd[] o); }

    /** One instruction form: operand slots, whether ptxas may contract it (no rounding modifier), its meaning. */
    private record Def(List<Slot> slots, boolean contractible, Exec exec) {}

    /** Opcode (with every modifier, as written) to meaning: the whole subset this interpreter knows. */
    private static final Map<String, Def> TABLE = new LinkedHashMap<>();

    private static void def(String opcode, boolean contractible, List<Slot> slots, Exec exec) {
        if (TABLE.put(opcode, new Def(slots, contractible, exec)) != null) throw new AssertionError(opcode);
    }

    static {
        Type F = Type.F32;
        List<Slot> f2 = List.of(dst(F), src(F)), f3 = List.of(dst(F), src(F), src(F));

        // PTX ISA 9.7.3.3-5 add/sub/mul: ".rn: mantissa LSB rounds to nearest even" = Java's float + - *
        // (JLS 15.17, 15.18: IEEE round to nearest). "An add instruction with no rounding modifier defaults
        // to round-to-nearest-even and may be optimized aggressively by the code optimizer. In particular,
        // mul/add sequences with no rounding modifiers may be optimized to use fused-multiply-add
        // instructions": the forms without .rn are FAST's, contractible (see PtxThread.addSub).
        for (boolean rn : new boolean[] {true, false}) {
            String m = rn ? ".rn" : "";
            def("add" + m + ".f32", !rn, f3, (t, o) -> t.addSub(o, false, !rn));
            def("sub" + m + ".f32", !rn, f3, (t, o) -> t.addSub(o, true, !rn));
            def("mul" + m + ".f32", !rn, f3, (t, o) -> t.mul(o, !rn));
        }
        // 9.7.3.8 div.rn: "IEEE 754 compliant rounding" = Java's float /.
        def("div.rn.f32", false, f3, (t, o) -> t.arith(o[0], t.f(o[1]) / t.f(o[2])));
        // 9.7.3.15 sqrt.rn: IEEE square root. Math.sqrt of the exact double is correctly rounded and
        // rounding that double to float is too (53 >= 2*24 + 2 bits); sqrt(-0) = -0, sqrt(x<0) = NaN.
        def("sqrt.rn.f32", false, f2, (t, o) -> t.arith(o[0], (float) Math.sqrt(t.f(o[1]))));
        // 9.7.3.6 fma.rn: "a*b+c ... no loss of precision in the intermediate product and addition" = Math.fma.
        def("fma.rn.f32", false, List.of(dst(F), src(F), src(F), src(F)),
                (t, o) -> t.arith(o[0], Math.fma(t.f(o[1]), t.f(o[2]), t.f(o[3]))));
        // 9.7.3.9/10 abs, neg: the sign of a number; "NaN inputs yield an unspecified NaN".
        def("neg.f32", false, f2, (t, o) -> t.arith(o[0], -t.f(o[1])));
        def("abs.f32", false, f2, (t, o) -> t.arith(o[0], Math.abs(t.f(o[1]))));
        // 9.7.3.11/12 min, max: NaN and NaN -> NaN; one NaN -> the other operand; "+0.0 > -0.0".
        // PtxRenderer does not emit them (their NaN rule is not Java's); they are here so a PTX that
        // uses them is judged by their real meaning, not refused.
        def("min.f32", false, f3, (t, o) -> t.minMax(o, false));
        def("max.f32", false, f3, (t, o) -> t.minMax(o, true));

        // 9.3.1.2 floating point comparisons: eq..ge are ordered (false if either is NaN), equ..geu are
        // unordered (true if either is NaN), num = neither NaN, nan = either NaN. Java's < <= > >= are
        // already false with NaN; Java's != is true with NaN, so ne is spelled out.
        Map<String, FloatCompare> fcmp = new LinkedHashMap<>();
        fcmp.put("eq", (a, b, nan) -> !nan && a == b);
        fcmp.put("ne", (a, b, nan) -> !nan && a != b);
        fcmp.put("lt", (a, b, nan) -> !nan && a < b);
        fcmp.put("le", (a, b, nan) -> !nan && a <= b);
        fcmp.put("gt", (a, b, nan) -> !nan && a > b);
        fcmp.put("ge", (a, b, nan) -> !nan && a >= b);
        fcmp.put("equ", (a, b, nan) -> nan || a == b);
        fcmp.put("neu", (a, b, nan) -> nan || a != b);
        fcmp.put("ltu", (a, b, nan) -> nan || a < b);
        fcmp.put("leu", (a, b, nan) -> nan || a <= b);
        fcmp.put("gtu", (a, b, nan) -> nan || a > b);
        fcmp.put("geu", (a, b, nan) -> nan || a >= b);
        fcmp.put("num", (a, b, nan) -> !nan);
        fcmp.put("nan", (a, b, nan) -> nan);
        fcmp.forEach((cmp, c) -> def("setp." + cmp + ".f32", false, List.of(dst(Type.PRED), src(F), src(F)), (t, o) -> {
            float a = t.f(o[1]), b = t.f(o[2]);
            t.put(o[0], c.test(a, b, Float.isNaN(a) || Float.isNaN(b)) ? 1 : 0);
        }));
        // setp, Integer Notes: for unsigned values lt/le/gt/ge compare unsigned; lo/ls/hi/hs are synonyms.
        for (String cmp : new String[] {"eq", "ne", "lt", "le", "gt", "ge", "lo", "ls", "hi", "hs"}) {
            def("setp." + cmp + ".u64", false, List.of(dst(Type.PRED), src(Type.U64), src(Type.U64)), (t, o) -> {
                int c = Long.compareUnsigned(t.get(o[1]), t.get(o[2]));
                boolean v = switch (cmp) {
                    case "eq" -> c == 0;
                    case "ne" -> c != 0;
                    case "lt", "lo" -> c < 0;
                    case "le", "ls" -> c <= 0;
                    case "gt", "hi" -> c > 0;
                    default -> c >= 0;
                };
                t.put(o[0], v ? 1 : 0);
            });
        }
        // selp: d = (c == 1) ? a : b, the bits as they are.
        def("selp.f32", false, List.of(dst(F), src(F), src(F), src(Type.PRED)), (t, o) -> t.put(o[0], t.get(o[3]) != 0 ? t.get(o[1]) : t.get(o[2])));

        // mov (data movement): a copy of the bits (mov.b32 moves between .f32 and .b32 registers); from special registers.
        def("mov.f32", false, f2, (t, o) -> t.put(o[0], t.get(o[1])));
        def("mov.b32", false, List.of(dst(Type.B32), src(Type.B32)), (t, o) -> t.put(o[0], t.get(o[1])));
        def("mov.u32", false, List.of(dst(Type.U32), new Slot('x', Type.U32)), (t, o) -> t.put(o[0], t.get(o[1])));
        // and, or (logic): bitwise.
        def("and.b32", false, List.of(dst(Type.B32), src(Type.B32), src(Type.B32)), (t, o) -> t.put(o[0], t.get(o[1]) & t.get(o[2])));
        def("or.b32", false, List.of(dst(Type.B32), src(Type.B32), src(Type.B32)), (t, o) -> t.put(o[0], t.get(o[1]) | t.get(o[2])));

        // add.u32, shr.u32 (integer arithmetic, bit shifts): wrapping add; a logical right shift, the amount clamped to 32.
        def("add.u32", false, List.of(dst(Type.U32), src(Type.U32), src(Type.U32)), (t, o) -> t.put(o[0], (t.get(o[1]) + t.get(o[2])) & 0xffffffffL));
        def("shr.u32", false, List.of(dst(Type.U32), src(Type.U32), src(Type.U32)), (t, o) -> {
            long sh = t.get(o[2]);
            t.put(o[0], sh >= 32 ? 0 : (t.get(o[1]) & 0xffffffffL) >>> sh);
        });
        // setp on .u32 (unsigned compares) and selp.b32: what the bf16/f16 narrowings branch on.
        for (String cmp : new String[] {"gt", "ge", "eq"}) {
            def("setp." + cmp + ".u32", false, List.of(dst(Type.PRED), src(Type.U32), src(Type.U32)), (t, o) -> {
                int c = Long.compare(t.get(o[1]) & 0xffffffffL, t.get(o[2]) & 0xffffffffL);
                t.put(o[0], (cmp.equals("gt") ? c > 0 : cmp.equals("ge") ? c >= 0 : c == 0) ? 1 : 0);
            });
        }
        def("selp.b32", false, List.of(dst(Type.B32), src(Type.B32), src(Type.B32), src(Type.PRED)), (t, o) -> t.put(o[0], t.get(o[3]) != 0 ? t.get(o[1]) : t.get(o[2])));

        // mul.wide.u32 (integer arithmetic): the full 64-bit product of two u32 (d is twice the instruction's width).
        def("mul.wide.u32", false, List.of(dst(Type.U64), src(Type.U32), src(Type.U32)), (t, o) -> t.put(o[0], t.get(o[1]) * t.get(o[2])));
        // cvt.u64.u32: zero extension.
        def("cvt.u64.u32", false, List.of(dst(Type.U64), src(Type.U32)), (t, o) -> t.put(o[0], t.get(o[1])));
        // add.s64: two's complement, wraps.
        def("add.s64", false, List.of(dst(Type.S64), src(Type.S64), src(Type.S64)), (t, o) -> t.put(o[0], t.get(o[1]) + t.get(o[2])));
        // shl: the amount is .u32; "shift amounts greater than the register width N are clamped to N".
        def("shl.b64", false, List.of(dst(Type.B64), src(Type.B64), src(Type.U32)), (t, o) -> {
            long s = t.get(o[2]);
            t.put(o[0], s >= 64 ? 0 : t.get(o[1]) << s);
        });
        // cvta.to.global: generic to global address. A cuMemAlloc pointer is both; modelled as
        // the identity (the interpreter's memory has one address space).
        def("cvta.to.global.u64", false, List.of(dst(Type.U64), src(Type.U64)), (t, o) -> t.put(o[0], t.get(o[1])));

        // ld, st: kernel parameters by name, global memory at a 64-bit register address.
        def("ld.param.u64", false, List.of(dst(Type.U64), new Slot('m', Type.U64)), (t, o) -> t.put(o[0], t.param(o[1])));
        def("ld.param.f32", false, List.of(dst(F), new Slot('m', F)), (t, o) -> t.put(o[0], t.param(o[1])));
        def("ld.global.f32", false, List.of(dst(F), new Slot('g', Type.U64)), (t, o) -> t.put(o[0], t.load(o[1])));
        def("st.global.f32", false, List.of(new Slot('g', Type.U64), new Slot('r', F)), (t, o) -> t.store(o[0], (int) t.get(o[1])));

        // What stochastic rounding and random add (PtxRenderer.bf16Stochastic, f16Stochastic, random, findTensor).
        List<Slot> u3 = List.of(dst(Type.U32), src(Type.U32), src(Type.U32));
        // xor, shl.b32 (logic, shift): bitwise; the shift amount clamped to the width.
        def("xor.b32", false, List.of(dst(Type.B32), src(Type.B32), src(Type.B32)), (t, o) -> t.put(o[0], t.get(o[1]) ^ t.get(o[2])));
        def("shl.b32", false, List.of(dst(Type.B32), src(Type.B32), src(Type.U32)), (t, o) -> {
            long sh = t.get(o[2]);
            t.put(o[0], sh >= 32 ? 0 : t.get(o[1]) << sh);
        });
        // mul.hi/.lo.u32 (integer arithmetic): the high and the low 32 bits of the 64-bit product.
        def("mul.hi.u32", false, u3, (t, o) -> t.put(o[0], (t.get(o[1]) * t.get(o[2])) >>> 32));
        def("mul.lo.u32", false, u3, (t, o) -> t.put(o[0], t.get(o[1]) * t.get(o[2])));
        // cvt (9.7.9.21): .rn u32 -> f32 rounds to nearest even (Java's long -> float); .rzi f32 -> u32 truncates,
        // NaN gives 0 and out-of-range values saturate; .rmi f32 -> f32 rounds to an integer toward -inf (floor),
        // subnormals kept without .ftz; u64 -> u32 keeps the low half.
        def("cvt.rn.f32.u32", false, List.of(dst(F), src(Type.U32)), (t, o) -> t.arith(o[0], (float) t.get(o[1])));
        def("cvt.rzi.u32.f32", false, List.of(dst(Type.U32), src(F)), (t, o) -> {
            float v = t.f(o[1]);
            t.put(o[0], Float.isNaN(v) || v <= 0 ? 0 : v >= 0x1p32f ? 0xffffffffL : (long) v);
        });
        def("cvt.rmi.f32.f32", false, f2, (t, o) -> t.arith(o[0], (float) Math.floor(t.f(o[1]))));
        def("cvt.u32.u64", false, List.of(dst(Type.U32), src(Type.U64)), (t, o) -> t.put(o[0], t.get(o[1])));
        // 64-bit: a logical right shift, a wrapping subtract, selects, a move, a global load of 8 bytes.
        def("shr.u64", false, List.of(dst(Type.U64), src(Type.U64), src(Type.U32)), (t, o) -> {
            long sh = t.get(o[2]);
            t.put(o[0], sh >= 64 ? 0 : t.get(o[1]) >>> sh);
        });
        def("sub.s64", false, List.of(dst(Type.S64), src(Type.S64), src(Type.S64)), (t, o) -> t.put(o[0], t.get(o[1]) - t.get(o[2])));
        def("selp.b64", false, List.of(dst(Type.B64), src(Type.B64), src(Type.B64), src(Type.PRED)), (t, o) -> t.put(o[0], t.get(o[3]) != 0 ? t.get(o[1]) : t.get(o[2])));
        def("mov.u64", false, List.of(dst(Type.U64), src(Type.U64)), (t, o) -> t.put(o[0], t.get(o[1])));
        // 16-bit inputs: ld.global.u16 zero-extends into a 32-bit register; st.global.u16 stores its low half.
        def("ld.global.u16", false, List.of(dst(Type.U32), new Slot('g', Type.U64)), (t, o) -> t.put(o[0], t.load16(o[1])));
        def("st.global.u16", false, List.of(new Slot('g', Type.U64), new Slot('r', Type.U32)), (t, o) -> t.store16(o[0], (int) t.get(o[1])));
        def("ld.global.u64", false, List.of(dst(Type.U64), new Slot('g', Type.U64)), (t, o) -> t.put(o[0], t.load64(o[1])));

        // bra, ret, exit (control flow).
        def("bra", false, List.of(new Slot('l', null)), (t, o) -> t.pc = ((LabelRef) o[0]).target());
        def("ret", false, List.of(), (t, o) -> t.done = true);
        def("exit", false, List.of(), (t, o) -> t.done = true);
    }

    @FunctionalInterface
    private interface FloatCompare { boolean test(float a, float b, boolean eitherNaN); }

    /** The opcodes this interpreter knows, for tests and messages. */
    static java.util.Set<String> opcodes() { return java.util.Collections.unmodifiableSet(TABLE.keySet()); }

    // ---- a loaded entry ----

    private record Instr(String text, Reg guard, boolean negated, Def def, Opnd[] ops) {}

    private final String entry;
    private final List<ParamRef> params;
    private final Instr[] code;
    private final int registerCount;
    private final boolean contract;

    private PtxInterpreter(String entry, List<ParamRef> params, Instr[] code, int registerCount, boolean contract) {
        this.entry = entry;
        this.params = params;
        this.code = code;
        this.registerCount = registerCount;
        this.contract = contract;
    }

    String entry() { return entry; }

    List<ParamRef> params() { return params; }

    private static final Pattern MODULE = Pattern.compile(
            "(?s)(.*?)\\.visible\\s+\\.entry\\s+([A-Za-z_$][\\w$]*)\\s*\\(([^)]*)\\)\\s*\\{(.*)}\\s*");
    private static final Pattern PARAM = Pattern.compile("\\.param\\s+\\.(\\w+)\\s+([A-Za-z_$][\\w$]*)");
    private static final Pattern REG_DECL = Pattern.compile("\\.reg\\s+\\.(\\w+)\\s+(%[A-Za-z_][A-Za-z_]*)<(\\d+)>");
    private static final Pattern LABEL = Pattern.compile("(?s)([$A-Za-z_][\\w$]*):(.*)");
    private static final Pattern INSTR = Pattern.compile("(?s)(?:@(!?)(%\\w+)\\s+)?([a-z][\\w.]*)(?:\\s+(.*))?");
    private static final Pattern FLOAT_IMM = Pattern.compile("0[fF]([0-9A-Fa-f]{8})");
    private static final Pattern INT_IMM = Pattern.compile("-?\\d+");

    /**
     * Parses a module holding one {@code .entry}. {@code mode} EXACT refuses add/sub/mul without
     * {@code .rn} (ptxas may contract them); {@code contract} decides how FAST's run: every
     * {@code mul.f32} feeding an {@code add.f32}/{@code sub.f32} fused into one rounding (the most
     * ptxas may do), or each rounded as written (the least).
     */
    static PtxInterpreter load(String ptx, Mode mode, boolean contract) {
        if (ptx.contains("/*")) throw new PtxError("block comments are not in the subset");
        String text = ptx.replaceAll("//[^\n]*", "");
        Matcher m = MODULE.matcher(text);
        if (!m.matches()) throw new PtxError("not one '.visible .entry name(params) { body }' module");
        checkHeader(m.group(1));
        String entry = m.group(2);

        List<ParamRef> params = new ArrayList<>();
        Map<String, ParamRef> paramByName = new HashMap<>();
        if (!m.group(3).isBlank()) {
            for (String p : m.group(3).split(",")) {
                Matcher pm = PARAM.matcher(p.strip());
                if (!pm.matches()) throw new PtxError("unknown parameter form '" + p.strip() + "'");
                Type type = Type.of(pm.group(1));
                if (type != Type.U64 && type != Type.F32) throw new PtxError("parameter type ." + pm.group(1) + " is not in the subset");
                ParamRef ref = new ParamRef(pm.group(2), params.size(), type);
                if (paramByName.put(ref.name(), ref) != null) throw new PtxError("parameter " + ref.name() + " declared twice");
                params.add(ref);
            }
        }

        // Statements end with ';'; a label ("name:") may precede one.
        Map<String, Reg> regs = new HashMap<>();
        Map<String, Integer> labels = new HashMap<>();
        List<String> statements = new ArrayList<>();
        for (String chunk : m.group(4).split(";", -1)) {
            String s = chunk.strip();
            Matcher lm;
            while ((lm = LABEL.matcher(s)).matches()) {
                if (labels.put(lm.group(1), statements.size()) != null) throw new PtxError("label " + lm.group(1) + " defined twice");
                s = lm.group(2).strip();
            }
            if (s.isEmpty()) continue;
            if (s.startsWith(".reg")) {
                Matcher rm = REG_DECL.matcher(s);
                if (!rm.matches()) throw new PtxError("unknown register declaration '" + s + "'");
                Type type = Type.of(rm.group(1));
                for (int i = 0; i < Integer.parseInt(rm.group(3)); i++) {
                    String name = rm.group(2) + i;
                    if (regs.put(name, new Reg(name, regs.size(), type)) != null) throw new PtxError("register " + name + " declared twice");
                }
                continue;
            }
            if (s.startsWith(".")) throw new PtxError("unknown directive '" + s + "'");
            statements.add(s);
        }

        Instr[] code = new Instr[statements.size()];
        for (int i = 0; i < code.length; i++) {
            String s = statements.get(i);
            try {
                code[i] = parseInstr(s, mode, regs, paramByName, labels);
            } catch (PtxError e) {
                throw new PtxError("'" + s.replaceAll("\\s+", " ") + "': " + e.getMessage(), e);
            }
        }
        return new PtxInterpreter(entry, List.copyOf(params), code, regs.size(), contract);
    }

    private static void checkHeader(String header) {
        boolean target = false, address = false;
        for (String line : header.split("\n")) {
            String s = line.strip();
            if (s.isEmpty()) continue;
            if (s.matches("\\.version \\d+\\.\\d+")) continue;
            if (s.matches("\\.target sm_\\d+")) {
                // The subnormal and IEEE rounding semantics here are those of sm_20 and later.
                if (Integer.parseInt(s.substring(".target sm_".length())) < 20) throw new PtxError("target before sm_20: " + s);
                target = true;
                continue;
            }
            if (s.equals(".address_size 64")) {
                address = true;
                continue;
            }
            throw new PtxError("unknown module directive '" + s + "'");
        }
        if (!target || !address) throw new PtxError("the module needs .target sm_XX and .address_size 64");
    }

    private static Instr parseInstr(String s, Mode mode, Map<String, Reg> regs, Map<String, ParamRef> params, Map<String, Integer> labels) {
        Matcher im = INSTR.matcher(s);
        if (!im.matches()) throw new PtxError("not an instruction");
        String opcode = im.group(3);
        Def def = TABLE.get(opcode);
        if (def == null) {
            if (opcode.contains(".ftz")) throw new PtxError("refused " + opcode + ": .ftz flushes subnormals to zero; nag4j's PTX keeps them in both modes");
            if (opcode.contains(".approx") || opcode.contains(".full")) throw new PtxError("refused " + opcode + ": not correctly rounded; nag4j's PTX never approximates");
            throw new PtxError("unknown instruction " + opcode + " (not in PtxInterpreter's table)");
        }
        if (def.contractible() && mode == Mode.EXACT) {
            throw new PtxError("refused " + opcode + " in EXACT PTX: without .rn ptxas may contract it into an fma (PTX ISA 9.7.3.3)");
        }
        Reg guard = null;
        if (im.group(2) != null) {
            guard = reg(im.group(2), regs);
            if (guard.type() != Type.PRED) throw new PtxError("guard " + guard.name() + " is not a .pred register");
        }
        String rest = im.group(4) == null ? "" : im.group(4).strip();
        String[] raw = rest.isEmpty() ? new String[0] : rest.split("\\s*,\\s*");
        if (raw.length != def.slots().size()) {
            throw new PtxError(def.slots().size() + " operands expected, got " + raw.length);
        }
        Opnd[] ops = new Opnd[raw.length];
        for (int i = 0; i < raw.length; i++) ops[i] = operand(raw[i].strip(), def.slots().get(i), regs, params, labels);
        return new Instr(s.replaceAll("\\s+", " "), guard, "!".equals(im.group(1)), def, ops);
    }

    private static Opnd operand(String s, Slot slot, Map<String, Reg> regs, Map<String, ParamRef> params, Map<String, Integer> labels) {
        switch (slot.kind()) {
            case 'l' -> {
                Integer target = labels.get(s);
                if (target == null) throw new PtxError("unknown label " + s);
                return new LabelRef(s, target);
            }
            case 'm' -> {
                ParamRef p = s.startsWith("[") && s.endsWith("]") ? params.get(s.substring(1, s.length() - 1)) : null;
                if (p == null) throw new PtxError("operand " + s + " is not [declared parameter]");
                if (p.type() != slot.type()) throw new PtxError("parameter " + p.name() + " is ." + lower(p.type()) + ", loaded as ." + lower(slot.type()));
                return p;
            }
            case 'g' -> {
                if (!(s.startsWith("[%") && s.endsWith("]"))) throw new PtxError("operand " + s + " is not [%register]");
                Reg r = reg(s.substring(1, s.length() - 1), regs);
                if (!slot.type().accepts(r.type())) throw new PtxError("address register " + r.name() + " is ." + lower(r.type()) + ", not 64-bit");
                return new GlobalRef(r);
            }
            default -> {
                if (slot.kind() == 'x' && SPECIALS.contains(s)) return new Special(s);
                if (s.startsWith("%")) {
                    Reg r = reg(s, regs);
                    if (!slot.type().accepts(r.type())) {
                        throw new PtxError("register " + r.name() + " is ." + lower(r.type()) + ", the instruction needs ." + lower(slot.type()));
                    }
                    return r;
                }
                if (slot.kind() == 'd' || slot.kind() == 'r') throw new PtxError("operand " + s + " must be a register");
                Matcher fm = FLOAT_IMM.matcher(s);
                if (fm.matches()) {
                    if (slot.type() != Type.F32) throw new PtxError("float immediate " + s + " where ." + lower(slot.type()) + " is needed");
                    return new Imm(Integer.parseUnsignedInt(fm.group(1), 16) & 0xffffffffL, true);
                }
                if (INT_IMM.matcher(s).matches()) {
                    if (slot.type().kind == 'f' || slot.type() == Type.PRED) throw new PtxError("integer immediate " + s + " where ." + lower(slot.type()) + " is needed");
                    return new Imm(Long.parseLong(s) & slot.type().mask(), false);
                }
                throw new PtxError("unknown operand form " + s);
            }
        }
    }

    private static Reg reg(String name, Map<String, Reg> regs) {
        Reg r = regs.get(name);
        if (r == null) throw new PtxError("undeclared register " + name);
        return r;
    }

    private static String lower(Type t) { return t.name().toLowerCase(Locale.ROOT); }

    // ---- running ----

    /**
     * Runs threads of blocks {@code [firstBlock, endBlock)} of a 1-D launch of {@code gridX} blocks of
     * {@code blockX} threads, with {@code args} bound to the {@code .param}s in order as cuLaunchKernel
     * binds its kernelParams (a u64 as its value, an f32 as its bits). Threads run one after another:
     * the kernels are elementwise and share nothing.
     */
    void launch(Memory mem, long[] args, int gridX, int blockX, int firstBlock, int endBlock) {
        if (args.length != params.size()) throw new PtxError(entry + " takes " + params.size() + " parameters, got " + args.length);
        if (gridX < 1 || blockX < 1 || blockX > 1024) throw new PtxError("bad launch shape " + gridX + " x " + blockX);
        if (firstBlock < 0 || endBlock > gridX || firstBlock > endBlock) throw new PtxError("blocks [" + firstBlock + ", " + endBlock + ") outside the grid of " + gridX);
        PtxThread t = new PtxThread(this, mem, args, gridX, blockX);
        for (int b = firstBlock; b < endBlock; b++) {
            for (int x = 0; x < blockX; x++) t.run(b, x);
        }
    }

    void launch(Memory mem, long[] args, int gridX, int blockX) { launch(mem, args, gridX, blockX, 0, gridX); }

    /**
     * A launch as {@link CudaContext#launch} makes it: nothing for {@code n == 0}, else
     * {@code ceil(n / BLOCK_SIZE)} blocks of {@link PtxRenderer#BLOCK_SIZE} threads, arguments
     * {@code n}, one device pointer per input, then the scalars.
     */
    void launchLikeCudaContext(Memory mem, long n, long[] pointers, float[] scalars) {
        if (n == 0) return;
        long blocks = (n + PtxRenderer.BLOCK_SIZE - 1) / PtxRenderer.BLOCK_SIZE;
        launch(mem, arguments(n, pointers, scalars), Math.toIntExact(blocks), PtxRenderer.BLOCK_SIZE);
    }

    /**
     * Runs {@code ptx} (a module {@link PtxRenderer} wrote for {@code mode}; FAST's multiply-adds are
     * each rounded as written) on columns of data, one per kernel input, as {@link CudaContext}
     * launches it: outputs are written back into their columns.
     *
     * @throws PtxError if the PTX is outside the subset, ill-typed, or faults
     */
    public static void run(String ptx, Mode mode, float[][] data, float[] scalars) {
        run(ptx, mode, data, scalars, null);
    }

    /**
     * As {@link #run(String, Mode, float[][], float[])} for a kernel that uses random: the columns
     * hold tensors starting at elements {@code tensorStarts} (the first 0), passed as the tensor table.
     */
    public static void run(String ptx, Mode mode, float[][] data, float[] scalars, long[] tensorStarts) {
        run(ptx, mode, data, scalars, tensorStarts, null);
    }

    /**
     * As {@link #run(String, Mode, float[][], float[], long[])} with each input stored as
     * {@code storage} says (null: all float32): a 16-bit column is passed as its values' patterns
     * and read back widened, as {@code DeviceOptimizer} packs and unpacks it.
     */
    public static void run(String ptx, Mode mode, float[][] data, float[] scalars, long[] tensorStarts, List<io.nag4j.core.ir.Storage> storage) {
        PtxInterpreter k = load(ptx, mode, false);
        Memory mem = new Memory();
        long[] pointers = new long[data.length + (tensorStarts == null ? 0 : 1)];
        short[][] sixteen = new short[data.length][];
        for (int i = 0; i < data.length; i++) {
            io.nag4j.core.ir.Storage st = storage == null ? io.nag4j.core.ir.Storage.F32 : storage.get(i);
            if (st == io.nag4j.core.ir.Storage.F32) {
                pointers[i] = mem.allocate("input " + i, data[i]);
                continue;
            }
            sixteen[i] = new short[data[i].length];
            for (int e = 0; e < data[i].length; e++) {
                sixteen[i][e] = st == io.nag4j.core.ir.Storage.BF16 ? io.nag4j.core.ir.Narrowing.bf16Pattern(data[i][e]) : io.nag4j.core.ir.Narrowing.f16Pattern(data[i][e]);
            }
            pointers[i] = mem.allocate("input " + i + " (" + st.mnemonic() + ")", 2L * data[i].length, 0, MemorySegment.ofArray(sixteen[i]));
        }
        if (tensorStarts != null) {
            long[] table = new long[1 + tensorStarts.length];
            table[0] = tensorStarts.length;
            System.arraycopy(tensorStarts, 0, table, 1, tensorStarts.length);
            pointers[data.length] = mem.allocate("tensors", 8L * table.length, 0, MemorySegment.ofArray(table));
        }
        k.launchLikeCudaContext(mem, data.length == 0 ? 0 : data[0].length, pointers, scalars);
        for (int i = 0; i < data.length; i++) {
            if (sixteen[i] == null) continue;
            boolean bf = storage.get(i) == io.nag4j.core.ir.Storage.BF16;
            for (int e = 0; e < data[i].length; e++) data[i][e] = bf ? io.nag4j.core.ir.Narrowing.fromBf16Bits(sixteen[i][e]) : io.nag4j.core.ir.Narrowing.fromF16Bits(sixteen[i][e]);
        }
    }

    /** The argument values of the kernel ABI: n, the pointers, the scalars' bits. */
    static long[] arguments(long n, long[] pointers, float[] scalars) {
        long[] args = new long[1 + pointers.length + scalars.length];
        args[0] = n;
        System.arraycopy(pointers, 0, args, 1, pointers.length);
        for (int s = 0; s < scalars.length; s++) args[1 + pointers.length + s] = Float.floatToRawIntBits(scalars[s]) & 0xffffffffL;
        return args;
    }

    /** One thread's registers and position; reused for every thread of a launch. */
    private static final class PtxThread {
        final PtxInterpreter k;
        final Memory mem;
        final long[] args;
        final long nctaid, ntid;
        final long[] regs;
        final boolean[] written;
        // FAST contraction: the operands of the mul.f32 that last wrote a register, if one did.
        final boolean[] product;
        final float[] px, py;
        long ctaid, tid;
        int pc;
        boolean done;

        PtxThread(PtxInterpreter k, Memory mem, long[] args, int gridX, int blockX) {
            this.k = k;
            this.mem = mem;
            this.args = args;
            this.nctaid = gridX;
            this.ntid = blockX;
            regs = new long[k.registerCount];
            written = new boolean[k.registerCount];
            product = new boolean[k.registerCount];
            px = new float[k.registerCount];
            py = new float[k.registerCount];
        }

        void run(long ctaid, long tid) {
            this.ctaid = ctaid;
            this.tid = tid;
            Arrays.fill(written, false);
            Arrays.fill(product, false);
            pc = 0;
            done = false;
            int steps = 0;
            while (!done) {
                if (pc >= k.code.length) throw fault(null, "ran past the last instruction without ret or exit");
                if (++steps > MAX_STEPS_PER_THREAD) throw fault(null, "more than " + MAX_STEPS_PER_THREAD + " instructions");
                Instr in = k.code[pc++];
                try {
                    if (in.guard() != null && (get(in.guard()) != 0) == in.negated()) continue;
                    in.def().exec().run(this, in.ops());
                } catch (PtxError e) {
                    throw fault(in, e.getMessage());
                }
            }
        }

        PtxError fault(Instr in, String why) {
            return new PtxError(k.entry + ", block " + ctaid + " thread " + tid + (in == null ? "" : ", at '" + in.text() + "'") + ": " + why);
        }

        long get(Opnd o) {
            return switch (o) {
                case Reg r -> {
                    if (!written[r.index()]) throw new PtxError("register " + r.name() + " read before it was written");
                    yield regs[r.index()];
                }
                case Imm i -> i.value();
                case Special s -> switch (s.name()) {
                    case "%tid.x" -> tid;
                    case "%ntid.x" -> ntid;
                    case "%ctaid.x" -> ctaid;
                    default -> nctaid;
                };
                default -> throw new PtxError("operand " + o + " has no value");
            };
        }

        float f(Opnd o) { return Float.intBitsToFloat((int) get(o)); }

        void put(Opnd dst, long bits) {
            Reg r = (Reg) dst;
            regs[r.index()] = bits & r.type().mask();
            written[r.index()] = true;
            product[r.index()] = false;
        }

        /** An arithmetic result: NaN becomes the canonical NaN. */
        void arith(Opnd dst, float v) { put(dst, Float.isNaN(v) ? CANONICAL_NAN : Float.floatToRawIntBits(v) & 0xffffffffL); }

        void mul(Opnd[] o, boolean contractible) {
            float a = f(o[1]), b = f(o[2]);
            arith(o[0], a * b);
            if (contractible && k.contract) {
                int d = ((Reg) o[0]).index();
                product[d] = true;
                px[d] = a;
                py[d] = b;
            }
        }

        /** add/sub; when contracting, a product operand from mul.f32 is fused: x*y + c is fma(x, y, c), c - x*y is fma(-x, y, c). */
        void addSub(Opnd[] o, boolean sub, boolean contractible) {
            float a = f(o[1]), b = f(o[2]);
            float r;
            if (contractible && k.contract && isProduct(o[1])) {
                int i = ((Reg) o[1]).index();
                r = Math.fma(px[i], py[i], sub ? -b : b);
            } else if (contractible && k.contract && isProduct(o[2])) {
                int i = ((Reg) o[2]).index();
                r = Math.fma(sub ? -px[i] : px[i], py[i], a);
            } else {
                r = sub ? a - b : a + b;
            }
            arith(o[0], r);
        }

        boolean isProduct(Opnd o) { return o instanceof Reg r && product[r.index()]; }

        void minMax(Opnd[] o, boolean max) {
            long a = get(o[1]), b = get(o[2]);
            float fa = Float.intBitsToFloat((int) a), fb = Float.intBitsToFloat((int) b);
            if (Float.isNaN(fa) && Float.isNaN(fb)) put(o[0], CANONICAL_NAN);
            else if (Float.isNaN(fa)) put(o[0], b);
            else if (Float.isNaN(fb)) put(o[0], a);
            else put(o[0], Float.floatToRawIntBits(max ? Math.max(fa, fb) : Math.min(fa, fb)) & 0xffffffffL); // -0 < +0 as in Java
        }

        long param(Opnd o) { return args[((ParamRef) o).index()] & ((ParamRef) o).type().mask(); }

        long load(Opnd o) { return mem.load(get(((GlobalRef) o).address())) & 0xffffffffL; }

        long load16(Opnd o) { return mem.load16(get(((GlobalRef) o).address())); }

        void store16(Opnd o, int bits) { mem.store16(get(((GlobalRef) o).address()), bits); }

        long load64(Opnd o) {
            long addr = get(((GlobalRef) o).address());
            if ((addr & 7) != 0) throw new PtxError(String.format("misaligned 8-byte access at 0x%x", addr));
            return (mem.load(addr) & 0xffffffffL) | (long) mem.load(addr + 4) << 32; // little-endian, as the GPUs
        }

        void store(Opnd o, int bits) { mem.store(get(((GlobalRef) o).address()), bits); }
    }

    // ---- global memory ----

    /**
     * Device memory: buffers at fake, far-apart addresses, each backed by a {@link MemorySegment}.
     * Every access is checked: 4-byte aligned, inside a buffer, inside the part of it that is backed.
     */
    static final class Memory {
        private record Buffer(String name, long base, long bytes, long backedFrom, MemorySegment backing) {}

        private static final long GAP = 1L << 40;
        private final List<Buffer> buffers = new ArrayList<>();
        private long next = GAP;

        /** A buffer of exactly {@code data}, read and written in place. Returns its device address. */
        long allocate(String name, float[] data) { return allocate(name, 4L * data.length, 0, MemorySegment.ofArray(data)); }

        /**
         * A buffer of {@code bytes} bytes of which only {@code backing}, from byte {@code backedFrom}, exists:
         * for launches over more elements than a test can hold, running only the blocks that touch it.
         */
        long allocate(String name, long bytes, long backedFrom, MemorySegment backing) {
            if (bytes % 2 != 0 || backedFrom % 2 != 0 || backedFrom + backing.byteSize() > bytes) throw new IllegalArgumentException(name);
            long base = next;
            next = base + (bytes + 255) / 256 * 256 + GAP;
            buffers.add(new Buffer(name, base, bytes, backedFrom, backing));
            return base;
        }

        /**
         * A buffer at a given address, e.g. a real allocation of the stand-in libcuda (whose device
         * pointers are host addresses), read and written in place through {@code backing}.
         */
        void map(String name, long base, MemorySegment backing) {
            long bytes = backing.byteSize();
            if (base <= 0 || bytes <= 0 || base + bytes < base) throw new IllegalArgumentException(name + ": bad range " + base + " +" + bytes);
            for (Buffer b : buffers) {
                if (base < b.base() + b.bytes() && b.base() < base + bytes) throw new IllegalArgumentException(name + " overlaps '" + b.name() + "'");
            }
            buffers.add(new Buffer(name, base, bytes, 0, backing));
        }

        int load(long addr) {
            Buffer b = find(addr);
            return b.backing().get(ValueLayout.JAVA_INT, addr - b.base() - b.backedFrom());
        }

        /** The 2-byte value at {@code addr} (2-aligned), zero-extended. */
        long load16(long addr) {
            Buffer b = find(addr, 2);
            return b.backing().get(ValueLayout.JAVA_SHORT_UNALIGNED, addr - b.base() - b.backedFrom()) & 0xffffL;
        }

        void store16(long addr, int bits) {
            Buffer b = find(addr, 2);
            b.backing().set(ValueLayout.JAVA_SHORT_UNALIGNED, addr - b.base() - b.backedFrom(), (short) bits);
        }

        void store(long addr, int bits) {
            Buffer b = find(addr);
            b.backing().set(ValueLayout.JAVA_INT, addr - b.base() - b.backedFrom(), bits);
        }

        private Buffer find(long addr) { return find(addr, 4); }

        private Buffer find(long addr, int size) {
            if ((addr & (size - 1)) != 0) throw new PtxError(String.format("misaligned %d-byte access at 0x%x", size, addr));
            Buffer below = null;
            for (Buffer b : buffers) {
                if (addr >= b.base() && addr - b.base() < b.bytes()) {
                    long off = addr - b.base();
                    if (off < b.backedFrom() || off + size > b.backedFrom() + b.backing().byteSize()) {
                        throw new PtxError("access to element " + off / size + " of '" + b.name() + "', outside the part the test backs (elements "
                                + b.backedFrom() / size + " to " + (b.backedFrom() + b.backing().byteSize()) / size + ")");
                    }
                    return b;
                }
                if (addr >= b.base() && (below == null || b.base() > below.base())) below = b;
            }
            throw new PtxError(String.format("out-of-bounds global access at 0x%x", addr) + (below == null ? ", below every buffer"
                    : ": element " + (addr - below.base()) / 4 + " of '" + below.name() + "', which holds " + below.bytes() / 4));
        }
    }
}
