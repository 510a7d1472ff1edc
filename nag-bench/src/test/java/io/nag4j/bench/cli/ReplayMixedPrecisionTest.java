package io.nag4j.bench.cli;

import io.nag4j.core.io.Safetensors;
import io.nag4j.core.io.SafetensorsReader;
import io.nag4j.core.ir.Narrowing;
import io.nag4j.core.reference.MasterWeightsReference;
import io.nag4j.core.rule.Rules;
import io.nag4j.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * {@code nag4j replay} with BF16 and F16 params (and F32 ones beside them, and BF16 updates): every
 * optimizer on cpu and PoCL writes the bytes the reference backend writes (float32 master weights,
 * the independent MasterWeightsReference), each param keeps its dtype, its master is in
 * {@code state/master/<name>} as F32, and each param is its master rounded to nearest even.
 */
class ReplayMixedPrecisionTest {
    @TempDir
    Path dir;

    @Test
    void sixteenBitParamsReplayWithMasterWeightsIdenticallyOnEveryBackend() throws Exception {
        SplittableRandom r = new SplittableRandom(14);
        int steps = 7;
        Path p = dir.resolve("P.safetensors"), u = dir.resolve("U.safetensors");
        try (Tensor w = gauss("w", r, 12, x -> Narrowing.bf16((float) x), 3, 4); Tensor b = gauss("b", r, 5, x -> Narrowing.f16((float) x), 5);
             Tensor c = gauss("c", r, 2, x -> x, 2);
             Tensor uw = gauss("w", r, steps * 12, x -> x, steps, 3, 4); Tensor ub = gauss("b", r, steps * 5, x -> x, steps, 5);
             Tensor uc = gauss("c", r, steps * 2, x -> x, steps, 2)) {
            Safetensors.write(p, map(w, b, c), Map.of(), Map.of("w", "BF16", "b", "F16"));
            Safetensors.write(u, map(uw, ub, uc), Map.of(), Map.of("w", "BF16"));
        }
        List<String> backends = AgreeCommandTest.cpuAndOpenCl();
        for (String rule : Rules.names()) {
            Path ref = dir.resolve(rule + "-reference.safetensors");
            run(rule, "reference", p, u, ref);
            try (SafetensorsReader o = SafetensorsReader.open(ref)) {
                assertEquals("BF16", o.dtype("w"));
                assertEquals("F16", o.dtype("b"));
                assertEquals("F32", o.dtype("c"));
                assertEquals("F32", o.dtype("state/master/w"));
                assertNull(o.find("state/master/c"), "an F32 param has no master weights");
                try (Tensor pw = o.load("w"); Tensor mw = o.load("state/master/w"); Tensor pb = o.load("b"); Tensor mb = o.load("state/master/b")) {
                    for (int i = 0; i < pw.size(); i++) assertEquals(Float.floatToRawIntBits(MasterWeightsReference.bf16(mw.get(i))), Float.floatToRawIntBits(pw.get(i)), rule + " w[" + i + "]");
                    for (int i = 0; i < pb.size(); i++) assertEquals(Float.floatToRawIntBits(MasterWeightsReference.f16(mb.get(i))), Float.floatToRawIntBits(pb.get(i)), rule + " b[" + i + "]");
                }
                for (String slot : Rules.byName(rule).slots()) assertEquals("F32", o.dtype("state/" + slot + "/w"));
            }
            for (String b : backends) {
                Path out = dir.resolve(rule + "-" + b.replace(':', '_') + ".safetensors");
                run(rule, b, p, u, out);
                assertArrayEquals(Files.readAllBytes(ref), Files.readAllBytes(out), rule + " on " + b + ": not the reference's bytes");
            }
        }
    }

    /**
     * {@code --rounding stochastic --seed S}: every backend writes the reference's bytes, and each param is its final master
     * rounded stochastically with the uniform the documented key gives (seed, the step, its index among the params of its
     * dtype, the element), computed here by the reference's own Philox; a second seed gives other bits.
     */
    @Test
    void stochasticRoundingReplaysIdenticallyWithTheDocumentedKey() throws Exception {
        SplittableRandom r = new SplittableRandom(15);
        int steps = 6;
        Path p = dir.resolve("P.safetensors"), u = dir.resolve("U.safetensors");
        try (Tensor w = gauss("w", r, 300, x -> Narrowing.bf16((float) x), 30, 10); Tensor v = gauss("v", r, 70, x -> Narrowing.bf16((float) x), 70);
             Tensor b = gauss("b", r, 40, x -> Narrowing.f16((float) x), 40); Tensor c = gauss("c", r, 2, x -> x, 2);
             Tensor uw = gauss("w", r, steps * 300, x -> x * 1e-3, steps, 30, 10); Tensor uv = gauss("v", r, steps * 70, x -> x * 1e-3, steps, 70);
             Tensor ub = gauss("b", r, steps * 40, x -> x * 1e-3, steps, 40); Tensor uc = gauss("c", r, steps * 2, x -> x, steps, 2)) {
            Safetensors.write(p, map(w, b, v, c), Map.of(), Map.of("w", "BF16", "v", "BF16", "b", "F16"));
            Safetensors.write(u, map(uw, ub, uv, uc), Map.of(), Map.of());
        }
        List<String> backends = AgreeCommandTest.cpuAndOpenCl();
        for (String rule : List.of("sgd", "adam")) {
            Path ref = dir.resolve(rule + "-sr-reference.safetensors"), other = dir.resolve(rule + "-sr-seed2.safetensors");
            run(rule, "reference", p, u, ref, "--rounding", "stochastic", "--seed", "7");
            run(rule, "reference", p, u, other, "--rounding", "stochastic", "--seed", "8");
            int moved = 0;
            try (SafetensorsReader o = SafetensorsReader.open(ref); SafetensorsReader o2 = SafetensorsReader.open(other)) {
                // index among the params of the same dtype, in the file's order: w 0, v 1 (BF16); b 0 (F16)
                for (String[] t : new String[][] {{"w", "0"}, {"v", "1"}, {"b", "0"}}) {
                    try (Tensor pt = o.load(t[0]); Tensor mt = o.load("state/master/" + t[0]); Tensor p2 = o2.load(t[0])) {
                        for (int i = 0; i < pt.size(); i++) {
                            float uni = MasterWeightsReference.uniform(7, steps, Integer.parseInt(t[1]), i);
                            float want = t[0].equals("b") ? MasterWeightsReference.f16Stochastic(mt.get(i), uni) : MasterWeightsReference.bf16Stochastic(mt.get(i), uni);
                            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(pt.get(i)), rule + " " + t[0] + "[" + i + "]");
                            if (pt.get(i) != p2.get(i)) moved++;
                        }
                    }
                }
            }
            assertTrue(moved > 0, rule + ": seeds 7 and 8 gave the same params");
            for (String b : backends) {
                Path out = dir.resolve(rule + "-sr-" + b.replace(':', '_') + ".safetensors");
                run(rule, b, p, u, out, "--rounding", "stochastic", "--seed", "7");
                assertArrayEquals(Files.readAllBytes(ref), Files.readAllBytes(out), rule + " on " + b + ": not the reference's bytes");
            }
        }
        StringWriter o = new StringWriter(), e = new StringWriter();
        assertEquals(2, Main.run(new PrintWriter(o), new PrintWriter(e), "replay", "--optimizer", "nag", "--params", p.toString(), "--updates", u.toString(),
                "--out", dir.resolve("x").toString(), "--rounding", "sideways"), e.toString());
    }

    /**
     * {@code --resume} from a mixed-precision output: the first steps, then the rest resumed (on another backend), writes the
     * bytes of the straight run, rounding to nearest and stochastically (the step counter keys the rounding on); a
     * checkpoint whose master weights are missing is refused (exit 2) naming them.
     */
    @Test
    void aMixedPrecisionOutputResumesAsIfUninterrupted() throws Exception {
        SplittableRandom r = new SplittableRandom(16);
        Path p = dir.resolve("P.safetensors"), all = dir.resolve("U.safetensors"), first = dir.resolve("U1.safetensors"), rest = dir.resolve("U2.safetensors");
        try (Tensor w = gauss("w", r, 24, x -> Narrowing.bf16((float) x), 4, 6); Tensor b = gauss("b", r, 9, x -> Narrowing.f16((float) x), 9);
             Tensor c = gauss("c", r, 3, x -> x, 3); Tensor uw = gauss("w", r, 7 * 24, x -> x, 7, 4, 6); Tensor ub = gauss("b", r, 7 * 9, x -> x, 7, 9);
             Tensor uc = gauss("c", r, 7 * 3, x -> x, 7, 3)) {
            Safetensors.write(p, map(w, b, c), Map.of(), Map.of("w", "BF16", "b", "F16"));
            Safetensors.write(all, map(uw, ub, uc), Map.of(), Map.of());
            Safetensors.write(first, map(slice(uw, 0, 3), slice(ub, 0, 3), slice(uc, 0, 3)), Map.of(), Map.of());
            Safetensors.write(rest, map(slice(uw, 3, 7), slice(ub, 3, 7), slice(uc, 3, 7)), Map.of(), Map.of());
        }
        List<String> backends = AgreeCommandTest.cpuAndOpenCl();
        for (String[] rounding : new String[][] {{"--rounding", "nearest"}, {"--rounding", "stochastic", "--seed", "99"}}) {
            for (String rule : List.of("nag", "adam")) {
                Path straight = dir.resolve(rule + rounding[1] + "-straight.safetensors"), half = dir.resolve(rule + rounding[1] + "-half.safetensors");
                run(rule, "cpu", p, all, straight, rounding);
                run(rule, "reference", p, first, half, rounding);
                for (String b : backends) {
                    Path resumed = dir.resolve(rule + rounding[1] + "-resumed-" + b.replace(':', '_') + ".safetensors");
                    StringWriter o = new StringWriter(), e = new StringWriter();
                    String[] args = java.util.stream.Stream.concat(java.util.stream.Stream.of("replay", "--optimizer", rule, "--resume", half.toString(),
                            "--updates", rest.toString(), "--out", resumed.toString(), "--backend", b), java.util.Arrays.stream(rounding)).toArray(String[]::new);
                    assertEquals(0, Main.run(new PrintWriter(o), new PrintWriter(e), args), o + e.toString());
                    assertArrayEquals(Files.readAllBytes(straight), Files.readAllBytes(resumed), rule + " " + rounding[1] + " resumed on " + b);
                }
            }
        }
        // A checkpoint that lost a master tensor: refused, naming it.
        Path half = dir.resolve("adamnearest-half.safetensors"), broken = dir.resolve("broken.safetensors");
        try (SafetensorsReader in = SafetensorsReader.open(half)) {
            LinkedHashMap<String, Tensor> keep = new LinkedHashMap<>();
            Map<String, String> dtypes = new java.util.HashMap<>();
            for (String n : in.names()) {
                if (n.equals("state/master/b")) continue;
                keep.put(n, in.load(n));
                if (!in.dtype(n).equals("F32")) dtypes.put(n, in.dtype(n));
            }
            Map<String, String> meta = new LinkedHashMap<>(in.metadata());
            Safetensors.write(broken, keep, meta, dtypes);
            keep.values().forEach(Tensor::close);
        }
        StringWriter o = new StringWriter(), e = new StringWriter();
        assertEquals(2, Main.run(new PrintWriter(o), new PrintWriter(e), "replay", "--optimizer", "adam", "--resume", broken.toString(),
                "--updates", rest.toString(), "--out", dir.resolve("never").toString()), e.toString());
        assertTrue(e.toString().contains("state/master/b"), e.toString());
        assertFalse(Files.exists(dir.resolve("never")));
    }

    /** Signalling NaNs are values of bf16 and f16 too: stored, bound and written back with their bits (0 steps), on every backend. */
    @Test
    void signallingNanParamsKeepTheirBits() throws Exception {
        Path p = dir.resolve("P.safetensors"), u = dir.resolve("U.safetensors");
        int sNanBf16 = 0x7f810000, sNanF16 = 0xffc02000; // quiet bit clear; the f16 one negative with payload bit 13
        try (Tensor w = Tensor.of("w", Float.intBitsToFloat(sNanBf16), 1f); Tensor b = Tensor.of("b", Float.intBitsToFloat(sNanF16), -2f);
             Tensor uw = Tensor.zeros("w", 0, 2); Tensor ub = Tensor.zeros("b", 0, 2)) {
            Safetensors.write(p, map(w, b), Map.of(), Map.of("w", "BF16", "b", "F16"));
            Safetensors.write(u, map(uw, ub), Map.of(), Map.of());
        }
        List<String> backends = new ArrayList<>(List.of("reference", "cpu"));
        ReplayBackendsAgreeTestAccess.openClOrSkipSoft(backends);
        for (String backend : backends) {
            Path out = dir.resolve("snan-" + backend.replace(':', '_') + ".safetensors");
            run("adam", backend, p, u, out);
            try (SafetensorsReader o = SafetensorsReader.open(out); Tensor w = o.load("w"); Tensor b = o.load("b")) {
                assertEquals(sNanBf16, Float.floatToRawIntBits(w.get(0)), backend);
                assertEquals(sNanF16, Float.floatToRawIntBits(b.get(0)), backend);
            }
        }
    }

    static Tensor slice(Tensor t, int from, int to) {
        long per = t.size() / t.shape()[0];
        float[] v = new float[(int) ((to - from) * per)];
        for (int i = 0; i < v.length; i++) v[i] = t.get(from * per + i);
        long[] shape = t.shape().clone();
        shape[0] = to - from;
        return Tensor.of(t.name(), v, shape);
    }

    static void run(String rule, String backend, Path p, Path u, Path out, String... more) {
        StringWriter o = new StringWriter(), e = new StringWriter();
        String[] args = java.util.stream.Stream.concat(java.util.stream.Stream.of("replay", "--optimizer", rule, "--params", p.toString(), "--updates", u.toString(),
                "--out", out.toString(), "--backend", backend), java.util.Arrays.stream(more)).toArray(String[]::new);
        int code = Main.run(new PrintWriter(o), new PrintWriter(e), args);
        assertEquals(0, code, rule + " on " + backend + ": " + o + e);
        assertTrue(o.toString().contains("16-bit params"), o.toString());
    }

    static Tensor gauss(String name, SplittableRandom r, int n, java.util.function.DoubleUnaryOperator f, long... shape) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) f.applyAsDouble((float) r.nextGaussian());
        return Tensor.of(name, v, shape);
    }

    static java.util.SequencedMap<String, Tensor> map(Tensor... ts) {
        LinkedHashMap<String, Tensor> m = new LinkedHashMap<>();
        for (Tensor t : ts) m.put(t.name(), t);
        return m;
    }
}
