package io.nag4j.core.optim;

import io.nag4j.core.ir.Evaluator;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.tensor.Tensor;

import java.util.List;

/** Runs a kernel element by element through the {@link Evaluator}: slow, the IR's oracle. */
public final class EvaluatorExecutor implements KernelExecutor {
    public static final EvaluatorExecutor INSTANCE = new EvaluatorExecutor();

    @Override public String name() { return "evaluator"; }

    @Override
    public void execute(Kernel kernel, List<Tensor[]> groups, float[] scalars) {
        float[] in = new float[kernel.inputs().size()];
        float[] vars = new float[kernel.eqns().size()];
        for (int t = 0; t < groups.size(); t++) {
            Tensor[] g = groups.get(t);
            long n = g[0].size();
            for (long e = 0; e < n; e++) {
                for (int i = 0; i < in.length; i++) in[i] = g[i].get(e);
                Evaluator.evalElement(kernel, in, scalars, vars, t, e);
                for (Kernel.Output o : kernel.outputs()) g[o.input()].set(e, in[o.input()]);
            }
        }
    }
}
