package io.nag4j.djl;

import ai.djl.training.tracker.Tracker;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Rules;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class Nag4jOptimizerTest {
    static final Tracker COSINE = t -> (float) (0.05 * (0.5 + 0.5 * Math.cos(Math.PI * Math.min(t, 20) / 20.0)));

    /** Trains {@code steps} steps and checks, after each, the weights against the reference on the same gradients. */
    static Nag4jOptimizer.Counters trainAgainstReference(Rule rule, Hyperparams hp, String backend, Nag4jOptimizer.Launches launches, int steps) {
        try (Nag4jOptimizer opt = Nag4jOptimizer.builder().optRule(rule).optHyperparams(hp).optLearningRateTracker(COSINE)
                     .optBackend(backend).optLaunches(launches).build();
             DjlMlp mlp = new DjlMlp(opt, 7);
             ReferenceShadow ref = new ReferenceShadow(mlp.block, rule, hp, null, opt.mode())) {
            for (int t = 1; t <= steps; t++) {
                mlp.step(t, ref::captureGradients);
                String lr = hp.names().contains("lr") ? "lr" : "eta";
                ReferenceShadow.Difference d = ref.stepAndCompare(hp.with(lr, COSINE.getNewValue(t)));
                int step = t;
                assertNull(d, () -> rule.name() + " on " + backend + " " + launches + " step " + step + ": " + d.describe(backend));
            }
            return opt.counters();
        }
    }

    @ParameterizedTest
    @EnumSource(Nag4jOptimizer.Launches.class)
    void everyBuiltInRuleOnTheCpuBackendGivesTheReferencesBitsOnDjlsGradients(Nag4jOptimizer.Launches launches) {
        for (Rule rule : Rules.all()) trainAgainstReference(rule, rule.defaults(), "cpu", launches, 6);
    }

    @Test
    void perStepLaunchesOncePerParameterInTheFirstStepThenOncePerStep() {
        Nag4jOptimizer.Counters c = trainAgainstReference(Rules.byName("adam"), Rules.byName("adam").defaults(), "cpu", Nag4jOptimizer.Launches.PER_STEP, 5);
        assertEquals(4 * 5, c.updates());
        assertEquals(4 + 4, c.launches(), c.toString()); // step 1: one per parameter; steps 2..5: one each
        long bytes = 4L * (DjlMlp.FEATURES * DjlMlp.HIDDEN + DjlMlp.HIDDEN + DjlMlp.HIDDEN * DjlMlp.CLASSES + DjlMlp.CLASSES);
        assertEquals(4 * bytes, c.gradientBytesCopied(), "steps 2..5 stage every gradient once");
        assertEquals(0, c.weightBytesCopied(), "on the cpu backend the rule runs on DJL's weights in place");
        assertEquals(0, c.engineBytesCopied(), "PyTorch hands out views of contiguous CPU tensors");
    }

    @Test
    void perParameterCopiesNothingOnTheCpuBackend() {
        Nag4jOptimizer.Counters c = trainAgainstReference(Rules.byName("nag"), Rules.byName("nag").defaults(), "cpu", Nag4jOptimizer.Launches.PER_PARAMETER, 4);
        assertEquals(new Nag4jOptimizer.Counters(16, 16, 0, 0, 0), c);
    }
}
