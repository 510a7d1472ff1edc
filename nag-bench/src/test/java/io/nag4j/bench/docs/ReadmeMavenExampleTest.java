package io.nag4j.bench.docs;

import io.nag4j.core.io.Checkpoint;
import io.nag4j.core.rule.Nag;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import io.nag4j.gpu.plan.Backends;
import io.nag4j.core.bound.BoundOptimizer;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's "Use it from Maven" loop and docs/training.md's resume compile (with only the
 * imports they name) and run, the loop converging; their lines are checked to be in both pages.
 */
class ReadmeMavenExampleTest {
    static final String EXAMPLE = """
            float[] gradW = new float[6], gradB = new float[2];          // your gradients, e.g. from another library
            try (ParamSet params = ParamSet.of(Tensor.of("W", new float[6], 2, 3), Tensor.of("b", new float[2], 2));
                 ParamSet grads = ParamSet.of(Tensor.wrap("W", MemorySegment.ofArray(gradW), 2, 3),   // no copy: a view of gradW
                                              Tensor.wrap("b", MemorySegment.ofArray(gradB), 2));     // names must be the params'
                 ParamSet now = params.zerosLike("");                     // the params as of each step, read back into it
                 BoundOptimizer opt = Backends.bind("cpu", Nag.INSTANCE, Nag.INSTANCE.defaults(), params, null)) {
                for (int step = 1; step <= 100; step++) {
                    opt.readParamsInto(now);                              // no allocation
                    for (int i = 0; i < 6; i++) gradW[i] = now.get("W").get(i) - 1f;   // d/dW of 0.5*|W - 1|^2
                    for (int i = 0; i < 2; i++) gradB[i] = now.get("b").get(i) + 2f;   // d/db of 0.5*|b + 2|^2
                    opt.step(grads, opt.hyperparams().with("eta", 0.1f));
                }
                opt.save(Path.of("model.safetensors"));                   // params, state and the last step's hyperparameters
            }
            """;

    static final String RESUME = """
            try (Checkpoint ck = Checkpoint.load(Path.of("model.safetensors"), Nag.INSTANCE);
                 BoundOptimizer opt = Backends.bind("cpu", Nag.INSTANCE, ck.hyperparams(), ck.params(), ck.state())) {
                long next = ck.state().step() + 1;                         // the step to take next: 101 after the loop above
                System.out.println("resumed at step " + next + " on " + opt.where());
            }
            """;

    @Test
    void theMavenSectionsLoopRunsAndIsWhatTheReadmeAndTheTrainingGuideShow() throws Exception {
        Path root = io.nag4j.core.golden.Golden.repoRoot();
        String readme = Files.readString(root.resolve("README.md")), guide = Files.readString(root.resolve("docs/training.md"));
        for (String line : EXAMPLE.strip().split("\n")) {
            assertTrue(readme.contains(line.strip()), "README lacks: " + line);
            assertTrue(guide.contains(line.strip()), "docs/training.md lacks: " + line);
        }
        for (String line : RESUME.strip().split("\n")) assertTrue(guide.contains(line.strip()), "docs/training.md lacks: " + line);
        Path model = Path.of("model.safetensors");
        try {
            run();
            resume();
            try (Checkpoint ck = Checkpoint.load(model, Nag.INSTANCE)) {
                assertEquals(100, ck.state().step());
                assertEquals(0.1f, ck.hyperparams().get("eta"), "the last step's hyperparameters");
                for (int i = 0; i < 6; i++) assertEquals(1f, ck.params().get("W").get(i), 1e-3f, "W converges to 1");
                for (int i = 0; i < 2; i++) assertEquals(-2f, ck.params().get("b").get(i), 1e-3f, "b converges to -2");
            }
        } finally {
            Files.deleteIfExists(model);
        }
    }

    static void resume() throws Exception {
        try (Checkpoint ck = Checkpoint.load(Path.of("model.safetensors"), Nag.INSTANCE);
             BoundOptimizer opt = Backends.bind("cpu", Nag.INSTANCE, ck.hyperparams(), ck.params(), ck.state())) {
            long next = ck.state().step() + 1;                         // the step to take next: 101 after the loop above
            System.out.println("resumed at step " + next + " on " + opt.where());
        }
    }

    static void run() throws Exception {
        float[] gradW = new float[6], gradB = new float[2];          // your gradients, e.g. from another library
        try (ParamSet params = ParamSet.of(Tensor.of("W", new float[6], 2, 3), Tensor.of("b", new float[2], 2));
             ParamSet grads = ParamSet.of(Tensor.wrap("W", MemorySegment.ofArray(gradW), 2, 3),   // no copy: a view of gradW
                                          Tensor.wrap("b", MemorySegment.ofArray(gradB), 2));     // names must be the params'
             ParamSet now = params.zerosLike("");                     // the params as of each step, read back into it
             BoundOptimizer opt = Backends.bind("cpu", Nag.INSTANCE, Nag.INSTANCE.defaults(), params, null)) {
            for (int step = 1; step <= 100; step++) {
                opt.readParamsInto(now);                              // no allocation
                for (int i = 0; i < 6; i++) gradW[i] = now.get("W").get(i) - 1f;   // d/dW of 0.5*|W - 1|^2
                for (int i = 0; i < 2; i++) gradB[i] = now.get("b").get(i) + 2f;   // d/db of 0.5*|b + 2|^2
                opt.step(grads, opt.hyperparams().with("eta", 0.1f));
            }
            opt.save(Path.of("model.safetensors"));                   // params, state and the last step's hyperparameters
        }
    }
}
