package io.nag4j.core.ir;

/**
 * Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11; Random123's
 * {@code philox4x32_10}), the counter-based generator behind {@link Op#RANDOM}: a pure function of
 * a 128-bit counter and a 64-bit key, so every element's random bits are the same whatever runs
 * it, in whatever order, with however many threads.
 *
 * <p>nag4j's use, the definition another implementation reproduces (docs/mixed-precision.md):
 * counter {@code (element mod 2^32, element >>> 32, tensor, step mod 2^32)}, key
 * {@code (seed mod 2^32, seed >>> 32)}, where {@code element} is the element's index within its
 * tensor, {@code tensor} the tensor's index in the binding's ParamSet and {@code step} the step
 * being taken (1 for the first); output word {@code j} gives the uniform
 * {@code (word >>> 8) * 2^-24}.
 */
public final class Philox {
    private static final int M0 = 0xD2511F53, M1 = 0xCD9E8D57, W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    private Philox() {}

    /** Word {@code j} (0..3) of Philox-4x32-10 of counter {@code (c0, c1, c2, c3)} under key {@code (k0, k1)}. */
    public static int word(int c0, int c1, int c2, int c3, int k0, int k1, int j) {
        for (int round = 0; round < 10; round++) {
            long p0 = (M0 & 0xffffffffL) * (c0 & 0xffffffffL);
            long p1 = (M1 & 0xffffffffL) * (c2 & 0xffffffffL);
            int n0 = (int) (p1 >>> 32) ^ c1 ^ k0;
            int n2 = (int) (p0 >>> 32) ^ c3 ^ k1;
            c1 = (int) p1;
            c3 = (int) p0;
            c0 = n0;
            c2 = n2;
            k0 += W0; // the next round's key (unused after the last)
            k1 += W1;
        }
        return switch (j) {
            case 0 -> c0;
            case 1 -> c1;
            case 2 -> c2;
            case 3 -> c3;
            default -> throw new IllegalArgumentException("Philox-4x32 has words 0..3, not " + j);
        };
    }

    /** The uniform in [0, 1) of word {@code j} for this element: {@code (word >>> 8) * 2^-24}, exact. */
    public static float uniform(long seed, long step, int tensor, long element, int j) {
        int w = word((int) element, (int) (element >>> 32), tensor, (int) step, (int) seed, (int) (seed >>> 32), j);
        return (w >>> 8) * 0x1p-24f;
    }

    /**
     * {@link #uniform(long, long, int, long, int)} with the seed and step as {@link Op#RANDOM}'s
     * arguments carry them: 16-bit pieces as integer floats, low first.
     */
    public static float uniform(int j, float seed0, float seed1, float seed2, float seed3, float step0, float step1, int tensor, long element) {
        long seed = piece(seed0) | piece(seed1) << 16 | piece(seed2) << 32 | piece(seed3) << 48;
        long step = piece(step0) | piece(step1) << 16;
        return uniform(seed, step, tensor, element, j);
    }

    private static long piece(float p) { return ((int) p) & 0xffffL; }

    /** Piece {@code i} (0 = lowest 16 bits) of {@code value}, as the integer float a kernel scalar carries. */
    public static float piece(long value, int i) { return (float) ((value >>> (16 * i)) & 0xffff); }
}
