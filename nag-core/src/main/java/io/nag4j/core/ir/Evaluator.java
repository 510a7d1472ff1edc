package io.nag4j.core.ir;

/**
 * The reference evaluator: runs a kernel on one element at a time, op by op through
 * {@link Op#eval}. It is the oracle every backend is held against, not a backend itself.
 */
public final class Evaluator {
    private Evaluator() {}

    /**
     * Evaluates one element. {@code in} holds the element's inputs (param, update, slots) and
     * receives the outputs in place; {@code scalars} are the kernel's scalar arguments.
     */
    public static void evalElement(Kernel k, float[] in, float[] scalars) {
        float[] vars = new float[k.eqns().size()];
        evalElement(k, in, scalars, vars);
    }

    /** As {@link #evalElement(Kernel, float[], float[])}, with a caller-provided scratch array. */
    public static void evalElement(Kernel k, float[] in, float[] scalars, float[] vars) {
        evalElement(k, in, scalars, vars, 0, 0);
    }

    /**
     * As {@link #evalElement(Kernel, float[], float[], float[])} for element {@code element} of
     * tensor {@code tensor} (its index in the ParamSet), which only {@link Op#RANDOM} reads.
     */
    public static void evalElement(Kernel k, float[] in, float[] scalars, float[] vars, int tensor, long element) {
        for (Eqn e : k.eqns()) {
            var args = e.args();
            if (e.op() == Op.RANDOM) {
                vars[e.id()] = Philox.uniform((int) read(args.get(0), in, scalars, vars), read(args.get(1), in, scalars, vars),
                        read(args.get(2), in, scalars, vars), read(args.get(3), in, scalars, vars), read(args.get(4), in, scalars, vars),
                        read(args.get(5), in, scalars, vars), read(args.get(6), in, scalars, vars), tensor, element);
                continue;
            }
            float a = read(args.get(0), in, scalars, vars);
            float b = args.size() > 1 ? read(args.get(1), in, scalars, vars) : 0f;
            float c = args.size() > 2 ? read(args.get(2), in, scalars, vars) : 0f;
            vars[e.id()] = e.op().eval(a, b, c);
        }
        // Read every output before writing any: an output may read an input that another overwrites.
        float[] out = new float[k.outputs().size()];
        for (int i = 0; i < out.length; i++) out[i] = read(k.outputs().get(i).value(), in, scalars, vars);
        for (int i = 0; i < out.length; i++) in[k.outputs().get(i).input()] = out[i];
    }

    static float read(Operand a, float[] in, float[] scalars, float[] vars) {
        return switch (a) {
            case Operand.Input i -> in[i.index()];
            case Operand.Scalar s -> scalars[s.index()];
            case Operand.Const c -> c.value();
            case Operand.Var v -> vars[v.id()];
        };
    }
}
