package io.nag4j.gpu.ptx;

import io.nag4j.core.ir.Eqn;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.ir.Op;
import io.nag4j.core.ir.Operand;
import io.nag4j.core.ir.Storage;
import io.nag4j.core.optim.Mode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Lowers a {@link Kernel} to PTX text: a pure function, one thread per element.
 *
 * <p>Target: {@code .version 7.0} with {@code .target sm_75}. ptxas 13 no longer knows sm_70,
 * and PTX ISA 7.0 (CUDA 11.0) cannot name sm_80 or sm_90 as its own target; sm_75 is the oldest
 * target the current toolchain assembles, so every driver from R450 on loads the module and
 * JIT-compiles it for whatever GPU it runs on (sm_80, sm_90 = H100, and later). Nothing here
 * needs a newer ISA.
 *
 * <p>Entry parameters follow the kernel ABI: {@code .param .u64 n}, one {@code .param .u64}
 * global pointer per input (param, update, slots), for a kernel that uses random the tensor
 * table's pointer ({@code p_tensors}), then one {@code .param .f32} per scalar.
 *
 * <p>Every f32 add, sub and mul is written with {@code .rn} (ptxas never fuses those),
 * {@code div.rn}, {@code sqrt.rn}, {@code fma.rn} only for the IR's FMA, no {@code .ftz} and no
 * {@code .approx}, in both modes: FAST renders {@link Mode#kernel} (the IR after
 * {@link io.nag4j.core.ir.Fusion}) the same way, so its FMAs are the IR's and nothing is left to
 * ptxas. See docs/numerics.md, section PTX.
 */
public final class PtxRenderer {
    /** Threads per block the drivers launch with; the kernel itself works with any block size. */
    public static final int BLOCK_SIZE = 256;

    private static final String PTX_VERSION = "7.0";
    private static final String PTX_TARGET = "sm_75";

    private PtxRenderer() {}

    /** The {@code .entry} name of {@code kernel} in {@code mode}: {@code nag4j_<name>_<mode>}. */
    public static String entryName(Kernel kernel, Mode mode) {
        String safe = kernel.name().replaceAll("[^A-Za-z0-9_]", "_");
        return "nag4j_" + safe + "_" + mode.name().toLowerCase(Locale.ROOT);
    }

    /** The PTX module (NUL-free text) holding one entry, {@link #entryName}. */
    public static String render(Kernel kernel, Mode mode) {
        return new Emitter(mode.kernel(kernel), mode).emit();
    }

    /** Fresh register names, counted per kind so each is declared once at the top. */
    static final class Regs {
        int f, p, r, rd;

        String f() { return "%f" + f++; }
        String p() { return "%p" + p++; }
        String r() { return "%r" + r++; }
        String rd() { return "%rd" + rd++; }
    }

    /**
     * Java's {@code Math.min} / {@code Math.max} in PTX. PTX {@code min.f32} returns the non-NaN
     * operand and {@code min.NaN.f32} needs sm_80, so the result is built from compares and selects:
     * <pre>
     *   setp.lt.f32  p, a, b            (gt for max; false when unordered)
     *   selp.f32     t, a, b, p         strictly smaller (larger) one, else b
     *   setp.eq.f32  q, a, b            equal: only ±0 pairs can differ in bits
     *   mov.b32 / or.b32 (and.b32 for max) / mov.b32   -0 wins min (OR of sign bits), +0 wins max (AND)
     *   selp.f32     t, bits, t, q
     *   setp.nan.f32 u, a, b            either NaN
     *   selp.f32     d, 0f7FC00000, t, u   NaN propagates (compared by class)
     * </pre>
     * When a == b and they are not zeros the two bit patterns are identical, so OR/AND returns that
     * same value. {@code PtxMinMaxTest} runs exactly these lines over ±0, NaN, ±inf against Java.
     */
    static List<String> minMax(boolean max, String d, String a, String b, Regs regs) {
        String p = regs.p(), q = regs.p(), u = regs.p();
        String t = regs.f(), e = regs.f();
        String ra = regs.r(), rb = regs.r(), rc = regs.r();
        List<String> out = new ArrayList<>();
        out.add("setp." + (max ? "gt" : "lt") + ".f32 " + p + ", " + a + ", " + b + ";");
        out.add("selp.f32 " + t + ", " + a + ", " + b + ", " + p + ";");
        out.add("setp.eq.f32 " + q + ", " + a + ", " + b + ";");
        out.add("mov.b32 " + ra + ", " + a + ";");
        out.add("mov.b32 " + rb + ", " + b + ";");
        out.add((max ? "and.b32 " : "or.b32 ") + rc + ", " + ra + ", " + rb + ";");
        out.add("mov.b32 " + e + ", " + rc + ";");
        out.add("selp.f32 " + t + ", " + e + ", " + t + ", " + q + ";");
        out.add("setp.nan.f32 " + u + ", " + a + ", " + b + ";");
        out.add("selp.f32 " + d + ", " + CANONICAL_NAN + ", " + t + ", " + u + ";");
        return out;
    }

    /**
     * {@code d = bf16(a)}: io.nag4j.core.ir.Narrowing's integer definition, line for line, without
     * branches: round the bits to nearest even at bit 16 ({@code b + 0x7fff + lsb}, a carry reaching
     * the exponent overflows to infinity), or for a NaN set the quiet bit; then clear the low 16 bits.
     */
    static List<String> bf16(String d, String a, Regs regs) {
        String b = regs.r(), abs = regs.r(), lsb = regs.r(), r = regs.r(), q = regs.r(), nan = regs.p();
        return List.of(
                "mov.b32 " + b + ", " + a + ";",
                "and.b32 " + abs + ", " + b + ", 2147483647;",
                "setp.gt.u32 " + nan + ", " + abs + ", 2139095040;",            // |a| above +inf's bits: NaN
                "shr.u32 " + lsb + ", " + b + ", 16;",
                "and.b32 " + lsb + ", " + lsb + ", 1;",
                "add.u32 " + r + ", " + b + ", 32767;",
                "add.u32 " + r + ", " + r + ", " + lsb + ";",
                "or.b32 " + q + ", " + b + ", 4194304;",                          // the quiet bit
                "selp.b32 " + r + ", " + q + ", " + r + ", " + nan + ";",
                "and.b32 " + r + ", " + r + ", 4294901760;",                     // 0xffff0000
                "mov.b32 " + d + ", " + r + ";");
    }

    /**
     * {@code d = f16(a)}: Narrowing's definition without branches: each case computed, then
     * selected in the definition's order of precedence (NaN, overflow, normal, subnormal; the
     * subnormal case rounds with {@code (|a| + 0.5) - 0.5}, exact in .rn without .ftz).
     */
    static List<String> f16(String d, String a, Regs regs) {
        String b = regs.r(), sign = regs.r(), abs = regs.r(), lsb = regs.r(), norm = regs.r(), sub = regs.r(), r = regs.r(), inf = regs.r(), q = regs.r();
        String fa = regs.f(), fs = regs.f();
        String pNorm = regs.p(), pOver = regs.p(), pNan = regs.p();
        return joined(List.of(
                "mov.b32 " + b + ", " + a + ";",
                "and.b32 " + sign + ", " + b + ", 2147483648;",
                "and.b32 " + abs + ", " + b + ", 2147483647;",
                "shr.u32 " + lsb + ", " + abs + ", 13;",
                "and.b32 " + lsb + ", " + lsb + ", 1;",
                "add.u32 " + norm + ", " + abs + ", 4095;",
                "add.u32 " + norm + ", " + norm + ", " + lsb + ";",
                "and.b32 " + norm + ", " + norm + ", 4294959104;",               // 0xffffe000
                "mov.b32 " + fa + ", " + abs + ";",
                "add.rn.f32 " + fs + ", " + fa + ", 0f3F000000;",
                "sub.rn.f32 " + fs + ", " + fs + ", 0f3F000000;",
                "mov.b32 " + sub + ", " + fs + ";",
                "setp.ge.u32 " + pNorm + ", " + abs + ", 947912704;",            // 2^-14
                "selp.b32 " + r + ", " + norm + ", " + sub + ", " + pNorm + ";",
                "setp.ge.u32 " + pOver + ", " + abs + ", 1199566848;",           // 65520
                "selp.b32 " + r + ", 2139095040, " + r + ", " + pOver + ";",
                "or.b32 " + r + ", " + r + ", " + sign + ";"), quietNan(r, b, abs, F16_MASK, q, pNan), d, r);
    }

    /**
     * {@code d = bf16_sr(a, u)}: Narrowing's bf16Stochastic without branches: the fraction the
     * truncation drops ({@code (bits & 0xffff) * 2^-16}, exact), the truncated bits one ulp up when
     * {@code frac > 0} and {@code u < frac} (ordered: a NaN u keeps the truncation), NaN quieted.
     */
    static List<String> bf16Stochastic(String d, String a, String u, Regs regs) {
        String b = regs.r(), abs = regs.r(), low = regs.r(), lo = regs.r(), hi = regs.r(), r = regs.r(), q = regs.r();
        String frac = regs.f();
        String nan = regs.p(), pos = regs.p(), below = regs.p();
        return joined(List.of(
                "mov.b32 " + b + ", " + a + ";",
                "and.b32 " + abs + ", " + b + ", 2147483647;",
                "and.b32 " + low + ", " + b + ", 65535;",
                "cvt.rn.f32.u32 " + frac + ", " + low + ";",
                "mul.rn.f32 " + frac + ", " + frac + ", 0f37800000;",                // 2^-16
                "setp.gt.f32 " + pos + ", " + frac + ", " + ZERO + ";",
                "setp.lt.f32 " + below + ", " + u + ", " + frac + ";",
                "and.b32 " + lo + ", " + b + ", 4294901760;",                       // 0xffff0000
                "add.u32 " + hi + ", " + lo + ", 65536;",
                "selp.b32 " + r + ", " + hi + ", " + lo + ", " + below + ";",
                "selp.b32 " + r + ", " + r + ", " + lo + ", " + pos + ";"), quietNan(r, b, abs, BF16_MASK, q, nan), d, r);
    }

    /**
     * {@code d = f16_sr(a, u)}: Narrowing's f16Stochastic without branches: the normal case on the
     * bits (a step past 65504 is infinity), the subnormal case on {@code y = |a| * 2^24} with
     * {@code cvt.rmi} (floor), then selected in the definition's order (NaN, from 2^16 infinity,
     * from 2^-14 normal, else subnormal).
     */
    static List<String> f16Stochastic(String d, String a, String u, Regs regs) {
        String b = regs.r(), sign = regs.r(), abs = regs.r(), low = regs.r(), m = regs.r(), mh = regs.r(), norm = regs.r(), sub = regs.r(),
                r = regs.r(), q = regs.r();
        String frac = regs.f(), fa = regs.f(), y = regs.f(), fl = regs.f(), fr = regs.f(), fl1 = regs.f(), ff = regs.f();
        String pos = regs.p(), below = regs.p(), top = regs.p(), pos2 = regs.p(), below2 = regs.p(), pNorm = regs.p(), pOver = regs.p(), pNan = regs.p();
        return joined(List.of(
                "mov.b32 " + b + ", " + a + ";",
                "and.b32 " + sign + ", " + b + ", 2147483648;",
                "and.b32 " + abs + ", " + b + ", 2147483647;",
                // normal: the dropped 13 bits as a fraction, the kept bits one f16 ulp up if u is below it
                "and.b32 " + low + ", " + abs + ", 8191;",
                "cvt.rn.f32.u32 " + frac + ", " + low + ";",
                "mul.rn.f32 " + frac + ", " + frac + ", 0f39000000;",                 // 2^-13
                "and.b32 " + m + ", " + abs + ", 4294959104;",                       // 0xffffe000
                "add.u32 " + mh + ", " + m + ", 8192;",
                "setp.gt.f32 " + pos + ", " + frac + ", " + ZERO + ";",
                "setp.lt.f32 " + below + ", " + u + ", " + frac + ";",
                "selp.b32 " + norm + ", " + mh + ", " + m + ", " + below + ";",
                "selp.b32 " + norm + ", " + norm + ", " + m + ", " + pos + ";",
                "setp.ge.u32 " + top + ", " + norm + ", 1199570944;",               // 2^16: past 65504
                "selp.b32 " + norm + ", 2139095040, " + norm + ", " + top + ";",
                // subnormal: y = |a| * 2^24 (exact), floor, the fraction, one up if u is below it, back to 2^-24 units
                "mov.b32 " + fa + ", " + abs + ";",
                "mul.rn.f32 " + y + ", " + fa + ", 0f4B800000;",                     // 2^24
                "cvt.rmi.f32.f32 " + fl + ", " + y + ";",
                "sub.rn.f32 " + fr + ", " + y + ", " + fl + ";",
                "add.rn.f32 " + fl1 + ", " + fl + ", " + ONE + ";",
                "setp.gt.f32 " + pos2 + ", " + fr + ", " + ZERO + ";",
                "setp.lt.f32 " + below2 + ", " + u + ", " + fr + ";",
                "selp.f32 " + ff + ", " + fl1 + ", " + fl + ", " + below2 + ";",
                "selp.f32 " + ff + ", " + ff + ", " + fl + ", " + pos2 + ";",
                "mul.rn.f32 " + ff + ", " + ff + ", 0f33800000;",                    // 2^-24
                "mov.b32 " + sub + ", " + ff + ";",
                "setp.ge.u32 " + pNorm + ", " + abs + ", 947912704;",                // 2^-14
                "selp.b32 " + r + ", " + norm + ", " + sub + ", " + pNorm + ";",
                "setp.ge.u32 " + pOver + ", " + abs + ", 1199570944;",               // 2^16
                "selp.b32 " + r + ", 2139095040, " + r + ", " + pOver + ";",
                "or.b32 " + r + ", " + r + ", " + sign + ";"), quietNan(r, b, abs, F16_MASK, q, pNan), d, r);
    }

    /**
     * {@code d = random(word, seed pieces, step pieces)} for the element {@code element} (u64) of
     * tensor {@code tensor} (u32): Philox-4x32-10 (io.nag4j.core.ir.Philox) unrolled, ten rounds
     * of {@code mul.hi/lo.u32} and {@code xor.b32}, then {@code (w >> 8) * 2^-24}.
     */
    static List<String> random(String d, int word, List<String> pieces, String tensor, String element, Regs regs) {
        List<String> out = new ArrayList<>();
        String[] p = new String[6];
        for (int i = 0; i < 6; i++) {
            p[i] = regs.r();
            out.add("cvt.rzi.u32.f32 " + p[i] + ", " + pieces.get(i) + ";");   // an integer float 0..65535: exact
        }
        String k0 = regs.r(), k1 = regs.r(), c0 = regs.r(), c1 = regs.r(), c2 = regs.r(), c3 = regs.r(), t = regs.r(), e = regs.rd();
        out.add("shl.b32 " + t + ", " + p[1] + ", 16;");
        out.add("or.b32 " + k0 + ", " + p[0] + ", " + t + ";");
        out.add("shl.b32 " + t + ", " + p[3] + ", 16;");
        out.add("or.b32 " + k1 + ", " + p[2] + ", " + t + ";");
        out.add("shl.b32 " + t + ", " + p[5] + ", 16;");
        out.add("or.b32 " + c3 + ", " + p[4] + ", " + t + ";");
        out.add("cvt.u32.u64 " + c0 + ", " + element + ";");
        out.add("shr.u64 " + e + ", " + element + ", 32;");
        out.add("cvt.u32.u64 " + c1 + ", " + e + ";");
        out.add("mov.b32 " + c2 + ", " + tensor + ";");
        String hi0 = regs.r(), lo0 = regs.r(), hi1 = regs.r(), lo1 = regs.r();
        for (int round = 0; round < 10; round++) {
            if (round > 0) {
                out.add("add.u32 " + k0 + ", " + k0 + ", " + Integer.toUnsignedString(0x9E3779B9) + ";");
                out.add("add.u32 " + k1 + ", " + k1 + ", " + Integer.toUnsignedString(0xBB67AE85) + ";");
            }
            out.add("mul.hi.u32 " + hi0 + ", " + c0 + ", " + Integer.toUnsignedString(0xD2511F53) + ";");
            out.add("mul.lo.u32 " + lo0 + ", " + c0 + ", " + Integer.toUnsignedString(0xD2511F53) + ";");
            out.add("mul.hi.u32 " + hi1 + ", " + c2 + ", " + Integer.toUnsignedString(0xCD9E8D57) + ";");
            out.add("mul.lo.u32 " + lo1 + ", " + c2 + ", " + Integer.toUnsignedString(0xCD9E8D57) + ";");
            out.add("xor.b32 " + c0 + ", " + hi1 + ", " + c1 + ";");
            out.add("xor.b32 " + c0 + ", " + c0 + ", " + k0 + ";");
            out.add("xor.b32 " + c2 + ", " + hi0 + ", " + c3 + ";");
            out.add("xor.b32 " + c2 + ", " + c2 + ", " + k1 + ";");
            out.add("mov.b32 " + c1 + ", " + lo1 + ";");
            out.add("mov.b32 " + c3 + ", " + lo0 + ";");
        }
        String w = regs.r();
        String f = regs.f();
        out.add("shr.u32 " + w + ", " + List.of(c0, c1, c2, c3).get(word) + ", 8;");
        out.add("cvt.rn.f32.u32 " + f + ", " + w + ";");
        out.add("mul.rn.f32 " + d + ", " + f + ", 0f33800000;");                   // 2^-24
        return out;
    }

    /** {@code d} (f32) = the bf16 pattern in the low half of {@code h} widened: {@code h << 16}. */
    static List<String> widenBf16(String d, String h, Regs regs) {
        String r = regs.r();
        return List.of("shl.b32 " + r + ", " + h + ", 16;", "mov.b32 " + d + ", " + r + ";");
    }

    /** {@code d} (f32) = the f16 pattern {@code h} widened exactly (Narrowing.fromF16Bits), without branches. */
    static List<String> widenF16(String d, String h, Regs regs) {
        String sign = regs.r(), e = regs.r(), m = regs.r(), m13 = regs.r(), t = regs.r(), normal = regs.r(), inf = regs.r(), sub = regs.r(), r = regs.r();
        String fm = regs.f();
        String pz = regs.p(), pinf = regs.p();
        return List.of(
                "and.b32 " + sign + ", " + h + ", 32768;",
                "shl.b32 " + sign + ", " + sign + ", 16;",
                "shr.u32 " + e + ", " + h + ", 10;",
                "and.b32 " + e + ", " + e + ", 31;",
                "and.b32 " + m + ", " + h + ", 1023;",
                "shl.b32 " + m13 + ", " + m + ", 13;",
                "add.u32 " + t + ", " + e + ", 112;",
                "shl.b32 " + t + ", " + t + ", 23;",
                "or.b32 " + normal + ", " + t + ", " + m13 + ";",
                "or.b32 " + inf + ", " + m13 + ", 2139095040;",                 // infinity or NaN, payload kept
                "cvt.rn.f32.u32 " + fm + ", " + m + ";",
                "mul.rn.f32 " + fm + ", " + fm + ", 0f33800000;",               // subnormal: m * 2^-24, exact
                "mov.b32 " + sub + ", " + fm + ";",
                "setp.eq.u32 " + pz + ", " + e + ", 0;",
                "setp.eq.u32 " + pinf + ", " + e + ", 31;",
                "selp.b32 " + r + ", " + sub + ", " + normal + ", " + pz + ";",
                "selp.b32 " + r + ", " + inf + ", " + r + ", " + pinf + ";",
                "or.b32 " + r + ", " + r + ", " + sign + ";",
                "mov.b32 " + d + ", " + r + ";");
    }

    /** {@code d} (b32) = the bf16 pattern of {@code a}, a bf16 value: its top 16 bits. */
    static List<String> bf16Bits(String d, String a, Regs regs) {
        String b = regs.r();
        return List.of("mov.b32 " + b + ", " + a + ";", "shr.u32 " + d + ", " + b + ", 16;");
    }

    /** {@code d} (b32) = the f16 pattern of {@code a}, an f16 value (Narrowing.toF16Bits on an exact value), without branches. */
    static List<String> f16Bits(String d, String a, Regs regs) {
        String b = regs.r(), sign = regs.r(), abs = regs.r(), inf = regs.r(), normal = regs.r(), sub = regs.r(), r = regs.r();
        String fa = regs.f(), fy = regs.f();
        String pn = regs.p(), pi = regs.p();
        return List.of(
                "mov.b32 " + b + ", " + a + ";",
                "shr.u32 " + sign + ", " + b + ", 16;",
                "and.b32 " + sign + ", " + sign + ", 32768;",
                "and.b32 " + abs + ", " + b + ", 2147483647;",
                "shr.u32 " + inf + ", " + abs + ", 13;",
                "and.b32 " + inf + ", " + inf + ", 1023;",
                "or.b32 " + inf + ", " + inf + ", 31744;",                      // 0x7c00 | payload
                "add.u32 " + normal + ", " + abs + ", 3355443200;",              // - 0x38000000
                "shr.u32 " + normal + ", " + normal + ", 13;",
                "mov.b32 " + fa + ", " + abs + ";",
                "mul.rn.f32 " + fy + ", " + fa + ", 0f4B800000;",               // subnormal: |a| * 2^24, an integer
                "cvt.rzi.u32.f32 " + sub + ", " + fy + ";",
                "setp.ge.u32 " + pn + ", " + abs + ", 947912704;",              // 2^-14
                "setp.ge.u32 " + pi + ", " + abs + ", 2139095040;",
                "selp.b32 " + r + ", " + normal + ", " + sub + ", " + pn + ";",
                "selp.b32 " + r + ", " + inf + ", " + r + ", " + pi + ";",
                "or.b32 " + d + ", " + r + ", " + sign + ";");
    }

    private static final long BF16_MASK = 0xffff0000L, F16_MASK = 0xffffe000L;

    /**
     * The NaN case of a narrowing, last: where {@code abs} (the input's bits without the sign) is
     * above infinity's, {@code r} becomes the input made quiet and cut to the type,
     * {@code (b | 0x00400000) & mask} (Narrowing's NaN rule).
     */
    private static List<String> quietNan(String r, String b, String abs, long mask, String q, String pNan) {
        return List.of(
                "or.b32 " + q + ", " + b + ", 4194304;",                          // the quiet bit
                "and.b32 " + q + ", " + q + ", " + mask + ";",
                "setp.gt.u32 " + pNan + ", " + abs + ", 2139095040;",
                "selp.b32 " + r + ", " + q + ", " + r + ", " + pNan + ";");
    }

    /** {@code body}, then {@code tail}, then {@code d} given {@code r}'s bits. */
    private static List<String> joined(List<String> body, List<String> tail, String d, String r) {
        List<String> out = new ArrayList<>(body);
        out.addAll(tail);
        out.add("mov.b32 " + d + ", " + r + ";");
        return out;
    }

    static final String CANONICAL_NAN = "0f7FC00000";
    static final String ONE = "0f3F800000";
    static final String ZERO = "0f00000000";

    /** A float immediate with the exact bits. */
    static String imm(int bits) { return String.format(Locale.ROOT, "0f%08X", bits); }

    private static final class Emitter {
        private final Kernel k;
        private final Mode mode;
        private final Regs regs = new Regs();
        private final List<String> body = new ArrayList<>();
        private final String[] inputReg;
        private final String[] scalarReg;
        private final String[] varReg;
        private final Map<Integer, String> constReg = new LinkedHashMap<>();
        /** Where the element is, for random (set by {@link #findTensor}). */
        private String tensorReg, elementReg;

        Emitter(Kernel k, Mode mode) {
            this.k = k;
            this.mode = mode;
            inputReg = new String[k.inputs().size()];
            scalarReg = new String[k.scalars().size()];
            varReg = new String[k.eqns().size()];
        }

        String emit() {
            boolean[] read = new boolean[k.inputs().size()];
            boolean[] written = new boolean[k.inputs().size()];
            boolean[] scalarUsed = new boolean[k.scalars().size()];
            for (Eqn e : k.eqns()) for (Operand a : e.args()) mark(a, read, scalarUsed);
            for (Kernel.Output o : k.outputs()) {
                mark(o.value(), read, scalarUsed);
                written[o.input()] = true;
            }

            // Global index i = ctaid.x * ntid.x + tid.x in 64 bits; threads past n exit.
            String n = regs.rd(), ctaid = regs.r(), ntid = regs.r(), tid = regs.r();
            String base = regs.rd(), tid64 = regs.rd(), i = regs.rd(), off = regs.rd(), out = regs.p();
            line("ld.param.u64 " + n + ", [p_n];");
            line("mov.u32 " + ctaid + ", %ctaid.x;");
            line("mov.u32 " + ntid + ", %ntid.x;");
            line("mov.u32 " + tid + ", %tid.x;");
            line("mul.wide.u32 " + base + ", " + ctaid + ", " + ntid + ";");
            line("cvt.u64.u32 " + tid64 + ", " + tid + ";");
            line("add.s64 " + i + ", " + base + ", " + tid64 + ";");
            line("setp.ge.u64 " + out + ", " + i + ", " + n + ";");
            line("@" + out + " bra $L_exit;");
            line("shl.b64 " + off + ", " + i + ", 2;");
            String off16 = null;
            if (k.storage().stream().anyMatch(st -> st != Storage.F32)) {
                off16 = regs.rd();
                line("shl.b64 " + off16 + ", " + i + ", 1;");             // 16-bit inputs: 2 bytes per element
            }
            if (k.usesRandom()) findTensor(i);

            // Element addresses of every input read or written, then the loads.
            String[] addr = new String[k.inputs().size()];
            for (int in = 0; in < addr.length; in++) {
                if (!read[in] && !written[in]) continue;
                String ptr = regs.rd(), a = regs.rd();
                line("ld.param.u64 " + ptr + ", [p_in" + in + "];  // " + comment(k.inputs().get(in)));
                line("cvta.to.global.u64 " + ptr + ", " + ptr + ";");
                line("add.s64 " + a + ", " + ptr + ", " + (k.storage(in) == Storage.F32 ? off : off16) + ";");
                addr[in] = a;
            }
            for (int in = 0; in < addr.length; in++) {
                if (!read[in]) continue;
                inputReg[in] = regs.f();
                if (k.storage(in) == Storage.F32) {
                    line("ld.global.f32 " + inputReg[in] + ", [" + addr[in] + "];");
                } else {
                    String h = regs.r();
                    line("ld.global.u16 " + h + ", [" + addr[in] + "];  // " + k.storage(in).mnemonic());
                    body.addAll(k.storage(in) == Storage.BF16 ? widenBf16(inputReg[in], h, regs) : widenF16(inputReg[in], h, regs));
                }
            }
            for (int s = 0; s < scalarReg.length; s++) {
                if (!scalarUsed[s]) continue;
                scalarReg[s] = regs.f();
                line("ld.param.f32 " + scalarReg[s] + ", [p_s" + s + "];  // " + comment(k.scalars().get(s)));
            }

            for (Eqn e : k.eqns()) {
                varReg[e.id()] = regs.f();
                lower(e);
            }

            // Every output value is in a register before the first store: no output reads a stored value.
            String[] outRegs = new String[k.outputs().size()];
            for (int o = 0; o < outRegs.length; o++) outRegs[o] = reg(k.outputs().get(o).value());
            String[] outBits = new String[outRegs.length];
            for (int o = 0; o < outRegs.length; o++) {
                Storage st = k.storage(k.outputs().get(o).input());
                if (st == Storage.F32) continue;
                outBits[o] = regs.r();
                body.addAll(st == Storage.BF16 ? bf16Bits(outBits[o], outRegs[o], regs) : f16Bits(outBits[o], outRegs[o], regs));
            }
            for (int o = 0; o < outRegs.length; o++) {
                int in = k.outputs().get(o).input();
                if (outBits[o] == null) line("st.global.f32 [" + addr[in] + "], " + outRegs[o] + ";  // " + comment(k.inputs().get(in)));
                else line("st.global.u16 [" + addr[in] + "], " + outBits[o] + ";  // " + comment(k.inputs().get(in)) + ", " + k.storage(in).mnemonic());
            }

            StringBuilder sb = new StringBuilder();
            sb.append("// nag4j PTX for kernel '").append(comment(k.name())).append("', mode ").append(mode)
                    .append(", IR sha256 ").append(k.hash()).append('\n');
            sb.append("// .version 7.0 + .target sm_75: the oldest pair ptxas 13 assembles; drivers JIT it for sm_80/sm_90+.\n");
            sb.append(".version ").append(PTX_VERSION).append('\n');
            sb.append(".target ").append(PTX_TARGET).append('\n');
            sb.append(".address_size 64\n\n");
            sb.append(".visible .entry ").append(entryName(k, mode)).append("(\n");
            List<String> params = new ArrayList<>();
            params.add("    .param .u64 p_n");
            for (int in = 0; in < k.inputs().size(); in++) params.add("    .param .u64 p_in" + in);
            if (k.usesRandom()) params.add("    .param .u64 p_tensors");
            for (int s = 0; s < k.scalars().size(); s++) params.add("    .param .f32 p_s" + s);
            sb.append(String.join(",\n", params)).append("\n)\n{\n");
            sb.append("    .reg .pred %p<").append(Math.max(regs.p, 1)).append(">;\n");
            sb.append("    .reg .f32 %f<").append(Math.max(regs.f, 1)).append(">;\n");
            sb.append("    .reg .b32 %r<").append(Math.max(regs.r, 1)).append(">;\n");
            sb.append("    .reg .b64 %rd<").append(Math.max(regs.rd, 1)).append(">;\n\n");
            for (String l : body) sb.append("    ").append(l).append('\n');
            sb.append("$L_exit:\n    ret;\n}\n");
            return sb.toString();
        }

        private void mark(Operand a, boolean[] read, boolean[] scalarUsed) {
            switch (a) {
                case Operand.Input in -> read[in.index()] = true;
                case Operand.Scalar s -> scalarUsed[s.index()] = true;
                case Operand.Const c -> { }
                case Operand.Var v -> { }
            }
        }

        private void line(String s) { body.add(s); }

        /**
         * The element's tensor for random: binary search of the table {@code [T, start_0, ...]}
         * for the last {@code k} with {@code start_k <= i}; {@code tensorReg = k},
         * {@code elementReg = i - start_k}.
         */
        private void findTensor(String i) {
            String table = regs.rd(), lo = regs.rd(), hi = regs.rd(), span = regs.rd(), mid = regs.rd(), at = regs.rd(), start = regs.rd();
            String done = regs.p(), le = regs.p();
            line("ld.param.u64 " + table + ", [p_tensors];  // [T, start_0 .. start_T-1]");
            line("cvta.to.global.u64 " + table + ", " + table + ";");
            line("ld.global.u64 " + hi + ", [" + table + "];");
            line("mov.u64 " + lo + ", 0;");
            body.add("$L_search:");
            line("sub.s64 " + span + ", " + hi + ", " + lo + ";");
            line("setp.le.u64 " + done + ", " + span + ", 1;");
            line("@" + done + " bra $L_found;");
            line("shr.u64 " + mid + ", " + span + ", 1;");
            line("add.s64 " + mid + ", " + lo + ", " + mid + ";");
            line("shl.b64 " + at + ", " + mid + ", 3;");
            line("add.s64 " + at + ", " + table + ", " + at + ";");
            line("add.s64 " + at + ", " + at + ", 8;");
            line("ld.global.u64 " + start + ", [" + at + "];");
            line("setp.le.u64 " + le + ", " + start + ", " + i + ";");
            line("selp.b64 " + lo + ", " + mid + ", " + lo + ", " + le + ";");
            line("selp.b64 " + hi + ", " + hi + ", " + mid + ", " + le + ";");
            line("bra $L_search;");
            body.add("$L_found:");
            line("shl.b64 " + at + ", " + lo + ", 3;");
            line("add.s64 " + at + ", " + table + ", " + at + ";");
            line("add.s64 " + at + ", " + at + ", 8;");
            line("ld.global.u64 " + start + ", [" + at + "];");
            elementReg = regs.rd();
            tensorReg = regs.r();
            line("sub.s64 " + elementReg + ", " + i + ", " + start + ";");
            line("cvt.u32.u64 " + tensorReg + ", " + lo + ";");
        }

        /** The register holding {@code a}; constants are moved into a register once, as exact bits. */
        private String reg(Operand a) {
            return switch (a) {
                case Operand.Input in -> inputReg[in.index()];
                case Operand.Scalar s -> scalarReg[s.index()];
                case Operand.Var v -> varReg[v.id()];
                case Operand.Const c -> constReg.computeIfAbsent(c.bits(), bits -> {
                    String r = regs.f();
                    line("mov.f32 " + r + ", " + imm(bits) + ";  // " + Float.intBitsToFloat(bits));
                    return r;
                });
            };
        }

        private void lower(Eqn e) {
            List<Operand> args = e.args();
            String a = reg(args.get(0));
            String b = args.size() > 1 ? reg(args.get(1)) : null;
            String c = args.size() > 2 ? reg(args.get(2)) : null;
            String d = varReg[e.id()];
            String rn = ".rn"; // in both modes: FAST's fusion is in the IR, never ptxas's
            switch (e.op()) {
                case ADD -> line("add" + rn + ".f32 " + d + ", " + a + ", " + b + ";");
                case SUB -> line("sub" + rn + ".f32 " + d + ", " + a + ", " + b + ";");
                case MUL -> line("mul" + rn + ".f32 " + d + ", " + a + ", " + b + ";");
                case DIV -> line("div.rn.f32 " + d + ", " + a + ", " + b + ";");
                case NEG -> line("neg.f32 " + d + ", " + a + ";");
                case SQRT -> line("sqrt.rn.f32 " + d + ", " + a + ";");
                case ABS -> line("abs.f32 " + d + ", " + a + ";");
                case MIN, MAX -> body.addAll(minMax(e.op() == Op.MAX, d, a, b, regs));
                case FMA -> line("fma.rn.f32 " + d + ", " + a + ", " + b + ", " + c + ";");
                case BF16 -> body.addAll(bf16(d, a, regs));
                case F16 -> body.addAll(f16(d, a, regs));
                case BF16_SR -> body.addAll(bf16Stochastic(d, a, b, regs));
                case F16_SR -> body.addAll(f16Stochastic(d, a, b, regs));
                case RANDOM -> body.addAll(random(d, (int) ((Operand.Const) args.get(0)).value(),
                        args.subList(1, 7).stream().map(this::reg).toList(), tensorReg, elementReg, regs));
                // Ordered compares are false with NaN, as Java's <, <=, >, >=, ==; unordered-or-not-equal
                // is true with NaN, as Java's !=.
                case LT, LE, GT, GE, EQ, NE -> {
                    String p = regs.p();
                    line("setp." + compare(e.op()) + ".f32 " + p + ", " + a + ", " + b + ";");
                    line("selp.f32 " + d + ", " + ONE + ", " + ZERO + ", " + p + ";");
                }
                // c != 0 ? a : b, with NaN c true (neu) and -0 equal to 0.
                case SELECT -> {
                    String p = regs.p();
                    line("setp.neu.f32 " + p + ", " + a + ", " + ZERO + ";");
                    line("selp.f32 " + d + ", " + b + ", " + c + ", " + p + ";");
                }
            }
        }

        private static String compare(Op op) {
            return switch (op) {
                case LT -> "lt";
                case LE -> "le";
                case GT -> "gt";
                case GE -> "ge";
                case EQ -> "eq";
                case NE -> "neu";
                default -> throw new IllegalArgumentException("not a comparison: " + op);
            };
        }
    }

    /** A name safe inside a {@code //} comment: a newline or other control character would end it early. */
    private static String comment(String name) { return name.replaceAll("[^\\x20-\\x7e]", "?"); }

    /** The {@code ptx} target, found by {@link java.util.ServiceLoader}. */
    public static final class Provider implements io.nag4j.gpu.plan.Renderer {
        @Override public String target() { return "ptx"; }
        @Override public String render(Kernel kernel, Mode mode) { return PtxRenderer.render(kernel, mode); }
    }
}
