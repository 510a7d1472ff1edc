package io.nag4j.core.fuzz;

import io.nag4j.core.ir.Eqn;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.ir.Operand;

import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/** Merging programs side by side, so one compile serves many (dead code: {@link io.nag4j.core.ir.Kernels}). */
public final class Programs {
    private Programs() {}

    /**
     * Programs merged into one kernel that computes each of them side by side: each keeps its own
     * inputs (the first program's param and update are the merged kernel's), scalars and equations.
     * A backend then compiles one kernel for many programs, which is what makes thousands of
     * programs affordable on a compiler with a large fixed cost per kernel (PoCL's is ~100 ms).
     *
     * @param kernel  the merged kernel
     * @param owner   per output of {@code kernel}, the index of the program it belongs to
     * @param inputOf per program, per input of that program, the merged kernel's input index
     * @param scalarOf per program, the merged kernel's index of its first scalar
     */
    public record Merged(Kernel kernel, int[] owner, int[][] inputOf, int[] scalarOf) {
        /** The merged kernel's data: each program's columns in their merged places. */
        public float[][] data(List<float[][]> perProgram) {
            float[][] out = new float[kernel.inputs().size()][];
            for (int p = 0; p < perProgram.size(); p++) {
                for (int i = 0; i < inputOf[p].length; i++) out[inputOf[p][i]] = perProgram.get(p)[i];
            }
            return out;
        }

        /** The merged kernel's scalars: each program's in its place. */
        public float[] scalars(List<float[]> perProgram) {
            float[] out = new float[kernel.scalars().size()];
            for (int p = 0; p < perProgram.size(); p++) System.arraycopy(perProgram.get(p), 0, out, scalarOf[p], perProgram.get(p).length);
            return out;
        }
    }

    /** {@code programs} (at least one) merged into one kernel named {@code name}. */
    public static Merged merge(String name, List<Kernel> programs) {
        if (programs.isEmpty()) throw new IllegalArgumentException("nothing to merge");
        List<String> inputs = new ArrayList<>(List.of("param", "update"));
        List<String> scalars = new ArrayList<>();
        List<Eqn> eqns = new ArrayList<>();
        List<Kernel.Output> outputs = new ArrayList<>();
        List<Integer> owner = new ArrayList<>();
        int[][] inputOf = new int[programs.size()][];
        int[] scalarOf = new int[programs.size()];
        for (int p = 0; p < programs.size(); p++) {
            Kernel k = programs.get(p);
            int[] map = new int[k.inputs().size()];
            for (int i = 0; i < map.length; i++) {
                if (p == 0 && i < 2) {
                    map[i] = i;
                } else {
                    map[i] = inputs.size();
                    inputs.add("p" + p + "_" + k.inputs().get(i));
                }
            }
            inputOf[p] = map;
            int firstScalar = scalars.size(), firstVar = eqns.size();
            scalarOf[p] = firstScalar;
            for (String s : k.scalars()) scalars.add("p" + p + "_" + s);
            UnaryOperator<Operand> moved = a -> switch (a) {
                case Operand.Input in -> new Operand.Input(map[in.index()]);
                case Operand.Scalar s -> new Operand.Scalar(firstScalar + s.index());
                case Operand.Var v -> new Operand.Var(firstVar + v.id());
                case Operand.Const c -> c;
            };
            for (Eqn e : k.eqns()) eqns.add(new Eqn(eqns.size(), e.op(), e.args().stream().map(moved).toList()));
            for (Kernel.Output o : k.outputs()) {
                // An update input of a later program is a plain input of the merged kernel, which may not be written: none is.
                outputs.add(new Kernel.Output(map[o.input()], moved.apply(o.value())));
                owner.add(p);
            }
        }
        return new Merged(new Kernel(name, inputs, scalars, eqns, outputs), owner.stream().mapToInt(Integer::intValue).toArray(), inputOf, scalarOf);
    }
}
