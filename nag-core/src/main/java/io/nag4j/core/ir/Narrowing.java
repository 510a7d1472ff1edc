package io.nag4j.core.ir;

/**
 * Rounding a float32 to bfloat16 or float16 and back, as one exact integer definition on the
 * float32 bits (what {@link Op#BF16} and {@link Op#F16} mean; every target lowers these lines):
 *
 * <ul>
 *   <li><b>Round to nearest, ties to even</b> on the significand kept (bf16: 8 bits, f16: 11);
 *       f16's subnormals (multiples of 2^-24 below 2^-14) are rounded the same way.</li>
 *   <li><b>Overflow</b> to infinity of the same sign, as IEEE 754 says for round-to-nearest:
 *       bf16 from {@code 0x7f7f8000} up (half an ulp above its largest finite value), f16 from
 *       65520.</li>
 *   <li><b>NaN</b> stays NaN, made quiet, keeping the sign and the top payload bits the type holds:
 *       {@code (bits | 0x00400000) & mask}.</li>
 * </ul>
 *
 * The result is the narrowed value widened back to float32 (exact: every bf16 and f16 value is a
 * float32), so it flows through float32 kernels; its bits are those of the 16-bit value
 * ({@link #toBf16Bits}, {@link #toF16Bits} give the 16-bit patterns, {@link #fromBf16Bits},
 * {@link #fromF16Bits} widen them).
 */
public final class Narrowing {
    private Narrowing() {}

    /** x rounded to the nearest bfloat16 (ties to even), as a float32. */
    public static float bf16(float x) {
        int b = Float.floatToRawIntBits(x);
        if ((b & 0x7fffffff) > 0x7f800000) return Float.intBitsToFloat((b | 0x00400000) & 0xffff0000);
        return Float.intBitsToFloat((b + 0x7fff + ((b >>> 16) & 1)) & 0xffff0000);
    }

    /** x rounded to the nearest float16 (ties to even, subnormals kept), as a float32. */
    public static float f16(float x) {
        int b = Float.floatToRawIntBits(x), sign = b & 0x80000000, a = b & 0x7fffffff;
        if (a > 0x7f800000) return Float.intBitsToFloat((b | 0x00400000) & 0xffffe000);
        if (a >= 0x477ff000) return Float.intBitsToFloat(sign | 0x7f800000);
        if (a >= 0x38800000) return Float.intBitsToFloat(sign | ((a + 0xfff + ((a >>> 13) & 1)) & 0xffffe000));
        // Below 2^-14 f16 steps by 2^-24: adding 0.5 (whose ulp is 2^-24) rounds |x| there, ties to even; the subtraction is exact.
        return Float.intBitsToFloat(sign | Float.floatToRawIntBits((Float.intBitsToFloat(a) + 0.5f) - 0.5f));
    }

    /**
     * Stochastic rounding to bfloat16: {@code x} rounded toward zero to bf16 ({@code lo}, the top
     * 16 bits), then one bf16 ulp away from zero when {@code frac > 0 && u < frac}, where
     * {@code frac = (bits & 0xffff) * 2^-16} is the exact fraction of an ulp the truncation
     * dropped. With {@code u} uniform on multiples of 2^-24 in [0, 1) (what {@link Op#RANDOM}
     * gives) the result is {@code x}'s upper neighbour with probability {@code frac}, so its
     * expectation is {@code x}. Exact values and infinities stay; past the largest finite bf16
     * the step away reaches infinity; NaN as {@link #bf16}.
     */
    public static float bf16Stochastic(float x, float u) {
        int b = Float.floatToRawIntBits(x);
        if ((b & 0x7fffffff) > 0x7f800000) return Float.intBitsToFloat((b | 0x00400000) & 0xffff0000);
        float frac = (b & 0xffff) * 0x1p-16f;
        int lo = b & 0xffff0000;
        return Float.intBitsToFloat(frac > 0f && u < frac ? lo + 0x10000 : lo);
    }

    /**
     * Stochastic rounding to float16, the rule of {@link #bf16Stochastic} on f16's grid: from
     * 2^-14 to 2^16 the dropped fraction is {@code (|bits| & 0x1fff) * 2^-13} and a step past
     * 65504 is infinity; below 2^-14 (f16's subnormals, multiples of 2^-24) it is
     * {@code y - floor(y)} for {@code y = |x| * 2^24} (exact); from 2^16 up, infinity of
     * {@code x}'s sign; NaN as {@link #f16}.
     */
    public static float f16Stochastic(float x, float u) {
        int b = Float.floatToRawIntBits(x), sign = b & 0x80000000, a = b & 0x7fffffff;
        if (a > 0x7f800000) return Float.intBitsToFloat((b | 0x00400000) & 0xffffe000);
        if (a >= 0x47800000) return Float.intBitsToFloat(sign | 0x7f800000);
        if (a >= 0x38800000) {
            float frac = (a & 0x1fff) * 0x1p-13f;
            int m = a & 0xffffe000;
            if (frac > 0f && u < frac) m += 0x2000;
            return Float.intBitsToFloat(sign | (m >= 0x47800000 ? 0x7f800000 : m));
        }
        float y = Float.intBitsToFloat(a) * 0x1p24f;
        float f = (float) Math.floor(y);
        float frac = y - f;
        if (frac > 0f && u < frac) f += 1f;
        return Float.intBitsToFloat(sign | Float.floatToRawIntBits(f * 0x1p-24f));
    }

    /** Whether {@code x} is a bfloat16 value (its low 16 bits are zero; NaNs included, signalling ones too). */
    public static boolean isBf16(float x) { return (Float.floatToRawIntBits(x) & 0xffff) == 0; }

    /** Whether {@code x} is a float16 value (a NaN: its payload fits float16's 10 bits, signalling ones too). */
    public static boolean isF16(float x) {
        int b = Float.floatToRawIntBits(x);
        if (Float.isNaN(x)) return (b & 0x1fff) == 0;
        return Float.floatToRawIntBits(f16(x)) == b;
    }

    /** The bfloat16 pattern of a bfloat16 value ({@link #isBf16}): its top 16 bits, nothing rounded or quieted. */
    public static short bf16Pattern(float x) { return (short) (Float.floatToRawIntBits(x) >>> 16); }

    /** The float16 pattern of a float16 value ({@link #isF16}): nothing rounded, a NaN's payload as it is. */
    public static short f16Pattern(float x) {
        int b = Float.floatToRawIntBits(x), sign = (b >>> 16) & 0x8000, a = b & 0x7fffffff;
        if (a >= 0x7f800000) return (short) (sign | 0x7c00 | ((a >>> 13) & 0x3ff));
        if (a >= 0x38800000) return (short) (sign | ((a - 0x38000000) >>> 13));
        return (short) (sign | Math.round(Float.intBitsToFloat(a) * 0x1p24f));
    }

    /** The bfloat16 bit pattern of {@code x} rounded to nearest. */
    public static short toBf16Bits(float x) { return (short) (Float.floatToRawIntBits(bf16(x)) >>> 16); }

    /** A bfloat16 bit pattern widened to float32 (exact). */
    public static float fromBf16Bits(short h) { return Float.intBitsToFloat((h & 0xffff) << 16); }

    /** The float16 bit pattern of {@code x} rounded to nearest (NaN quiet, as {@link #f16}). */
    public static short toF16Bits(float x) {
        int b = Float.floatToRawIntBits(f16(x)), sign = (b >>> 16) & 0x8000, a = b & 0x7fffffff;
        if (a >= 0x7f800000) return (short) (sign | 0x7c00 | ((a >>> 13) & 0x3ff));
        if (a >= 0x38800000) return (short) (sign | ((a - 0x38000000) >>> 13));
        return (short) (sign | Math.round(Float.intBitsToFloat(a) * 0x1p24f)); // a multiple of 2^-24: exact
    }

    /** A float16 bit pattern widened to float32 (exact). */
    public static float fromF16Bits(short h) {
        int sign = (h & 0x8000) << 16, e = (h >>> 10) & 0x1f, m = h & 0x3ff;
        if (e == 0x1f) return Float.intBitsToFloat(sign | 0x7f800000 | (m << 13));
        if (e == 0) return Float.intBitsToFloat(sign | Float.floatToRawIntBits(m * 0x1p-24f));
        return Float.intBitsToFloat(sign | ((e + 112) << 23) | (m << 13));
    }
}
