package io.nag4j.core.io;

import io.nag4j.core.optim.OptState;
import io.nag4j.core.rule.Nag;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;

import java.nio.file.Path;

/** A child process for {@link InterruptedWriteTest}: saves a large checkpoint of value {@code args[1]} to {@code args[0]}, over and over, until killed. */
public final class CheckpointWriterChild {
    public static void main(String[] args) throws Exception {
        Path path = Path.of(args[0]);
        float value = Float.parseFloat(args[1]);
        int n = 8 << 20; // 32 MB per tensor: a write takes long enough to be interrupted
        float[] data = new float[n];
        java.util.Arrays.fill(data, value);
        try (ParamSet p = ParamSet.of(Tensor.of("w", data)); OptState s = OptState.zeros("nag", Nag.INSTANCE.slots(), p)) {
            System.out.println("writing");
            System.out.flush();
            while (true) Checkpoint.save(path, p, s, Nag.INSTANCE.defaults());
        }
    }
}
