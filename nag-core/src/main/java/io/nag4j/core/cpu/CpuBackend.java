package io.nag4j.core.cpu;

import io.nag4j.core.ir.EvaluatorExecutor;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.optim.KernelExecutor;
import io.nag4j.core.tensor.Tensor;

import java.util.List;

/** The CPU backend. PLACEHOLDER: delegates to the evaluator until the generated-code backend lands. */
public final class CpuBackend implements KernelExecutor {
    private static final CpuBackend SHARED = new CpuBackend();

    public static CpuBackend shared() { return SHARED; }

    @Override public String name() { return "cpu"; }

    @Override
    public void execute(Kernel kernel, List<Tensor[]> groups, float[] scalars) {
        EvaluatorExecutor.INSTANCE.execute(kernel, groups, scalars);
    }
}
