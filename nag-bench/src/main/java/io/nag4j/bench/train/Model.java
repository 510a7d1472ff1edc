package io.nag4j.bench.train;

import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;

import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * A small classifier trained in plain Java with hand-written gradients: the loss and every
 * gradient are float32 computations in a fixed order (transcendentals through {@link StrictMath}),
 * so the same params give the same bits on every machine, and any difference between backends is
 * the optimizer's.
 */
public interface Model {
    /** {@code softmax} or {@code mlp}. */
    String name();

    /** The params at init, seeded, named as a checkpoint names them. */
    ParamSet init(long seed);

    /** Mean cross-entropy of {@code batch} under {@code params}; writes its gradient into {@code grads} (named as the params). */
    float lossAndGradients(ParamSet params, Data.Batch batch, ParamSet grads);

    /** A model by name, for {@code data}'s features and classes. */
    static Model of(String name, Data data) {
        return switch (name == null ? "" : name.strip().toLowerCase(Locale.ROOT)) {
            case "softmax" -> new Softmax(data.features(), data.classes());
            case "mlp" -> new Mlp(data.features(), 32, data.classes());
            default -> throw new IllegalArgumentException("unknown model '" + name + "'; known: softmax, mlp");
        };
    }

    /** Softmax regression: logits = W x + b. */
    record Softmax(int d, int c) implements Model {
        @Override public String name() { return "softmax"; }

        @Override
        public ParamSet init(long seed) {
            SplittableRandom r = new SplittableRandom(seed);
            return new ParamSet(List.of(gaussian("W", r, 0.1, c, d), Tensor.zeros("b", c)));
        }

        @Override
        public float lossAndGradients(ParamSet params, Data.Batch batch, ParamSet grads) {
            float[] w = params.get(0).toArray(), b = params.get(1).toArray();
            float[] gw = new float[w.length], gb = new float[b.length];
            float[] logits = new float[c];
            float loss = 0f, inv = 1f / batch.size();
            for (int s = 0; s < batch.size(); s++) {
                float[] x = batch.x(s);
                for (int k = 0; k < c; k++) {
                    float z = b[k];
                    for (int j = 0; j < d; j++) z += w[k * d + j] * x[j];
                    logits[k] = z;
                }
                loss += softmaxInPlace(logits, batch.label(s)) * inv;
                // d loss / d logit = softmax - onehot, averaged over the batch
                for (int k = 0; k < c; k++) {
                    float g = (logits[k] - (k == batch.label(s) ? 1f : 0f)) * inv;
                    gb[k] += g;
                    for (int j = 0; j < d; j++) gw[k * d + j] += g * x[j];
                }
            }
            grads.get(0).copyFrom(gw);
            grads.get(1).copyFrom(gb);
            return loss;
        }
    }

    /** Two layers: h = tanh(W1 x + b1), logits = W2 h + b2. */
    record Mlp(int d, int h, int c) implements Model {
        @Override public String name() { return "mlp"; }

        @Override
        public ParamSet init(long seed) {
            SplittableRandom r = new SplittableRandom(seed);
            return new ParamSet(List.of(gaussian("W1", r, 1 / Math.sqrt(d), h, d), Tensor.zeros("b1", h),
                    gaussian("W2", r, 1 / Math.sqrt(h), c, h), Tensor.zeros("b2", c)));
        }

        @Override
        public float lossAndGradients(ParamSet params, Data.Batch batch, ParamSet grads) {
            float[] w1 = params.get(0).toArray(), b1 = params.get(1).toArray(), w2 = params.get(2).toArray(), b2 = params.get(3).toArray();
            float[] gw1 = new float[w1.length], gb1 = new float[b1.length], gw2 = new float[w2.length], gb2 = new float[b2.length];
            float[] hid = new float[h], logits = new float[c], dh = new float[h];
            float loss = 0f, inv = 1f / batch.size();
            for (int s = 0; s < batch.size(); s++) {
                float[] x = batch.x(s);
                for (int i = 0; i < h; i++) {
                    float z = b1[i];
                    for (int j = 0; j < d; j++) z += w1[i * d + j] * x[j];
                    hid[i] = (float) StrictMath.tanh(z);
                }
                for (int k = 0; k < c; k++) {
                    float z = b2[k];
                    for (int i = 0; i < h; i++) z += w2[k * h + i] * hid[i];
                    logits[k] = z;
                }
                loss += softmaxInPlace(logits, batch.label(s)) * inv;
                java.util.Arrays.fill(dh, 0f);
                for (int k = 0; k < c; k++) {
                    float g = (logits[k] - (k == batch.label(s) ? 1f : 0f)) * inv;
                    gb2[k] += g;
                    for (int i = 0; i < h; i++) {
                        gw2[k * h + i] += g * hid[i];
                        dh[i] += g * w2[k * h + i];
                    }
                }
                for (int i = 0; i < h; i++) {
                    float g = dh[i] * (1f - hid[i] * hid[i]); // tanh' = 1 - tanh^2
                    gb1[i] += g;
                    for (int j = 0; j < d; j++) gw1[i * d + j] += g * x[j];
                }
            }
            grads.get(0).copyFrom(gw1);
            grads.get(1).copyFrom(gb1);
            grads.get(2).copyFrom(gw2);
            grads.get(3).copyFrom(gb2);
            return loss;
        }
    }

    /** Replaces {@code logits} by their softmax (max-shifted); returns the cross-entropy of {@code label}. */
    private static float softmaxInPlace(float[] logits, int label) {
        float max = Float.NEGATIVE_INFINITY;
        for (float z : logits) max = Math.max(max, z);
        float sum = 0f;
        for (int k = 0; k < logits.length; k++) {
            logits[k] = (float) StrictMath.exp(logits[k] - max);
            sum += logits[k];
        }
        for (int k = 0; k < logits.length; k++) logits[k] /= sum;
        return -(float) StrictMath.log(Math.max(logits[label], Float.MIN_NORMAL));
    }

    private static Tensor gaussian(String name, SplittableRandom r, double scale, int rows, int cols) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) v[i] = (float) (Data.gaussian(r) * scale);
        return Tensor.of(name, v, rows, cols);
    }
}
