package io.nag4j.core.ir;

import io.nag4j.core.golden.Bits;
import io.nag4j.core.optim.EvaluatorExecutor;
import io.nag4j.core.optim.KernelExecutor;
import io.nag4j.core.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Differential check of a {@link KernelExecutor} against the reference {@link EvaluatorExecutor}:
 * both run the same kernel on copies of the same inputs, and every output element must agree bit
 * for bit (NaN by class). A failure names the group, element, output, the element's inputs and
 * scalars, and the first equation whose value differs (found by running the kernel's prefixes on
 * that one element), so a wrong lowering of one op is named directly.
 */
public final class KernelDiff {
    private KernelDiff() {}

    /** Copies of the failing element when looking for the first differing equation. */
    private static final int REPEAT = 67;

    /**
     * Runs {@code k} through the evaluator and through {@code subject}.
     *
     * @param groups per group, one array per kernel input (all of one length)
     */
    public static void assertSameAsEvaluator(Kernel k, List<float[][]> groups, float[] scalars,
                                             KernelExecutor subject, String context) {
        List<Tensor[]> want = tensors(k, groups), got = tensors(k, groups);
        try {
            EvaluatorExecutor.INSTANCE.execute(k, want, scalars.clone());
            subject.execute(k, got, scalars.clone());
            for (int g = 0; g < groups.size(); g++) {
                for (Kernel.Output o : k.outputs()) {
                    float[] w = want.get(g)[o.input()].toArray(), a = got.get(g)[o.input()].toArray();
                    for (int e = 0; e < w.length; e++) {
                        if (!Bits.same(w[e], a[e])) {
                            float[] in = new float[k.inputs().size()];
                            for (int i = 0; i < in.length; i++) in[i] = groups.get(g)[i][e];
                            fail(context + ": " + subject.name() + " differs from the evaluator in group " + g
                                    + " element " + e + " output '" + k.inputs().get(o.input()) + "': expected "
                                    + Bits.show(w[e]) + ", got " + Bits.show(a[e]) + "\n  inputs " + show(k.inputs(), in)
                                    + "\n  scalars " + show(k.scalars(), scalars)
                                    + "\n  " + firstDifferingOp(k, in, scalars, subject) + "\n" + k.print());
                        }
                    }
                }
            }
        } finally {
            close(want);
            close(got);
        }
    }

    /**
     * On one element: the first equation whose value differs between the evaluator and
     * {@code subject}, with its operands' values, or a note that every equation agrees.
     */
    public static String firstDifferingOp(Kernel k, float[] in, float[] scalars, KernelExecutor subject) {
        float[] vars = new float[k.eqns().size()];
        Evaluator.evalElement(k, in.clone(), scalars, vars);
        for (Eqn e : k.eqns()) {
            // The prefix up to e, writing v<e> to the param: what the subject computes for this equation.
            Kernel prefix = new Kernel(k.name() + "_upto_v" + e.id(), k.inputs(), k.scalars(),
                    k.eqns().subList(0, e.id() + 1), List.of(new Kernel.Output(Kernel.PARAM, new Operand.Var(e.id()))));
            // The element repeated, so that a backend's vector lanes as well as its scalar remainder see it.
            float[][] copies = new float[in.length][];
            for (int i = 0; i < in.length; i++) {
                copies[i] = new float[REPEAT];
                java.util.Arrays.fill(copies[i], in[i]);
            }
            List<Tensor[]> t = tensors(prefix, List.<float[][]>of(copies));
            try {
                subject.execute(prefix, t, scalars.clone());
                float got = vars[e.id()];
                for (int r = 0; r < REPEAT && Bits.same(vars[e.id()], got); r++) got = t.get(0)[Kernel.PARAM].get(r);
                if (!Bits.same(vars[e.id()], got)) {
                    StringBuilder sb = new StringBuilder("first differing equation: v" + e.id() + " = " + e.op().mnemonic());
                    for (Operand a : e.args()) sb.append(' ').append(k.show(a)).append('=').append(Bits.show(Evaluator.read(a, in, scalars, vars)));
                    return sb.append(": expected ").append(Bits.show(vars[e.id()])).append(", got ").append(Bits.show(got)).toString();
                }
            } finally {
                close(t);
            }
        }
        return "every equation agrees on this element (the outputs' write-back differs)";
    }

    private static String show(List<String> names, float[] v) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < v.length; i++) sb.append(i == 0 ? "" : ", ").append(names.get(i)).append('=').append(Bits.show(v[i]));
        return sb.toString();
    }

    /** Fresh tensors holding copies of the arrays. */
    public static List<Tensor[]> tensors(Kernel k, List<float[][]> groups) {
        List<Tensor[]> out = new ArrayList<>();
        for (int g = 0; g < groups.size(); g++) {
            float[][] arrays = groups.get(g);
            Tensor[] ts = new Tensor[k.inputs().size()];
            for (int i = 0; i < ts.length; i++) ts[i] = Tensor.of("g" + g + "_" + k.inputs().get(i), arrays[i]);
            out.add(ts);
        }
        return out;
    }

    public static void close(List<Tensor[]> groups) {
        for (Tensor[] g : groups) for (Tensor t : g) t.close();
    }
}
