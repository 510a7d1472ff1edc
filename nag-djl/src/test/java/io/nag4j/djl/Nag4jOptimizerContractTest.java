package io.nag4j.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import io.nag4j.core.bound.BoundOptimizer;
import io.nag4j.core.bound.HostBoundOptimizer;
import io.nag4j.core.optim.Mode;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Rules;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Refusals, changing parameter sets, checkpoints and close: what DJL's calling pattern can throw at Nag4jOptimizer. */
class Nag4jOptimizerContractTest {

    @Test
    void djlsOwnGradientKnobsAreRefusedNotSilentlyDropped() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Nag4jOptimizer.builder().optClipGrad(1f).build());
        assertTrue(e.getMessage().contains("optClipGrad(1.0)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Nag4jOptimizer.builder().optWeightDecays(0.1f).build());
        assertTrue(e.getMessage().contains("optWeightDecays(0.1)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Nag4jOptimizer.builder().setRescaleGrad(2f).build());
        assertTrue(e.getMessage().contains("setRescaleGrad(2.0)"), e.getMessage());
    }

    @Test
    void unknownRuleHyperparameterOrBackendFailsAtBuild() {
        assertThrows(IllegalArgumentException.class, () -> Nag4jOptimizer.builder().optRule("nope"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Nag4jOptimizer.builder().optRule("adamw").optHyperparam("eta", 0.1f).build());
        assertTrue(e.getMessage().contains("'eta'") && e.getMessage().contains("lr"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Nag4jOptimizer.builder().optHyperparam("eta", Float.NaN).build());
        assertTrue(e.getMessage().contains("eta"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Nag4jOptimizer.builder().optBackend("nope").build());
        // A tracker whose value is not a learning rate names itself at the step, before anything changes.
        try (NDManager m = NDManager.newBaseManager("PyTorch");
             Nag4jOptimizer opt = Nag4jOptimizer.builder().optLearningRateTracker((ai.djl.training.tracker.Tracker) t -> Float.NaN).build()) {
            NDArray w = m.create(new float[] {1, 2}), g = m.create(new float[] {1, 1});
            e = assertThrows(IllegalArgumentException.class, () -> opt.update("w", w, g));
            assertTrue(e.getMessage().contains("eta"), e.getMessage());
            assertArrayEquals(new float[] {1, 2}, w.toFloatArray());
        }
    }

    @Test
    void badArraysNameTheParameterAndChangeNothing() {
        try (NDManager m = NDManager.newBaseManager("PyTorch"); Nag4jOptimizer opt = Nag4jOptimizer.builder().build()) {
            NDArray w = m.create(new double[] {1, 2}), g = m.create(new double[] {1, 1});
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> opt.update("dense_w", w, g));
            assertTrue(e.getMessage().contains("'dense_w'") && e.getMessage().contains("float64"), e.getMessage());
            NDArray w2 = m.create(new float[] {1, 2, 3}), g2 = m.create(new float[] {1, 1});
            e = assertThrows(IllegalArgumentException.class, () -> opt.update("dense_b", w2, g2));
            assertTrue(e.getMessage().contains("'dense_b'") && e.getMessage().contains("(2)"), e.getMessage());
            assertArrayEquals(new float[] {1, 2, 3}, w2.toFloatArray());
        }
    }

    @Test
    void useAfterCloseIsAnException() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            Nag4jOptimizer opt = Nag4jOptimizer.builder().optRule("adam").build();
            NDArray w = m.create(new float[] {1, 2}), g = m.create(new float[] {0.5f, 0.5f});
            opt.update("w", w, g);
            opt.close();
            opt.close(); // twice is fine
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> opt.update("w", w, g));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
        }
    }

    /** DJL's calling pattern by hand: ids in a fixed order each step; the reference per parameter steps on the same gradients. */
    static final class ByHand implements AutoCloseable {
        final NDManager m = NDManager.newBaseManager("PyTorch");
        final List<String> ids = new ArrayList<>();
        final List<NDArray> weights = new ArrayList<>();
        final List<BoundOptimizer> refs = new ArrayList<>();
        final Rule rule = Rules.byName("momentum");
        final Hyperparams hp = rule.defaults();
        final SplittableRandom r = new SplittableRandom(3);

        void add(String id, int n) {
            float[] v = new float[n];
            for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
            ids.add(id);
            weights.add(m.create(v));
            try (ParamSet p = ParamSet.of(Tensor.of(id, v))) {
                refs.add(HostBoundOptimizer.reference(rule, hp, p, null, Mode.EXACT));
            }
        }

        /** One Trainer.step() updating the parameters {@code which} (indices), in that order. */
        void step(Nag4jOptimizer opt, int... which) {
            for (int i : which) {
                float[] gv = new float[Math.toIntExact(weights.get(i).size())];
                for (int k = 0; k < gv.length; k++) gv[k] = (float) r.nextGaussian();
                try (NDArray g = m.create(gv)) {
                    opt.update(ids.get(i), weights.get(i), g);
                }
                try (ParamSet u = ParamSet.of(Tensor.of(ids.get(i), gv))) {
                    refs.get(i).step(u);
                }
            }
        }

        void assertMatchesReference(String when) {
            for (int i = 0; i < ids.size(); i++) {
                try (ParamSet p = refs.get(i).readParams()) {
                    float[] want = p.get(0).toArray(), got = weights.get(i).toFloatArray();
                    for (int k = 0; k < want.length; k++) {
                        int fi = i, fk = k;
                        assertEquals(Float.floatToRawIntBits(want[k]), Float.floatToRawIntBits(got[k]),
                                () -> when + ": '" + ids.get(fi) + "' element " + fk + ": reference " + want[fk] + ", Nag4jOptimizer " + got[fk]);
                    }
                }
            }
        }

        @Override
        public void close() {
            refs.forEach(BoundOptimizer::close);
            m.close();
        }
    }

    @Test
    void aParameterAddedMidTrainingSwitchesToPerParameterLaunchesAndStaysExact() {
        try (ByHand h = new ByHand(); Nag4jOptimizer opt = Nag4jOptimizer.builder().optRule(h.rule).build()) {
            h.add("a", 5);
            h.add("b", 3);
            h.step(opt, 0, 1);
            h.step(opt, 0, 1);
            assertEquals(3, opt.counters().launches()); // two, then one for the whole step
            h.add("c", 4); // unfrozen
            h.step(opt, 0, 1, 2);
            h.step(opt, 0, 2, 1); // a new order too
            assertTrue(opt.fellBackToPerParameter());
            h.assertMatchesReference("after a parameter was added");
        }
    }

    @Test
    void aStepThatEndsShortOfTheLearnedOrderIsRefusedWithNothingOfItApplied() {
        try (ByHand h = new ByHand(); Nag4jOptimizer opt = Nag4jOptimizer.builder().optRule(h.rule).build()) {
            h.add("a", 5);
            h.add("b", 3);
            h.add("c", 2);
            h.step(opt, 0, 1, 2);
            h.step(opt, 0, 1, 2);
            float[][] before = h.weights.stream().map(NDArray::toFloatArray).toArray(float[][]::new);
            // 'c' frozen: the step stages a and b and waits for c, which never comes.
            for (int i : new int[] {0, 1}) {
                try (NDArray g = h.m.create(new float[Math.toIntExact(h.weights.get(i).size())])) {
                    opt.update(h.ids.get(i), h.weights.get(i), g);
                }
            }
            try (NDArray g = h.m.create(new float[5])) {
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> opt.update("a", h.weights.get(0), g));
                assertTrue(e.getMessage().contains("[c]") && e.getMessage().contains("none of that step"), e.getMessage());
            }
            for (int i = 0; i < 3; i++) assertArrayEquals(before[i], h.weights.get(i).toFloatArray(), h.ids.get(i));
            // It goes on, once per parameter, still the reference's bits.
            h.step(opt, 0, 1);
            h.step(opt, 0, 1);
            h.assertMatchesReference("after the refused step");
        }
    }

    @Test
    void aCheckpointResumesBitForBitInAFreshModel(@TempDir Path dir) throws Exception {
        Rule adam = Rules.byName("adam");
        float[][] straight;
        try (Nag4jOptimizer opt = Nag4jOptimizer.builder().optRule(adam).optLearningRateTracker(Nag4jOptimizerTest.COSINE).build();
             DjlMlp mlp = new DjlMlp(opt, 11)) {
            for (int t = 1; t <= 6; t++) mlp.step(t, () -> {});
            straight = weights(mlp);
        }
        Path ck = dir.resolve("ck.safetensors");
        try (Nag4jOptimizer opt = Nag4jOptimizer.builder().optRule(adam).optLearningRateTracker(Nag4jOptimizerTest.COSINE).build();
             DjlMlp mlp = new DjlMlp(opt, 11)) {
            for (int t = 1; t <= 3; t++) mlp.step(t, () -> {});
            opt.save(ck, mlp.block);
        }
        try (Nag4jOptimizer opt = Nag4jOptimizer.builder().optRule(adam).optLearningRateTracker(Nag4jOptimizerTest.COSINE).optBackend("opencl:0").build();
             DjlMlp mlp = new DjlMlp(opt, 11)) {
            for (Pair<String, Parameter> p : mlp.block.getParameters()) p.getValue().getArray().set(new float[Math.toIntExact(p.getValue().getArray().size())]);
            opt.load(ck, mlp.block); // the checkpoint's weights replace these zeros
            for (int t = 4; t <= 6; t++) mlp.step(t, () -> {});
            float[][] resumed = weights(mlp);
            for (int i = 0; i < straight.length; i++) assertArrayEquals(straight[i], resumed[i], "param " + i);
        } catch (RuntimeException e) {
            if (!String.valueOf(e.getMessage()).contains("opencl")) throw e;
            io.nag4j.core.testing.Requires.available("OPENCL", e.getMessage());
        }
        // A checkpoint for another rule, or another model, is refused before anything changes.
        try (Nag4jOptimizer opt = Nag4jOptimizer.builder().optRule("sgd").build(); DjlMlp mlp = new DjlMlp(opt, 5)) {
            float[][] before = weights(mlp);
            assertThrows(java.io.IOException.class, () -> opt.load(ck, mlp.block));
            for (int i = 0; i < before.length; i++) assertArrayEquals(before[i], weights(mlp)[i]);
        }
        // A failed save leaves the old file as it was.
        byte[] old = Files.readAllBytes(ck);
        try (Nag4jOptimizer opt = Nag4jOptimizer.builder().optRule(adam).build(); DjlMlp mlp = new DjlMlp(opt, 5)) {
            Files.createDirectories(dir.resolve("ro"));
            assertThrows(java.io.IOException.class, () -> opt.save(dir.resolve("ro"), mlp.block));
            assertArrayEquals(old, Files.readAllBytes(ck));
        }
    }

    static float[][] weights(DjlMlp mlp) {
        List<float[]> l = new ArrayList<>();
        for (Pair<String, Parameter> p : mlp.block.getParameters()) l.add(p.getValue().getArray().toFloatArray());
        return l.toArray(float[][]::new);
    }

    @Test
    void float64WeightsAreNamedInTheRefusal() {
        try (NDManager m = NDManager.newBaseManager("PyTorch"); Nag4jOptimizer opt = Nag4jOptimizer.builder().build()) {
            NDArray w = m.ones(new ai.djl.ndarray.types.Shape(2), DataType.FLOAT16), g = m.ones(new ai.djl.ndarray.types.Shape(2), DataType.FLOAT16);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> opt.update("half", w, g));
            assertTrue(e.getMessage().contains("'half'") && e.getMessage().contains("float16"), e.getMessage());
        }
    }
}
