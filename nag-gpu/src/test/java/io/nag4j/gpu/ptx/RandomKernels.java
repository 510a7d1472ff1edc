package io.nag4j.gpu.ptx;

import io.nag4j.core.ir.Eqn;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.ir.Op;
import io.nag4j.core.ir.Operand;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Random well-formed kernels over every op, for renderer and device tests: 2 to 4 inputs (param,
 * update, slots), 0 to 3 scalars, up to 30 equations reading inputs, scalars, earlier results and
 * constants (special values included), and an output for param and every slot.
 */
final class RandomKernels {
    static final float[] SPECIAL = {0f, -0f, 1f, -1f, 0.5f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN,
            Float.MIN_VALUE, -Float.MIN_NORMAL, Float.MAX_VALUE, 0.01f, 0.9f, 1e-8f, 3f};

    private RandomKernels() {}

    static List<Kernel> generate(int count, long seed) {
        List<Kernel> out = new ArrayList<>();
        for (int i = 0; i < count; i++) out.add(one(new Random(seed + i), "rand" + (seed + i)));
        return out;
    }

    static Kernel one(Random rnd, String name) {
        List<String> inputs = new ArrayList<>(List.of("param", "update"));
        int slots = rnd.nextInt(3);
        for (int s = 0; s < slots; s++) inputs.add("slot" + s);
        List<String> scalars = new ArrayList<>();
        int nScalars = rnd.nextInt(4);
        for (int s = 0; s < nScalars; s++) scalars.add("h" + s);
        Op[] ops = Op.values();
        int nEqns = 1 + rnd.nextInt(30);
        List<Eqn> eqns = new ArrayList<>();
        for (int id = 0; id < nEqns; id++) {
            Op op = ops[rnd.nextInt(ops.length)];
            List<Operand> args = new ArrayList<>();
            for (int a = 0; a < op.arity(); a++) args.add(operand(rnd, id, inputs.size(), nScalars));
            eqns.add(new Eqn(id, op, args));
        }
        List<Kernel.Output> outs = new ArrayList<>();
        for (int in = 0; in < inputs.size(); in++) {
            if (in == Kernel.UPDATE) continue;
            // Mostly a late result, so most equations feed an output.
            Operand v = rnd.nextInt(8) == 0 ? operand(rnd, nEqns, inputs.size(), nScalars)
                    : new Operand.Var(nEqns - 1 - rnd.nextInt(Math.min(nEqns, 3)));
            outs.add(new Kernel.Output(in, v));
        }
        return new Kernel(name, inputs, scalars, eqns, outs);
    }

    private static Operand operand(Random rnd, int before, int nInputs, int nScalars) {
        while (true) {
            switch (rnd.nextInt(6)) {
                case 0, 1 -> { return new Operand.Input(rnd.nextInt(nInputs)); }
                case 2 -> { if (nScalars > 0) return new Operand.Scalar(rnd.nextInt(nScalars)); }
                case 3 -> {
                    float c = rnd.nextBoolean() ? SPECIAL[rnd.nextInt(SPECIAL.length)] : (float) rnd.nextGaussian();
                    return new Operand.Const(Float.floatToRawIntBits(c));
                }
                default -> { if (before > 0) return new Operand.Var(before - 1 - rnd.nextInt(Math.min(before, 6))); }
            }
        }
    }
}
