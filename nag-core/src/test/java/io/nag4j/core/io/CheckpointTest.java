package io.nag4j.core.io;

import io.nag4j.core.optim.OptState;
import io.nag4j.core.optim.Optimizer;
import io.nag4j.core.reference.ReferenceOptimizer;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Nag;
import io.nag4j.core.rule.Sgd;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.nag4j.core.io.SafetensorsTest.SPECIAL;
import static io.nag4j.core.io.SafetensorsTest.assertRawBits;
import static io.nag4j.core.io.SafetensorsTest.f;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CheckpointTest {
    @TempDir
    Path dir;

    static ParamSet params() {
        return ParamSet.of(
                Tensor.of("layer/w", SPECIAL, 2, 7),
                Tensor.of("b", new float[] {f(0x00000003), -0.0f, f(0xff800000)}),
                Tensor.of("s", new float[] {f(0x7f80abcd)}, new long[0]),
                Tensor.zeros("e", 0));
    }

    static OptState nagState(ParamSet params, long step) {
        ParamSet phi = params.zerosLike("");
        for (int i = 0; i < phi.size(); i++) {
            for (long j = 0; j < phi.get(i).size(); j++) phi.get(i).set(j, f(0x80000001 + (int) j * 0x01010101));
        }
        return new OptState("nag", Map.of("phi", phi), step);
    }

    static void assertSameTensors(ParamSet expected, ParamSet actual, String what) {
        assertEquals(expected.names(), actual.names(), what + " names");
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i).shape(), actual.get(i).shape(), what + " shape of " + expected.get(i).name());
            assertRawBits(expected.get(i).toArray(), actual.get(i).toArray(), what + " '" + expected.get(i).name() + "'");
        }
    }

    @Test
    void roundTripIsBitwise() throws IOException {
        Path p = dir.resolve("ck.safetensors");
        // 0x1.47ae14p-7 is 0.01f; 1.4E-45 the smallest subnormal; 0.1f is not exact in decimal.
        Hyperparams hp = Nag.INSTANCE.defaults().with("eta", Float.MIN_VALUE).with("mu", 0.1f);
        try (ParamSet params = params(); OptState state = nagState(params, 123_456_789_012L)) {
            Checkpoint.save(p, params, state, hp);
            for (var rule : new Nag[] {null, Nag.INSTANCE}) {
                try (Checkpoint c = Checkpoint.load(p, rule)) {
                    assertSameTensors(params, c.params(), "params");
                    assertEquals(List.of("phi"), c.state().slotNames());
                    assertSameTensors(state.slot("phi"), c.state().slot("phi"), "phi");
                    assertEquals("nag", c.state().optimizer());
                    assertEquals(123_456_789_012L, c.state().step());
                    assertEquals(hp, c.hyperparams());
                    assertEquals(Float.floatToRawIntBits(Float.MIN_VALUE), Float.floatToRawIntBits(c.hyperparams().get("eta")));
                }
            }
        }
        try (Safetensors.Contents c = Safetensors.read(p)) {
            assertEquals(List.of("layer/w", "b", "s", "e", "state/phi/layer/w", "state/phi/b", "state/phi/s", "state/phi/e"),
                    c.tensors().names());
            assertEquals("nag4j-checkpoint/1", c.metadata().get("format"));
            assertEquals("nag", c.metadata().get("optimizer"));
            assertEquals("123456789012", c.metadata().get("step"));
            assertEquals("phi", c.metadata().get("slots"));
            assertEquals("1.4E-45", c.metadata().get("hp.eta"));
            assertEquals("0.1", c.metadata().get("hp.mu"));
        }
    }

    @Test
    void everyFloat32HyperparameterSurvivesTheTextRoundTrip() throws IOException {
        // Float.toString and Hyperparams.parse must agree on every bit pattern we might write.
        int[] samples = {0x3c23d70a, 0x3f666666, 0x00000001, 0x007fffff, 0x00800000, 0x7f7fffff, 0x80000000, 0x00000000,
                0xbf800001, 0x33d6bf95, 0x4b000001};
        for (int bits : samples) {
            float v = Float.intBitsToFloat(bits);
            assertEquals(bits, Float.floatToRawIntBits(Hyperparams.parse("x", Float.toString(v))), Integer.toHexString(bits));
        }
        Path p = dir.resolve("h.safetensors");
        try (ParamSet params = ParamSet.of(Tensor.of("w", 1)); OptState state = new OptState("sgd", Map.of(), 0)) {
            Hyperparams hp = Sgd.INSTANCE.defaults().with(Sgd.INSTANCE.defaults().names().get(0), -0.0f);
            Checkpoint.save(p, params, state, hp);
            try (Checkpoint c = Checkpoint.load(p, Sgd.INSTANCE)) {
                assertEquals(hp, c.hyperparams());
                assertEquals(List.of(), c.state().slotNames());
            }
        }
    }

    @Test
    void resumingFromACheckpointEqualsRunningStraightThrough() throws IOException {
        Hyperparams hp = Nag.INSTANCE.defaults();
        Optimizer opt = ReferenceOptimizer.forRule("nag", hp);
        Path p = dir.resolve("resume.safetensors");
        float[][] updates = new float[10][];
        for (int s = 0; s < 10; s++) updates[s] = new float[] {s * 0.37f - 1, f(0x3f800000 + s * 12345), -s * 1e-3f};
        try (ParamSet straight = ParamSet.of(Tensor.of("w", 0.5f, -0.25f, 3f)); OptState st = opt.init(straight);
             ParamSet u = straight.zerosLike("")) {
            for (int s = 0; s < 10; s++) {
                u.get(0).copyFrom(updates[s]);
                opt.step(st, straight, u);
                if (s == 4) Checkpoint.save(p, straight, st, hp);
            }
            try (Checkpoint c = Checkpoint.load(p, Nag.INSTANCE)) {
                assertEquals(5, c.state().step());
                Optimizer resumed = ReferenceOptimizer.forRule("nag", c.hyperparams());
                for (int s = 5; s < 10; s++) {
                    u.get(0).copyFrom(updates[s]);
                    resumed.step(c.state(), c.params(), u);
                }
                assertSameTensors(straight, c.params(), "params after resume");
                assertSameTensors(st.slot("phi"), c.state().slot("phi"), "phi after resume");
            }
        }
    }

    @Test
    void saveRefusesInconsistentInput() {
        Path p = dir.resolve("bad.safetensors");
        Hyperparams hp = Nag.INSTANCE.defaults();
        try (ParamSet params = ParamSet.of(Tensor.of("w", 1, 2)); ParamSet wrongShape = ParamSet.of(Tensor.of("w", 1));
             ParamSet wrongName = ParamSet.of(Tensor.of("v", 1, 2)); ParamSet stateNamed = ParamSet.of(Tensor.of("state/x", 1))) {
            assertThrows(IllegalArgumentException.class, () -> Checkpoint.save(p, params, new OptState("nag", Map.of("phi", wrongShape), 0), hp));
            assertThrows(IllegalArgumentException.class, () -> Checkpoint.save(p, params, new OptState("nag", Map.of("phi", wrongName), 0), hp));
            assertThrows(IllegalArgumentException.class, () -> Checkpoint.save(p, params, new OptState("nag", Map.of("a/b", params), 0), hp));
            assertThrows(IllegalArgumentException.class, () -> Checkpoint.save(p, stateNamed, new OptState("sgd", Map.of(), 0), hp));
            assertThrows(IllegalArgumentException.class, () -> Checkpoint.save(p, params, null, hp));
            assertThrows(IllegalArgumentException.class, () -> Checkpoint.save(p, params, new OptState("nag", Map.of(), 0), null));
        }
        assertFalse(Files.exists(p));
    }

    // ---------------------------------------------------------------- hostile checkpoints

    /** Writes a checkpoint-like file from raw pieces; {@code meta} overrides the valid metadata. */
    Path craft(Map<String, float[]> tensors, Map<String, String> metaOverrides) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "nag4j-checkpoint/1");
        meta.put("optimizer", "nag");
        meta.put("step", "3");
        meta.put("slots", "phi");
        meta.put("hp.eta", "0.01");
        meta.put("hp.mu", "0.9");
        metaOverrides.forEach((k, v) -> { if (v == null) meta.remove(k); else meta.put(k, v); });
        List<Tensor> ts = new java.util.ArrayList<>();
        tensors.forEach((n, v) -> ts.add(Tensor.of(n, v)));
        Path p = Files.createTempFile(dir, "ck", ".safetensors");
        try {
            Safetensors.write(p, ts, meta);
        } finally {
            ts.forEach(Tensor::close);
        }
        return p;
    }

    static Map<String, float[]> tensors(Object... nameValues) {
        Map<String, float[]> m = new LinkedHashMap<>();
        for (int i = 0; i < nameValues.length; i += 2) m.put((String) nameValues[i], (float[]) nameValues[i + 1]);
        return m;
    }

    static final float[] TWO = {1, 2};
    static final float[] ONE = {1};

    void assertRefused(Path p, String expected) {
        for (Nag rule : new Nag[] {null, Nag.INSTANCE}) {
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> {
                try (Checkpoint c = Checkpoint.load(p, rule)) {
                    throw new AssertionError("loaded " + c.params());
                }
            });
            assertTrue(e.getMessage().contains(expected), "message '" + e.getMessage() + "' should contain '" + expected + "'");
        }
    }

    @Test
    void hostileCheckpointsAreRefusedNamingTheProblem() throws IOException {
        var ok = tensors("w", TWO, "state/phi/w", TWO);
        assertRefused(craft(ok, Map.of("format", "other/2")), "metadata 'format' is 'other/2'");
        assertRefused(craft(ok, mapOfNull("format")), "metadata 'format' is missing");
        assertRefused(craft(ok, mapOfNull("optimizer")), "metadata has no 'optimizer'");
        assertRefused(craft(ok, mapOfNull("step")), "metadata has no 'step'");
        assertRefused(craft(ok, Map.of("step", "3.0")), "metadata 'step' is '3.0'");
        assertRefused(craft(ok, Map.of("step", "-1")), "metadata 'step' is '-1'");
        assertRefused(craft(ok, Map.of("step", "99999999999999999999")), "metadata 'step' is '99999999999999999999'");
        assertRefused(craft(ok, mapOfNull("slots")), "metadata has no 'slots'");
        assertRefused(craft(ok, Map.of("slots", "phi,phi")), "repeated slot name");
        assertRefused(craft(ok, Map.of("hp.eta", "NaN")), "'hp.eta'");
        assertRefused(craft(ok, Map.of("hp.mu", "Infinity")), "'hp.mu'");
        assertRefused(craft(ok, Map.of("hp.mu", "1e39")), "'hp.mu'");
        assertRefused(craft(ok, Map.of("hp.mu", "fast")), "'fast' is not a number");
        assertRefused(craft(tensors("w", TWO, "state/phi/w", ONE), Map.of()), "state tensor 'state/phi/w' has shape [1] but param 'w' has [2]");
        assertRefused(craft(tensors("w", TWO, "state/phi/w", TWO, "state/phi/v", TWO), Map.of()), "state tensor 'state/phi/v' has no param 'v'");
        assertRefused(craft(tensors("w", TWO, "v", ONE, "state/phi/w", TWO), Map.of()), "slot 'phi' has no tensor for param 'v'");
        assertRefused(craft(tensors("w", TWO), Map.of()), "slot 'phi' has no tensor for param 'w'");
        assertRefused(craft(tensors("w", TWO, "state/phi", TWO), Map.of()), "state tensor 'state/phi' is not named state/<slot>/<param>");
        assertRefused(craft(tensors("w", TWO, "state/phi/w", TWO, "state/m/w", TWO), Map.of()), "state tensor 'state/m/w' is for slot 'm'");
        // A Safetensors problem is reported as such.
        Path truncated = craft(ok, Map.of());
        byte[] b = Files.readAllBytes(truncated);
        Files.write(truncated, java.util.Arrays.copyOf(b, b.length - 4));
        assertRefused(truncated, "run past the end of the data area");
    }

    @Test
    void loadingForARuleChecksNameSlotsAndHyperparameters() throws IOException {
        var ok = tensors("w", TWO, "state/phi/w", TWO);
        Path sgd = craft(ok, Map.of("optimizer", "sgd"));
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> Checkpoint.load(sgd, Nag.INSTANCE));
        assertTrue(e.getMessage().contains("checkpoint is for optimizer 'sgd', not 'nag'"), e.getMessage());
        Path extraHp = craft(ok, Map.of("hp.beta", "0.5"));
        e = assertThrows(SafetensorsException.class, () -> Checkpoint.load(extraHp, Nag.INSTANCE));
        assertTrue(e.getMessage().contains("beta"), e.getMessage());
        try (Checkpoint c = Checkpoint.load(extraHp)) {  // without a rule, any names load
            assertEquals(List.of("eta", "mu", "beta"), c.hyperparams().names());
        }
        Path noSlots = craft(tensors("w", TWO), Map.of("slots", ""));
        e = assertThrows(SafetensorsException.class, () -> Checkpoint.load(noSlots, Nag.INSTANCE));
        assertTrue(e.getMessage().contains("checkpoint has slots [] but nag has [phi]"), e.getMessage());
    }

    private static Map<String, String> mapOfNull(String key) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(key, null);
        return m;
    }
}
