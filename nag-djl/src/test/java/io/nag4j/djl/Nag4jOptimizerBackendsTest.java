package io.nag4j.djl;

import io.nag4j.core.example.UserRuleExampleTest;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Rules;
import io.nag4j.core.testing.Requires;
import io.nag4j.gpu.plan.Backends;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Nag4jOptimizer on the reference, on PoCL (OpenCL, required in CI) and with a user-written rule, against the reference on DJL's gradients. */
class Nag4jOptimizerBackendsTest {
    static final long WEIGHT_BYTES = 4L * (DjlMlp.FEATURES * DjlMlp.HIDDEN + DjlMlp.HIDDEN + DjlMlp.HIDDEN * DjlMlp.CLASSES + DjlMlp.CLASSES);

    @Test
    void everyBuiltInRuleOnOpenClGivesTheReferencesBitsOnDjlsGradients() {
        String why = null;
        try {
            Backends.resolve("opencl:0");
        } catch (RuntimeException e) {
            why = "no OpenCL device: " + e.getMessage();
        }
        Requires.available("OPENCL", why);
        for (Rule rule : Rules.all()) {
            Nag4jOptimizer.Counters c = Nag4jOptimizerTest.trainAgainstReference(rule, rule.defaults(), "opencl:0", Nag4jOptimizer.Launches.PER_STEP, 5);
            assertEquals(4 + 4, c.launches(), rule.name());
            assertEquals(5 * WEIGHT_BYTES, c.weightBytesCopied(), rule.name() + ": the device's new weights, written into DJL's memory once a step");
        }
    }

    @Test
    void aUserWrittenRuleRunsOnTheCpuAndTheReference() {
        Rule lion = new UserRuleExampleTest.Lion();
        for (String b : new String[] {"cpu", "reference"}) {
            for (Nag4jOptimizer.Launches l : Nag4jOptimizer.Launches.values()) {
                Nag4jOptimizerTest.trainAgainstReference(lion, lion.defaults().with("lr", 0.01f).with("wd", 0.1f), b, l, 6);
            }
        }
    }
}
