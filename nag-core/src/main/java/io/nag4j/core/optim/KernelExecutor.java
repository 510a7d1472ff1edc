package io.nag4j.core.optim;

import io.nag4j.core.ir.Kernel;
import io.nag4j.core.tensor.Tensor;

import java.util.List;

/**
 * Runs a traced kernel over host tensors: the CPU backends implement this. Each entry of
 * {@code groups} is one param's inputs in kernel order (param, update, slots...), all of one
 * size; outputs are written back in place. Called only with inputs already checked.
 */
public interface KernelExecutor {
    String name();

    void execute(Kernel kernel, List<Tensor[]> groups, float[] scalars);

    /**
     * {@code kernel} over these exact tensors, ready to run step after step: what a training
     * loop's steps reuse, so a step needs no lookup. The default runs {@link #execute} each time;
     * {@link io.nag4j.core.cpu.CpuBackend} plans once and allocates nothing per run. The tensors
     * must be open when it runs (the caller checks, as {@link KernelOptimizer} does).
     */
    default Launch prepare(Kernel kernel, List<Tensor[]> groups) {
        List<Tensor[]> fixed = List.copyOf(groups);
        return scalars -> execute(kernel, fixed, scalars);
    }

    /** A prepared kernel launch: runs with one step's scalars (hyperparameters, then host values). */
    @FunctionalInterface
    interface Launch {
        void run(float[] scalars);
    }
}
