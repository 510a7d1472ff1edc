package io.nag4j.gpu.plan;

import io.nag4j.core.bound.HostBoundOptimizer;
import io.nag4j.core.bound.BoundOptimizer;
import io.nag4j.core.golden.Bits;
import io.nag4j.core.golden.NagGolden;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.optim.Optimizer;
import io.nag4j.core.reference.NagReference;
import io.nag4j.core.reference.ReferenceOptimizer;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Nag;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Rules;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Any {@link BoundOptimizer} in EXACT mode against the hand-written references, bit for bit:
 * every rule over many steps with special values and a schedule, NAG's golden cases, ParamSets of
 * 100 odd tensors (a scalar and empty ones among them), a failed step that changes nothing, a
 * checkpoint written from the backend's state and resumed, reads before any step and use after
 * close. A subclass says how to bind (and may skip with a JUnit assumption when its device is
 * absent); {@link DeviceOptimizerParityTest} is the one for nag4j's own drivers.
 */
public abstract class BoundOptimizerParityTest {
    /** Binds in EXACT mode on the backend under test. */
    protected abstract BoundOptimizer bind(Rule rule, Hyperparams hp, ParamSet params, OptState state);

    /**
     * Binds in {@code mode}. A backend under test that runs FAST overrides this; by default FAST
     * is skipped (the TornadoVM JIT, which cannot give FAST's fused kernels their bits, refuses it).
     */
    protected BoundOptimizer bind(Rule rule, Hyperparams hp, ParamSet params, OptState state, io.nag4j.core.optim.Mode mode) {
        if (mode == io.nag4j.core.optim.Mode.EXACT) return bind(rule, hp, params, state);
        org.junit.jupiter.api.Assumptions.abort("this backend's suite does not run FAST mode");
        return null;
    }

    /** Launches the backend made so far, where it counts them (nag4j's runtime does), to check one launch per step. */
    protected OptionalLong launches(BoundOptimizer opt) { return OptionalLong.empty(); }

    private void assertLaunches(long expected, BoundOptimizer opt, String what) {
        OptionalLong n = launches(opt);
        if (n.isPresent()) assertEquals(expected, n.getAsLong(), what);
    }

    protected static ParamSet paramsOf(NagGolden.Trajectory tr) {
        List<Tensor> ps = new ArrayList<>();
        for (int i = 0; i < tr.names().size(); i++) ps.add(Tensor.of(tr.names().get(i), tr.theta0().get(i), tr.shapes().get(i)));
        return new ParamSet(ps);
    }

    protected static List<float[]> arrays(ParamSet s) {
        List<float[]> out = new ArrayList<>();
        for (Tensor t : s) out.add(t.toArray());
        return out;
    }

    /** Device params and every state slot equal the reference's, bit for bit (NaN by class). */
    protected static void assertSameState(String where, BoundOptimizer dev, ParamSet refParams, OptState refState) {
        try (ParamSet p = dev.readParams(); OptState s = dev.readState()) {
            assertEquals(refState.step(), s.step(), where + " step");
            assertEquals(refParams.names(), p.names(), where + " param names");
            for (int i = 0; i < p.size(); i++) Bits.assertSame(refParams.get(i), p.get(i), where + " param");
            for (String slot : refState.slotNames()) {
                assertEquals(refParams.names(), s.slot(slot).names(), where + " names of slot " + slot);
                for (int i = 0; i < p.size(); i++) Bits.assertSame(refState.slot(slot).get(i), s.slot(slot).get(i), where + " slot " + slot);
            }
        }
    }

    @Test
    protected void nagGoldenCasesBitForBit() {
        for (NagGolden.Trajectory tr : NagGolden.all()) {
            try (ParamSet params = paramsOf(tr); ParamSet updates = params.zerosLike("");
                 BoundOptimizer dev = bind(Nag.INSTANCE, Nag.INSTANCE.defaults(), params, null)) {
                for (int s = 0; s < tr.steps(); s++) {
                    for (int i = 0; i < updates.size(); i++) updates.get(i).copyFrom(tr.updates()[s][i]);
                    dev.step(updates);
                    if (!tr.expect().containsKey(s + 1)) continue;
                    try (ParamSet theta = dev.readParams(); OptState st = dev.readState()) {
                        assertEquals(s + 1, st.step());
                        NagGolden.check(tr, s + 1, arrays(theta), arrays(st.slot("phi")));
                    }
                }
                assertLaunches(tr.steps(), dev, "case " + tr.name() + ": one launch per step");
            }
        }
    }

    /** 101+ tensors of odd sizes and ranks (a scalar and an empty one among them), seeded values with specials. */
    protected static ParamSet oddParams(Random rnd, String prefix) {
        List<Tensor> ts = new ArrayList<>();
        for (int i = 0; i < 103; i++) {
            long[] shape = switch (i % 5) {
                case 0 -> new long[] {1 + 2 * rnd.nextInt(60)};
                case 1 -> new long[] {1 + 2 * rnd.nextInt(6), 1 + 2 * rnd.nextInt(9)};
                case 2 -> new long[] {3, 1 + 2 * rnd.nextInt(3), 5};
                case 3 -> new long[] {1 + 2 * rnd.nextInt(200)};
                default -> new long[] {7};
            };
            if (i == 17) shape = new long[] {};
            if (i == 42) shape = new long[] {3, 0};
            Tensor t = Tensor.zeros(prefix + "t" + i, shape);
            for (long e = 0; e < t.size(); e++) t.set(e, value(rnd));
            ts.add(t);
        }
        return new ParamSet(ts);
    }

    protected static float value(Random rnd) {
        int k = rnd.nextInt(100);
        if (k == 0) return Float.MIN_VALUE * (1 + rnd.nextInt(1000)) * (rnd.nextBoolean() ? 1 : -1); // subnormal
        if (k == 1) return rnd.nextBoolean() ? 0f : -0f;
        if (k == 2) return (float) (rnd.nextGaussian() * 1e30);
        if (k == 3) return Float.MIN_NORMAL * (rnd.nextFloat() + 1);
        return (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(7) - 3));
    }

    /** Steps per rule (300 on real devices); a slow stand-in (the PTX interpreter) runs fewer. */
    protected int ruleSteps() { return 300; }

    @Test
    protected void everyRuleMatchesItsReferenceOverManyRandomStepsOnAParamSetOf100OddTensors() {
        for (Rule rule : Rules.all()) {
            // Every kernel the rule's flags choose: the defaults for ruleSteps(), the others for a fifth of that.
            for (var config : Rules.configurations(rule).entrySet()) {
                boolean defaults = config.getKey().equals("defaults");
                int steps = defaults ? ruleSteps() : Math.max(3, ruleSteps() / 5);
                String what = rule.name() + " (" + config.getKey() + ")";
                Random rnd = new Random(20261124L + rule.name().hashCode() + config.getKey().hashCode());
                Hyperparams base = config.getValue();
                Optimizer ref = ReferenceOptimizer.forRule(rule.name(), base);
                try (ParamSet refParams = oddParams(rnd, ""); ParamSet updates = refParams.zerosLike("");
                     OptState refState = ref.init(refParams);
                     BoundOptimizer dev = bind(rule, base, refParams, null)) {
                    for (int s = 1; s <= steps; s++) {
                        for (Tensor u : updates) for (long e = 0; e < u.size(); e++) u.set(e, value(rnd));
                        // A schedule: the learning rate (every rule's first hyperparameter) changes every step, as a kernel argument.
                        String lr = base.names().get(0);
                        Hyperparams hp = base.with(lr, (float) (base.get(lr) * (1 + 0.5 * Math.sin(s))));
                        ref.step(refState, refParams, updates, hp);
                        dev.step(updates, hp);
                        if (s % 50 == 0 || s == 1 || s == 2 || s == steps) assertSameState(what + " step " + s, dev, refParams, refState);
                    }
                    assertLaunches(steps, dev, what + ": one launch per step for the whole ParamSet");
                }
            }
        }
    }

    /**
     * FAST mode gives the fused kernels' bits: every configuration of every rule, bound FAST here
     * and on {@code reference} (the evaluator running {@code Mode.FAST.kernel}), bit for bit
     * (NaN by class) over steps with a learning-rate schedule, on 100+ odd tensors with specials.
     */
    @Test
    protected void fastModeGivesTheFusedKernelsBitsForEveryConfiguration() {
        for (Rule rule : Rules.all()) {
            for (var config : Rules.configurations(rule).entrySet()) {
                int steps = Math.max(3, ruleSteps() / 10);
                String what = rule.name() + " (" + config.getKey() + ") FAST";
                Random rnd = new Random(20261203L + rule.name().hashCode() + config.getKey().hashCode());
                Hyperparams base = config.getValue();
                try (ParamSet params = oddParams(rnd, ""); ParamSet updates = params.zerosLike("");
                     BoundOptimizer ref = Backends.bind("reference", rule, base, params, null, io.nag4j.core.optim.Mode.FAST);
                     BoundOptimizer dev = bind(rule, base, params, null, io.nag4j.core.optim.Mode.FAST)) {
                    for (int s = 1; s <= steps; s++) {
                        for (Tensor u : updates) for (long e = 0; e < u.size(); e++) u.set(e, value(rnd));
                        String lr = base.names().get(0);
                        Hyperparams hp = base.with(lr, (float) (base.get(lr) * (1 + 0.5 * Math.sin(s))));
                        ref.step(updates, hp);
                        dev.step(updates, hp);
                        if (s == 1 || s == steps) {
                            try (ParamSet rp = ref.readParams(); OptState rs = ref.readState()) {
                                assertSameState(what + " step " + s, dev, rp, rs);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Flags are fixed when bound: a step that would change one is refused and changes nothing, and
     * a slot the bound kernel never touches comes back from readState() exactly as it was bound.
     */
    @Test
    protected void aFlagChangeIsRefusedAndAnUnusedSlotKeepsItsCheckpointValues() {
        Rule rule = io.nag4j.core.rule.RmsProp.INSTANCE;
        Hyperparams plain = rule.defaults();
        Random rnd = new Random(31);
        try (ParamSet params = oddParams(rnd, ""); ParamSet updates = params.zerosLike("")) {
            // A resumed state whose grad_avg and momentum_buffer hold values (a checkpoint of a centered run, say).
            java.util.LinkedHashMap<String, ParamSet> slots = new java.util.LinkedHashMap<>();
            for (String slot : rule.slots()) {
                ParamSet v = params.zerosLike("");
                for (Tensor t : v) for (long e = 0; e < t.size(); e++) t.set(e, Math.abs(value(rnd)));
                slots.put(slot, v);
            }
            Optimizer ref = ReferenceOptimizer.forRule(rule.name(), plain);
            try (OptState initial = new OptState(rule.name(), slots, 5); ParamSet refParams = params.copy();
                 OptState refState = HostBoundOptimizer.copy(initial);
                 BoundOptimizer dev = bind(rule, plain, params, initial)) {
                for (int s = 0; s < 3; s++) {
                    for (Tensor u : updates) for (long e = 0; e < u.size(); e++) u.set(e, value(rnd));
                    ref.step(refState, refParams, updates, plain);
                    dev.step(updates, plain);
                }
                assertSameState("plain rmsprop resumed from a full state", dev, refParams, refState);
                for (String turnOn : List.of("centered", "momentum")) {
                    var e = assertThrows(IllegalArgumentException.class, () -> dev.step(updates, plain.with(turnOn, 1f)), turnOn);
                    assertTrue(e.getMessage().contains(turnOn + " off") && e.getMessage().contains(turnOn + " on"), e.getMessage());
                }
                assertSameState("after refused flag changes", dev, refParams, refState);
                // Changing a true hyperparameter (momentum stays off at -1: PyTorch's "momentum > 0") is fine.
                Hyperparams other = plain.with("alpha", 0.9f).with("momentum", -1f);
                ref.step(refState, refParams, updates, other);
                dev.step(updates, other);
                assertSameState("after a step with other values and the same flags", dev, refParams, refState);
            }
        }
    }

    @Test
    protected void aFailedStepChangesNothing() {
        Hyperparams hp = Nag.INSTANCE.defaults();
        NagReference ref = new NagReference(hp);
        Random rnd = new Random(7);
        try (ParamSet refParams = oddParams(rnd, ""); ParamSet updates = refParams.zerosLike("");
             OptState refState = ref.init(refParams); BoundOptimizer dev = bind(Nag.INSTANCE, hp, refParams, null)) {
            for (int s = 0; s < 2; s++) {
                for (Tensor u : updates) for (long e = 0; e < u.size(); e++) u.set(e, value(rnd));
                ref.step(refState, refParams, updates);
                dev.step(updates);
            }
            List<Tensor> fewer = new ArrayList<>(updates.tensors().subList(0, updates.size() - 1));
            assertThrows(IllegalArgumentException.class, () -> dev.step(new ParamSet(fewer)), "one tensor short");
            List<Tensor> reshaped = new ArrayList<>(updates.tensors());
            try (Tensor wrong = Tensor.zeros("t0", reshaped.get(0).size() + 1)) {
                reshaped.set(0, wrong);
                var e = assertThrows(IllegalArgumentException.class, () -> dev.step(new ParamSet(reshaped)));
                assertTrue(e.getMessage().contains("'t0'"), e.getMessage());
            }
            // Same shapes, other names (two tensors swapped, say): refused, naming both, never trained silently wrong.
            List<Tensor> renamed = new ArrayList<>(updates.tensors());
            try (Tensor other = Tensor.zeros("not-" + renamed.get(4).name(), renamed.get(4).shape())) {
                renamed.set(4, other);
                var e = assertThrows(IllegalArgumentException.class, () -> dev.step(new ParamSet(renamed)));
                assertTrue(e.getMessage().contains("'not-t4'") && e.getMessage().contains("'t4'"), e.getMessage());
            }
            assertThrows(IllegalArgumentException.class, () -> dev.step(updates, Hyperparams.of("eta", 0.1f)), "mu missing");
            assertThrows(IllegalArgumentException.class, () -> dev.step(updates, Hyperparams.of("eta", 0.1f, "mu", 0.9f, "x", 1f)));
            assertThrows(IllegalArgumentException.class, () -> hp.with("eta", Float.NaN), "a NaN hyperparameter cannot even be made");
            assertThrows(IllegalArgumentException.class, () -> dev.step(null));
            Tensor closed = Tensor.zeros("t0", updates.get(0).shape());
            closed.close();
            List<Tensor> withClosed = new ArrayList<>(updates.tensors());
            withClosed.set(0, closed);
            assertThrows(IllegalArgumentException.class, () -> dev.step(new ParamSet(withClosed)));
            try (OptState st = dev.readState()) {
                assertEquals(2, st.step(), "no step was counted");
            }
            assertSameState("after failed steps", dev, refParams, refState);
            // The next good step is the third: the momentum mask and state are as before the failures.
            for (Tensor u : updates) for (long e = 0; e < u.size(); e++) u.set(e, value(rnd));
            ref.step(refState, refParams, updates);
            dev.step(updates);
            assertSameState("good step after failed ones", dev, refParams, refState);
        }
    }

    /**
     * The loop of a training job with host gradients: params read into one set made once
     * ({@code readParamsInto}, and one tensor by name), updates wrapped around the caller's own
     * {@code float[]} ({@code Tensor.wrap}, no copy), every step bit-exact to the reference.
     */
    @Test
    protected void readParamsIntoAndWrappedHeapUpdatesInATrainingLoop() {
        Hyperparams hp = Nag.INSTANCE.defaults();
        NagReference ref = new NagReference(hp);
        Random rnd = new Random(13);
        try (ParamSet refParams = oddParams(rnd, ""); OptState refState = ref.init(refParams);
             ParamSet into = refParams.zerosLike(""); BoundOptimizer dev = bind(Nag.INSTANCE, hp, refParams, null)) {
            float[][] grads = new float[refParams.size()][];
            List<Tensor> wrapped = new ArrayList<>();
            for (int i = 0; i < refParams.size(); i++) {
                grads[i] = new float[(int) refParams.get(i).size()];
                wrapped.add(Tensor.wrap(refParams.get(i).name(), java.lang.foreign.MemorySegment.ofArray(grads[i]), refParams.get(i).shape()));
            }
            ParamSet updates = new ParamSet(wrapped);
            for (int s = 1; s <= 4; s++) {
                dev.readParamsInto(into);
                for (int i = 0; i < refParams.size(); i++) {
                    Bits.assertSame(refParams.get(i), into.get(i), "step " + s + " readParamsInto");
                    for (int e = 0; e < grads[i].length; e++) grads[i][e] = value(rnd); // the caller's own arrays
                }
                ref.step(refState, refParams, updates);
                dev.step(updates);
            }
            assertSameState("wrapped heap updates", dev, refParams, refState);
            Tensor one = Tensor.zeros("x", refParams.get(3).shape());
            dev.readParamInto(refParams.get(3).name(), one);
            Bits.assertSame(refParams.get(3), one, "readParamInto by name");
            one.close();
            try (ParamSet wrong = oddParams(new Random(1), "other-")) {
                var e = assertThrows(IllegalArgumentException.class, () -> dev.readParamsInto(wrong));
                assertTrue(e.getMessage().contains("other-t0") || e.getMessage().contains("shape"), e.getMessage());
            }
            assertThrows(IllegalArgumentException.class, () -> dev.readParamInto("no-such", Tensor.zeros("y", 1)));
            updates.close(); // frees nothing: the arrays are the caller's
            assertEquals(grads[0].length, grads[0].length);
        }
    }

    /** A checkpoint stores the hyperparameters of the last step taken (a schedule's value), the bound ones before any step. */
    @Test
    protected void aCheckpointStoresTheLastStepsHyperparameters() throws java.io.IOException {
        Hyperparams hp = Nag.INSTANCE.defaults();
        java.nio.file.Path file = java.nio.file.Files.createTempFile("nag4j-last-hp", ".safetensors");
        try (ParamSet params = oddParams(new Random(3), ""); ParamSet updates = params.zerosLike("");
             BoundOptimizer dev = bind(Nag.INSTANCE, hp, params, null)) {
            dev.save(file);
            try (io.nag4j.core.io.Checkpoint ck = io.nag4j.core.io.Checkpoint.load(file, Nag.INSTANCE)) {
                assertEquals(hp, ck.hyperparams(), "before any step");
            }
            Hyperparams scheduled = hp.with("eta", 0.0037f);
            dev.step(updates, hp.with("eta", 0.02f));
            dev.step(updates, scheduled);
            assertThrows(IllegalArgumentException.class, () -> dev.step(updates, Hyperparams.of("eta", 1f)), "a refused step");
            dev.save(file);
            try (io.nag4j.core.io.Checkpoint ck = io.nag4j.core.io.Checkpoint.load(file, Nag.INSTANCE)) {
                assertEquals(scheduled, ck.hyperparams(), "the last step's, not the refused one's");
                assertEquals(2, ck.state().step());
            }
        } finally {
            java.nio.file.Files.deleteIfExists(file);
        }
    }

    /** Two threads stepping one binding take turns: after 2 x 40 steps it is where 80 steps take it, never a torn state. */
    @Test
    protected void twoThreadsSteppingOneBindingTakeTurns() throws Exception {
        Hyperparams hp = Nag.INSTANCE.defaults();
        NagReference ref = new NagReference(hp);
        Random rnd = new Random(23);
        try (ParamSet refParams = oddParams(rnd, ""); ParamSet updates = refParams.zerosLike("");
             OptState refState = ref.init(refParams); BoundOptimizer dev = bind(Nag.INSTANCE, hp, refParams, null)) {
            for (Tensor u : updates) for (long e = 0; e < u.size(); e++) u.set(e, value(rnd)); // the same updates every step
            List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                threads.add(Thread.ofPlatform().start(() -> {
                    try (ParamSet mine = updates.copy()) {
                        for (int s = 0; s < 40; s++) {
                            dev.step(mine);
                            if (s % 10 == 0) dev.readState().close(); // reads interleave with the other thread's steps
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }));
            }
            for (Thread t : threads) t.join();
            if (!failures.isEmpty()) throw new AssertionError(failures.getFirst());
            for (int s = 0; s < 80; s++) ref.step(refState, refParams, updates);
            assertSameState("2 threads x 40 steps", dev, refParams, refState);
        }
    }

    @Test
    protected void checkpointFromDeviceStateResumesBitForBit() throws java.io.IOException {
        Hyperparams hp = Nag.INSTANCE.defaults().with("eta", 0.03f);
        NagReference ref = new NagReference(hp);
        Random rnd = new Random(11);
        try (ParamSet refParams = oddParams(rnd, ""); ParamSet updates = refParams.zerosLike("");
             OptState refState = ref.init(refParams)) {
            List<float[][]> us = new ArrayList<>();
            for (int s = 0; s < 12; s++) {
                float[][] u = new float[updates.size()][];
                for (int i = 0; i < u.length; i++) {
                    u[i] = new float[(int) updates.get(i).size()];
                    for (int e = 0; e < u[i].length; e++) u[i][e] = value(rnd);
                }
                us.add(u);
            }
            java.nio.file.Path file = java.nio.file.Files.createTempFile("nag4j-device-ckpt", ".safetensors");
            try (BoundOptimizer dev = bind(Nag.INSTANCE, hp, refParams, null)) {
                for (int s = 0; s < 7; s++) {
                    for (int i = 0; i < updates.size(); i++) updates.get(i).copyFrom(us.get(s)[i]);
                    dev.step(updates);
                }
                dev.save(file);  // a checkpoint file written from device state
            }
            io.nag4j.core.io.Checkpoint ck = io.nag4j.core.io.Checkpoint.load(file, Nag.INSTANCE);
            java.nio.file.Files.delete(file);
            assertEquals(hp, ck.hyperparams());
            ParamSet saved = ck.params();
            OptState savedState = ck.state();
            assertEquals(7, savedState.step());
            assertEquals(List.of("phi"), savedState.slotNames());
            assertEquals(refParams.names(), savedState.slot("phi").names());
            try (ck; BoundOptimizer resumed = bind(Nag.INSTANCE, hp, saved, savedState)) {
                for (int s = 0; s < 12; s++) {
                    for (int i = 0; i < updates.size(); i++) updates.get(i).copyFrom(us.get(s)[i]);
                    ref.step(refState, refParams, updates);
                    if (s >= 7) resumed.step(updates);
                }
                assertSameState("resumed at 7, now at 12", resumed, refParams, refState);
            }
        }
    }

    @Test
    protected void emptyTensorsAndAnEmptyParamSetStepWithoutLaunching() {
        for (ParamSet params : List.of(ParamSet.of(Tensor.zeros("e", 0), Tensor.zeros("f", 2, 0)), new ParamSet(List.of()))) {
            try (params; ParamSet updates = params.zerosLike("");
                 BoundOptimizer dev = bind(Nag.INSTANCE, Nag.INSTANCE.defaults(), params, null)) {
                dev.step(updates);
                dev.step(updates);
                assertLaunches(0, dev, "nothing to launch over");
                try (ParamSet p = dev.readParams(); OptState st = dev.readState()) {
                    assertEquals(params.names(), p.names());
                    assertEquals(2, st.step());
                }
            }
        }
    }

    @Test
    protected void readsBeforeAnyStepAndRefusesUseAfterClose() {
        Random rnd = new Random(3);
        try (ParamSet params = oddParams(rnd, ""); ParamSet updates = params.zerosLike("")) {
            BoundOptimizer dev = bind(Nag.INSTANCE, Nag.INSTANCE.defaults(), params, null);
            try (OptState zero = new NagReference().init(params)) {
                assertSameState("before any step", dev, params, zero);
            }
            dev.close();
            dev.close();
            assertThrows(IllegalStateException.class, () -> dev.step(updates));
            assertThrows(IllegalStateException.class, dev::readParams);
            assertThrows(IllegalStateException.class, dev::readState);
        }
    }
}
