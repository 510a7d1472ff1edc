package io.nag4j.core.bound;

import io.nag4j.core.optim.OptState;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.tensor.ParamSet;

/**
 * An optimizer bound to a ParamSet on one backend: params and state live where the backend
 * keeps them (host memory for the CPU, device memory for OpenCL and CUDA) across steps; a step
 * sends only the updates; params and state are read back on demand. nag4j's bindings are safe
 * to share between threads: steps and reads are serialised (each sees whole steps, never a torn
 * state), so two threads stepping one binding take turns.
 */
public interface BoundOptimizer extends AutoCloseable {
    /** The backend and device, e.g. {@code cpu} or {@code opencl:0 (pthread-...)}. */
    String where();

    Hyperparams hyperparams();

    /** One step with the bound hyperparameters. */
    default void step(ParamSet updates) { step(updates, hyperparams()); }

    /** One step with these hyperparameters (a schedule may change them every step). */
    void step(ParamSet updates, Hyperparams hp);

    /** Host copies of the current params, named as bound; the caller closes them. */
    ParamSet readParams();

    /** Host copy of the current state; the caller closes it. */
    OptState readState();

    /**
     * Copies the current params into {@code dst} (the params' names, order and shapes: a set made
     * once with {@code zerosLike("")}), so a training loop that computes gradients on the host
     * reads them every step without allocating. Nothing is written if {@code dst} does not match.
     */
    default void readParamsInto(ParamSet dst) {
        try (ParamSet now = readParams()) {
            now.checkCompatible(dst, "the destination");
            for (int i = 0; i < now.size(); i++) dst.get(i).copyFrom(now.get(i));
        }
    }

    /** Copies the current value of param {@code name} into {@code dst} (its shape). */
    default void readParamInto(String name, io.nag4j.core.tensor.Tensor dst) {
        try (ParamSet now = readParams()) {
            io.nag4j.core.tensor.Tensor src = now.get(name);
            if (dst == null || !src.sameShape(dst)) {
                throw new IllegalArgumentException("the destination for param '" + name + "' must have its shape "
                        + java.util.Arrays.toString(src.shape()) + (dst == null ? ", got null" : ", has " + java.util.Arrays.toString(dst.shape())));
            }
            dst.copyFrom(src);
        }
    }

    /** The hyperparameters of the last step taken (a schedule's value), or {@link #hyperparams()} before any step. */
    default Hyperparams lastStepHyperparams() { return hyperparams(); }

    /**
     * Saves a checkpoint of the current params and state (read back from wherever they live) with
     * the hyperparameters of the last step (so a scheduled run resumes where it was), atomically:
     * a failed save leaves an existing file intact.
     */
    default void save(java.nio.file.Path path) throws java.io.IOException {
        save(path, lastStepHyperparams());
    }

    /** As {@link #save(java.nio.file.Path)}, storing {@code hp} (a schedule's base values, say) as the checkpoint's hyperparameters. */
    default void save(java.nio.file.Path path, Hyperparams hp) throws java.io.IOException {
        ParamSet params;
        OptState state;
        // Params and state of the same step: nag4j's bindings lock themselves for each step and read.
        synchronized (this) {
            params = readParams();
            try {
                state = readState();
            } catch (RuntimeException | Error e) {
                params.close();
                throw e;
            }
        }
        try (params; state) {
            io.nag4j.core.io.Checkpoint.save(path, params, state, hp);
        }
    }

    @Override
    void close();
}
