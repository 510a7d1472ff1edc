package io.nag4j.core.io;

import io.nag4j.core.optim.OptState;
import io.nag4j.core.rule.Nag;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A checkpoint write killed part way (the process, not a thrown exception) leaves a whole checkpoint: the old one or the new one. */
class InterruptedWriteTest {
    @TempDir
    Path dir;

    @Test
    void killingTheWriterMidWriteLeavesAWholeCheckpoint() throws Exception {
        Path ckpt = dir.resolve("model.safetensors");
        try (ParamSet p = ParamSet.of(Tensor.of("w", new float[] {1f, 2f, 3f})); OptState s = OptState.zeros("nag", Nag.INSTANCE.slots(), p)) {
            Checkpoint.save(ckpt, p, s, Nag.INSTANCE.defaults());
        }
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (int round = 0; round < 3; round++) {
            Process child = new ProcessBuilder(List.of(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                    CheckpointWriterChild.class.getName(), ckpt.toString(), "7")).redirectErrorStream(true).start();
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream()))) {
                assertEquals("writing", out.readLine(), "the child started");
                Thread.sleep(150 + 170L * round); // somewhere inside a write of 64 MB
                child.destroyForcibly();
                assertTrue(child.waitFor(30, TimeUnit.SECONDS));
            }
            try (Checkpoint ck = Checkpoint.load(ckpt, Nag.INSTANCE)) {
                Tensor w = ck.params().get("w");
                boolean old = w.size() == 3 && w.get(0) == 1f && w.get(2) == 3f;
                boolean complete = w.size() == 8 << 20 && w.get(0) == 7f && w.get(w.size() - 1) == 7f;
                assertTrue(old || complete, "round " + round + ": neither the old nor a whole new checkpoint: " + w.size() + " elements");
            }
        }
    }
}
