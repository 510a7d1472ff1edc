package io.nag4j.bench.docs;

import io.nag4j.core.cpu.CpuBackend;
import io.nag4j.core.io.Checkpoint;
import io.nag4j.core.optim.KernelOptimizer;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.optim.Optimizer;
import io.nag4j.core.reference.NagReference;
import io.nag4j.core.rule.Nag;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;


/** The README's Java example compiles and runs; its lines are checked to still be in the README. */
class ReadmeExampleTest {
    static final String EXAMPLE = """
            try (ParamSet params = ParamSet.of(Tensor.of("w", new float[] {3f, 3f}), Tensor.of("b", 3f, 3f));
                 ParamSet grads  = ParamSet.of(Tensor.of("w", new float[] {3f, 3f}), Tensor.of("b", 3f, 3f))) {
                Optimizer nag = new KernelOptimizer(Nag.INSTANCE, Nag.INSTANCE.defaults(), CpuBackend.shared());
                try (OptState state = nag.init(params)) {
                    nag.step(state, params, grads);                                      // the seed's nag_step
                    nag.step(state, params, grads, nag.hyperparams().with("eta", 0.005f)); // a schedule: no recompile
                    Checkpoint.save(Path.of("ckpt.safetensors"), params, state, nag.hyperparams());
                }
            }
            """;

    @Test
    void readmeExampleRunsAndIsWhatTheReadmeShows() throws Exception {
        Path readme = io.nag4j.core.golden.Golden.repoRoot().resolve("README.md");
        String text = Files.readString(readme);
        for (String line : EXAMPLE.strip().split("\n")) assertTrue(text.contains(line.strip()), "README lacks: " + line);
        run();
        Path ckpt = Path.of("ckpt.safetensors");   // relative, as in the README: the module directory under Maven
        try (Checkpoint ck = Checkpoint.load(ckpt);
             ParamSet p = ParamSet.of(Tensor.of("w", 3f, 3f), Tensor.of("b", 3f, 3f));
             ParamSet g = ParamSet.of(Tensor.of("w", 3f, 3f), Tensor.of("b", 3f, 3f))) {
            NagReference ref = new NagReference();
            try (OptState s = ref.init(p)) {
                ref.step(s, p, g);
                ref.step(s, p, g, ref.hyperparams().with("eta", 0.005f));
            }
            assertEquals(2, ck.state().step());
            for (int i = 0; i < 2; i++) {
                assertEquals(Float.floatToRawIntBits(p.get("w").get(i)), Float.floatToRawIntBits(ck.params().get("w").get(i)), "w[" + i + "]");
            }
        } finally {
            Files.deleteIfExists(ckpt);
        }
    }

    static void run() throws Exception {
        try (ParamSet params = ParamSet.of(Tensor.of("w", new float[] {3f, 3f}), Tensor.of("b", 3f, 3f));
             ParamSet grads  = ParamSet.of(Tensor.of("w", new float[] {3f, 3f}), Tensor.of("b", 3f, 3f))) {
            Optimizer nag = new KernelOptimizer(Nag.INSTANCE, Nag.INSTANCE.defaults(), CpuBackend.shared());
            try (OptState state = nag.init(params)) {
                nag.step(state, params, grads);                                      // the seed's nag_step
                nag.step(state, params, grads, nag.hyperparams().with("eta", 0.005f)); // a schedule: no recompile
                Checkpoint.save(Path.of("ckpt.safetensors"), params, state, nag.hyperparams());
            }
        }
    }
}
