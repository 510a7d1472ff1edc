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
