package io.nag4j.bench.device;

import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The ParamSets the benchmarks time, generated in code: one tensor of any size, ResNet-50's 161
 * tensors, BERT-base's 199, and many small tensors (the per-tensor cost large models pay), filled
 * with defined values (no NaN or subnormal slow paths).
 */
public final class Workloads {
    private Workloads() {}

    /** One tensor "w" of {@code n} elements. */
    public static Map<String, long[]> single(long n) { return Map.of("w", new long[] {n}); }

    /** Params of these shapes: defined values near 1 (no NaN or subnormal slow paths). */
    public static ParamSet params(Map<String, long[]> shapes) { return filled(shapes, (t, i) -> 1f + ((i + t) % 1000) * 1e-3f); }

    /** Updates of these shapes: small values of both signs. */
    public static ParamSet updates(Map<String, long[]> shapes) { return filled(shapes, (t, i) -> (((i + t) * 7919) % 2001 - 1000) * 1e-6f); }

    private interface Fill { float at(long tensor, long element); }

    private static ParamSet filled(Map<String, long[]> shapes, Fill fill) {
        List<Tensor> out = new java.util.ArrayList<>();
        try {
            for (var e : shapes.entrySet()) {
                Tensor t = Tensor.zeros(e.getKey(), e.getValue());
                out.add(t);
                MemorySegment s = t.segment();
                for (long i = 0; i < t.size(); i++) s.setAtIndex(Tensor.F32, i, fill.at(out.size() - 1, i));
            }
        } catch (RuntimeException e) {
            out.forEach(Tensor::close);
            throw e;
        }
        return new ParamSet(out);
    }

    /** ResNet-50's parameter shapes (torchvision order). */
    public static Map<String, long[]> resnet50() { return ResNet50.shapes(); }

    /**
     * BERT-base-uncased's parameter shapes (Hugging Face {@code BertModel.named_parameters()}: 199
     * tensors, 109,482,240 floats): embeddings, 12 encoder layers of attention and feed-forward
     * weights with their biases and layer norms, and the pooler.
     */
    public static Map<String, long[]> bertBase() {
        int hidden = 768, ff = 3072;
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put("embeddings.word_embeddings.weight", new long[] {30522, hidden});
        m.put("embeddings.position_embeddings.weight", new long[] {512, hidden});
        m.put("embeddings.token_type_embeddings.weight", new long[] {2, hidden});
        layerNorm(m, "embeddings.LayerNorm", hidden);
        for (int l = 0; l < 12; l++) {
            String p = "encoder.layer." + l + ".";
            for (String qkv : new String[] {"query", "key", "value"}) linear(m, p + "attention.self." + qkv, hidden, hidden);
            linear(m, p + "attention.output.dense", hidden, hidden);
            layerNorm(m, p + "attention.output.LayerNorm", hidden);
            linear(m, p + "intermediate.dense", ff, hidden);
            linear(m, p + "output.dense", hidden, ff);
            layerNorm(m, p + "output.LayerNorm", hidden);
        }
        linear(m, "pooler.dense", hidden, hidden);
        return m;
    }

    private static void linear(Map<String, long[]> m, String prefix, int out, int in) {
        m.put(prefix + ".weight", new long[] {out, in});
        m.put(prefix + ".bias", new long[] {out});
    }

    private static void layerNorm(Map<String, long[]> m, String prefix, int n) {
        m.put(prefix + ".weight", new long[] {n});
        m.put(prefix + ".bias", new long[] {n});
    }

    /** {@code count} tensors of {@code size} elements each. */
    public static Map<String, long[]> many(int count, long size) {
        Map<String, long[]> m = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) m.put("t" + i, new long[] {size});
        return m;
    }

    /** Elements in a ParamSet of these shapes. */
    public static long elements(Map<String, long[]> shapes) {
        long n = 0;
        for (long[] s : shapes.values()) {
            long e = 1;
            for (long d : s) e *= d;
            n += e;
        }
        return n;
    }
}
