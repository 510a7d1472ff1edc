package io.nag4j.bench.docs;

import io.nag4j.core.io.Checkpoint;
import io.nag4j.core.rule.Nag;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import io.nag4j.gpu.plan.Backends;
import io.nag4j.gpu.plan.BoundOptimizer;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's "Use it from Maven" loop compiles (with only the imports it names) and converges; its lines are checked to be in the README. */
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

    @Test
    void theMavenSectionsLoopRunsAndIsWhatTheReadmeShows() throws Exception {
        String text = Files.readString(io.nag4j.core.golden.Golden.repoRoot().resolve("README.md"));
        for (String line : EXAMPLE.strip().split("\n")) assertTrue(text.contains(line.strip()), "README lacks: " + line);
        Path model = Path.of("model.safetensors");
        try {
            run();
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
