package io.nag4j.bench.cli;

import io.nag4j.core.golden.Bits;
import io.nag4j.core.io.Safetensors;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Rules;
import io.nag4j.core.tensor.Tensor;
import io.nag4j.gpu.device.DeviceUnavailableException;
import io.nag4j.gpu.plan.Drivers;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every optimizer replayed through {@code nag4j replay} on every backend gives the same file
 * contents bit for bit: random trajectories with special values, odd shapes, a scalar param,
 * and non-default hyperparameters. OpenCL runs when a platform exists (required in CI).
 */
class ReplayBackendsAgreeTest {
    @TempDir
    Path dir;

    /**
     * Why OpenCL cannot be used here, or null when it can. With NAG4J_REQUIRE_OPENCL=1 (CI) a
     * missing platform or device fails the test instead.
     */
    static String openClMissing() {
        String why;
        try {
            if (!Drivers.get("opencl").devices().isEmpty()) return null;
            why = "no OpenCL device";
        } catch (DeviceUnavailableException e) {
            why = e.getMessage();
        }
        if (io.nag4j.core.testing.Requires.required("OPENCL")) fail("NAG4J_REQUIRE_OPENCL=1 but: " + why);
        return why;
    }

    static void openClOrSkip() {
        io.nag4j.core.testing.Requires.available("OPENCL", openClMissing());
    }

    static List<Rule> rules() { return Rules.all(); }

    static float special(Random rnd) {
        return switch (rnd.nextInt(40)) {
            case 0 -> Float.NaN;
            case 1 -> rnd.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
            case 2 -> rnd.nextBoolean() ? 0f : -0f;
            case 3 -> Float.MIN_VALUE * (1 + rnd.nextInt(1 << 20)) * (rnd.nextBoolean() ? 1 : -1);
            case 4 -> (rnd.nextBoolean() ? 1 : -1) * Float.MAX_VALUE / (1 + rnd.nextInt(4));
            default -> (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(9) - 4));
        };
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rules")
    void everyBackendReplaysToTheSameBits(Rule rule) throws IOException {
        replayOnEveryBackend(rule, "exact");
    }

    /** FAST (the fused kernels) is as reproducible: every backend replays to the same bits, and they are not EXACT's. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("rules")
    void everyBackendReplaysFastModeToTheSameBits(Rule rule) throws IOException {
        Map<String, float[]> fast = replayOnEveryBackend(rule, "fast");
        if (io.nag4j.core.optim.Mode.FAST.kernel(rule.kernel()) == rule.kernel()) return;
        Map<String, float[]> exact = replayOnEveryBackend(rule, "exact");
        boolean differs = false;
        for (var e : fast.entrySet()) {
            float[] a = e.getValue(), b = exact.get(e.getKey());
            for (int i = 0; i < a.length && !differs; i++) differs = Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i]) && !(Float.isNaN(a[i]) && Float.isNaN(b[i]));
        }
        org.junit.jupiter.api.Assertions.assertTrue(differs, rule.name() + ": FAST fused something, so some bit should differ from EXACT");
    }

    /** Replays one trajectory on every backend in {@code mode}; every result equals the first backend's. Returns it. */
    private Map<String, float[]> replayOnEveryBackend(Rule rule, String mode) throws IOException {
        Random rnd = new Random(rule.name().hashCode() * 31L + 5);
        long[][] shapes = {{7}, {3, 5}, {}, {1031}, {2, 0}};
        int steps = 40;
        List<Tensor> ps = new ArrayList<>(), us = new ArrayList<>();
        try {
            for (int i = 0; i < shapes.length; i++) {
                Tensor p = Tensor.zeros("layer" + i + ".w", shapes[i]);
                long[] ushape = new long[shapes[i].length + 1];
                ushape[0] = steps;
                System.arraycopy(shapes[i], 0, ushape, 1, shapes[i].length);
                Tensor u = Tensor.zeros("layer" + i + ".w", ushape);
                for (long e = 0; e < p.size(); e++) p.set(e, special(rnd));
                for (long e = 0; e < u.size(); e++) u.set(e, special(rnd));
                ps.add(p);
                us.add(u);
            }
            Path p = dir.resolve("P.safetensors"), u = dir.resolve("U.safetensors");
            Safetensors.write(p, ps, Map.of());
            Safetensors.write(u, us, Map.of());
            // Non-default values: each hyperparameter nudged (flags such as nesterov stay 0 or 1).
            List<String> hpArgs = new ArrayList<>();
            rule.defaults().asMap().forEach((k, v) -> {
                float x = (v == 0f || v == 1f) ? v : v * 1.25f;
                hpArgs.add("--hp");
                hpArgs.add(k + "=" + Float.toHexString(x));
            });
            List<String> backends = mode.equals("fast") ? fastBackends() : backends();
            Map<String, float[]> first = null;
            String firstBackend = null;
            for (String b : backends) {
                Path o = dir.resolve("O-" + b.replace(':', '_') + ".safetensors");
                List<String> args = new ArrayList<>(List.of("replay", "--optimizer", rule.name(), "--params", p.toString(),
                        "--updates", u.toString(), "--out", o.toString(), "--backend", b, "--mode", mode));
                args.addAll(hpArgs);
                StringWriter out = new StringWriter(), err = new StringWriter();
                int code = Main.run(new PrintWriter(out), new PrintWriter(err), args.toArray(String[]::new));
                assertEquals(0, code, rule.name() + " " + mode + " on " + b + ": " + err);
                Map<String, float[]> got = new java.util.LinkedHashMap<>();
                try (Safetensors.Contents c = Safetensors.read(o)) {
                    assertEquals(String.valueOf(steps), c.metadata().get("step"));
                    for (Tensor t : c.tensors()) got.put(t.name(), t.toArray());
                }
                if (first == null) {
                    first = got;
                    firstBackend = b;
                    continue;
                }
                assertEquals(first.keySet(), got.keySet(), "tensor names on " + b);
                for (var e : first.entrySet()) {
                    Bits.assertSame(e.getValue(), got.get(e.getKey()), rule.name() + " " + mode + " " + e.getKey() + ": " + b + " vs " + firstBackend);
                }
            }
            return first;
        } finally {
            ps.forEach(Tensor::close);
            us.forEach(Tensor::close);
        }
    }

    /** The backends compared in FAST mode: those of {@link #backends()} unless a subclass knows one refuses FAST. */
    protected List<String> fastBackends() { return backends(); }

    /** The backends compared, the first being the one the others are held to. */
    protected List<String> backends() {
        List<String> backends = new ArrayList<>(List.of("reference", "cpu"));
        openClOrSkipSoft(backends);
        return backends;
    }

    /** Adds opencl to the backends when a platform exists; in CI (NAG4J_REQUIRE_OPENCL=1) it must. */
    static void openClOrSkipSoft(List<String> backends) {
        String why = openClMissing();
        if (why == null) backends.add("opencl:0");
        else System.err.println("ReplayBackendsAgreeTest: OpenCL not compared: " + why);
    }
}
