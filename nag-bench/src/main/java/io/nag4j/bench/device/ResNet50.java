package io.nag4j.bench.device;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parameter shapes of torchvision's ResNet-50 ({@code resnet50().named_parameters()}, in that
 * order): 161 tensors, 25,557,032 floats. Many small tensors (batch-norm vectors of 64 floats)
 * beside large convolutions: the case where one launch over a packed ParamSet pays off.
 */
final class ResNet50 {
    private ResNet50() {}

    static Map<String, long[]> shapes() {
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put("conv1.weight", new long[] {64, 3, 7, 7});
        batchNorm(m, "bn1", 64);
        int[] blocks = {3, 4, 6, 3};
        int inplanes = 64;
        for (int layer = 0; layer < 4; layer++) {
            int planes = 64 << layer, out = planes * 4;
            for (int b = 0; b < blocks[layer]; b++) {
                String p = "layer" + (layer + 1) + "." + b + ".";
                m.put(p + "conv1.weight", new long[] {planes, inplanes, 1, 1});
                batchNorm(m, p + "bn1", planes);
                m.put(p + "conv2.weight", new long[] {planes, planes, 3, 3});
                batchNorm(m, p + "bn2", planes);
                m.put(p + "conv3.weight", new long[] {out, planes, 1, 1});
                batchNorm(m, p + "bn3", out);
                if (b == 0) {
                    m.put(p + "downsample.0.weight", new long[] {out, inplanes, 1, 1});
                    batchNorm(m, p + "downsample.1", out);
                }
                inplanes = out;
            }
        }
        m.put("fc.weight", new long[] {1000, 2048});
        m.put("fc.bias", new long[] {1000});
        return m;
    }

    private static void batchNorm(Map<String, long[]> m, String prefix, int channels) {
        m.put(prefix + ".weight", new long[] {channels});
        m.put(prefix + ".bias", new long[] {channels});
    }

    static long elements() {
        long n = 0;
        for (long[] s : shapes().values()) {
            long e = 1;
            for (long d : s) e *= d;
            n += e;
        }
        return n;
    }

    static List<String> names() { return new ArrayList<>(shapes().keySet()); }
}
