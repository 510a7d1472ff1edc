package io.nag4j.bench.train;

import java.util.SplittableRandom;

/**
 * A seeded classification set made in code: {@code samples} points of {@code features} gaussian
 * features, labelled by a random linear teacher (the argmax of its scores plus a little noise),
 * so a softmax can learn most of it and an MLP a little more. Batches walk a seeded permutation,
 * one epoch after another: batch {@code t} (1 for the first step) depends only on the seed and
 * {@code t}, so a resumed run sees the batches an uninterrupted one would.
 */
public final class Data {
    private final int features, classes;
    private final float[][] x;
    private final int[] labels;
    private final long seed;

    public Data(long seed, int samples, int features, int classes) {
        if (samples < 1 || features < 1 || classes < 2) throw new IllegalArgumentException("bad data shape");
        this.seed = seed;
        this.features = features;
        this.classes = classes;
        SplittableRandom r = new SplittableRandom(seed ^ 0x5DEECE66DL);
        double[][] teacher = new double[classes][features];
        for (double[] row : teacher) for (int j = 0; j < features; j++) row[j] = gaussian(r);
        x = new float[samples][features];
        labels = new int[samples];
        for (int s = 0; s < samples; s++) {
            for (int j = 0; j < features; j++) x[s][j] = (float) gaussian(r);
            int best = 0;
            double bestScore = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < classes; k++) {
                double score = 0.3 * gaussian(r);
                for (int j = 0; j < features; j++) score += teacher[k][j] * x[s][j];
                if (score > bestScore) {
                    bestScore = score;
                    best = k;
                }
            }
            labels[s] = best;
        }
    }

    public int features() { return features; }

    public int classes() { return classes; }

    public int samples() { return labels.length; }

    /** A batch: views of the samples it holds. */
    public record Batch(float[][] xs, int[] labels) {
        public int size() { return labels.length; }
        public float[] x(int i) { return xs[i]; }
        public int label(int i) { return labels[i]; }
    }

    /** Batch {@code t} (1 for the first step) of {@code size} samples. */
    public Batch batch(long t, int size) {
        if (size < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + size);
        int n = samples();
        long first = (t - 1) * size;
        float[][] xs = new float[size][];
        int[] ls = new int[size];
        long epoch = -1;
        int[] perm = null;
        for (int i = 0; i < size; i++) {
            long at = first + i;
            long e = at / n;
            if (e != epoch) {
                epoch = e;
                perm = permutation(e);
            }
            int s = perm[(int) (at % n)];
            xs[i] = x[s];
            ls[i] = labels[s];
        }
        return new Batch(xs, ls);
    }

    private int[] permutation(long epoch) {
        int n = samples();
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        SplittableRandom r = new SplittableRandom(seed * 31 + epoch);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int tmp = p[i];
            p[i] = p[j];
            p[j] = tmp;
        }
        return p;
    }

    /** A standard normal from {@code r} (Box-Muller with StrictMath: the same on every JVM). */
    static double gaussian(SplittableRandom r) {
        double u = 1.0 - r.nextDouble(), v = r.nextDouble();
        return StrictMath.sqrt(-2 * StrictMath.log(u)) * StrictMath.cos(2 * StrictMath.PI * v);
    }
}
