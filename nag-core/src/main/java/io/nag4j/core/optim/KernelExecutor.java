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
}
