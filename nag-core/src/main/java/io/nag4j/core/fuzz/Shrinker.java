package io.nag4j.core.fuzz;

import io.nag4j.core.ir.Eqn;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.ir.Operand;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * Shrinks a failing case to a small one that still fails: fewer elements (the failing one alone,
 * or repeated so vector lanes see it), fewer outputs, equations bypassed by one of their operands,
 * dead code and unused inputs and scalars removed. Greedy and deterministic; every candidate is
 * kept only if the check still reports a mismatch.
 */
public final class Shrinker {
    private Shrinker() {}

    /** A program with its data (one column per input, all of one length) and scalars. */
    public record Case(Kernel program, float[][] data, float[] scalars) {
        public int elements() { return data.length == 0 ? 0 : data[0].length; }
    }

    /** Copies of an element that vector lanes as well as a scalar remainder see. */
    static final int REPEAT = 67;
    private static final int MAX_CHECKS = 4000;

    /**
     * @param failing a case {@code check} reports as failing
     * @param check   the failing element's index, or -1 when the case passes (a check that throws fails at element 0)
     */
    public static Case shrink(Case failing, Function<Case, Integer> check) {
        Checker c = new Checker(check);
        Integer first = c.fails(failing);
        if (first == null) throw new IllegalArgumentException("the case to shrink does not fail");
        Case best = failing;
        // Elements: the failing one alone, else repeated.
        int e = first;
        for (Case candidate : List.of(element(best, e, 1), element(best, e, REPEAT))) {
            if (c.fails(candidate) != null) {
                best = candidate;
                break;
            }
        }
        boolean changed = true;
        while (changed && c.budgetLeft()) {
            changed = false;
            // Outputs, one at a time (at least one stays).
            for (int o = best.program().outputs().size() - 1; o >= 0 && best.program().outputs().size() > 1; o--) {
                List<Kernel.Output> outs = new ArrayList<>(best.program().outputs());
                outs.remove(o);
                Case candidate = with(best, new Kernel(best.program().name(), best.program().inputs(), best.program().scalars(), best.program().eqns(), outs));
                if (c.fails(candidate) != null) {
                    best = candidate;
                    changed = true;
                }
            }
            // Equations, latest first: every use replaced by one of the equation's operands.
            for (int id = best.program().eqns().size() - 1; id >= 0 && c.budgetLeft(); id--) {
                if (id >= best.program().eqns().size()) continue;
                // With the code that leaves dead, or (when dead code is what fails) only this equation removed.
                search:
                for (Operand a : best.program().eqns().get(id).args()) {
                    Kernel bypassed = bypass(best.program(), id, a);
                    for (Kernel k : List.of(io.nag4j.core.ir.Kernels.withoutDeadCode(bypassed), without(bypassed, id))) {
                        Case candidate = with(best, k);
                        if (c.fails(candidate) != null) {
                            best = candidate;
                            changed = true;
                            break search;
                        }
                    }
                }
            }
            // Equations, latest first, replaced by the constant they compute at the failing element (the data is one element by now).
            if (best.elements() > 0 && c.budgetLeft()) {
                Kernel k = best.program();
                float[] in = new float[k.inputs().size()], vars = new float[k.eqns().size()];
                for (int i = 0; i < in.length; i++) in[i] = best.data()[i][0];
                io.nag4j.core.ir.Evaluator.evalElement(k, in, best.scalars(), vars);
                for (int id = k.eqns().size() - 1; id >= 0 && c.budgetLeft(); id--) {
                    Operand value = new Operand.Const(Float.floatToRawIntBits(vars[id]));
                    Case candidate = with(best, io.nag4j.core.ir.Kernels.withoutDeadCode(bypass(k, id, value)));
                    if (candidate.program().eqns().size() < best.program().eqns().size() && c.fails(candidate) != null) {
                        best = candidate;
                        changed = true;
                        break; // the equations are renumbered: compute again on the next pass
                    }
                }
            }
            Case dce = with(best, io.nag4j.core.ir.Kernels.withoutDeadCode(best.program()));
            if (dce.program().eqns().size() < best.program().eqns().size() && c.fails(dce) != null) {
                best = dce;
                changed = true;
            }
        }
        Case compact = withoutUnused(best);
        return c.fails(compact) != null ? compact : best;
    }

    /** Uses of {@code Var(id)} replaced by {@code by} (which comes before {@code id}). */
    private static Kernel bypass(Kernel k, int id, Operand by) {
        Function<Operand, Operand> swap = a -> a instanceof Operand.Var v && v.id() == id ? by : a;
        List<Eqn> eqns = new ArrayList<>();
        for (Eqn e : k.eqns()) eqns.add(new Eqn(e.id(), e.op(), e.args().stream().map(swap).toList()));
        List<Kernel.Output> outs = k.outputs().stream().map(o -> new Kernel.Output(o.input(), swap.apply(o.value()))).toList();
        return new Kernel(k.name(), k.inputs(), k.scalars(), eqns, outs);
    }

    /** {@code k} without equation {@code id}, which nothing reads; later equations renumbered. */
    private static Kernel without(Kernel k, int id) {
        Function<Operand, Operand> shift = a -> a instanceof Operand.Var v && v.id() > id ? new Operand.Var(v.id() - 1) : a;
        List<Eqn> eqns = new ArrayList<>();
        for (Eqn e : k.eqns()) {
            if (e.id() != id) eqns.add(new Eqn(eqns.size(), e.op(), e.args().stream().map(shift).toList()));
        }
        List<Kernel.Output> outs = k.outputs().stream().map(o -> new Kernel.Output(o.input(), shift.apply(o.value()))).toList();
        return new Kernel(k.name(), k.inputs(), k.scalars(), eqns, outs);
    }

    private static Case element(Case c, int e, int copies) {
        float[][] data = new float[c.data().length][];
        for (int i = 0; i < data.length; i++) {
            data[i] = new float[copies];
            Arrays.fill(data[i], c.data()[i][e]);
        }
        return new Case(c.program(), data, c.scalars());
    }

    private static Case with(Case c, Kernel k) { return new Case(k, c.data(), c.scalars()); }

    /** Slots no equation or output touches, and scalars nothing reads, removed with their data (param and update stay). */
    static Case withoutUnused(Case c) {
        Kernel k = c.program();
        boolean[] usedIn = new boolean[k.inputs().size()], usedSc = new boolean[k.scalars().size()];
        usedIn[Kernel.PARAM] = usedIn[Kernel.UPDATE] = true;
        List<Operand> all = new ArrayList<>();
        for (Eqn e : k.eqns()) all.addAll(e.args());
        for (Kernel.Output o : k.outputs()) {
            all.add(o.value());
            usedIn[o.input()] = true;
        }
        for (Operand a : all) {
            if (a instanceof Operand.Input in) usedIn[in.index()] = true;
            if (a instanceof Operand.Scalar s) usedSc[s.index()] = true;
        }
        int[] inMap = new int[usedIn.length], scMap = new int[usedSc.length];
        List<String> inputs = new ArrayList<>(), scalars = new ArrayList<>();
        List<float[]> data = new ArrayList<>();
        float[] sv = new float[usedSc.length];
        int ns = 0;
        for (int i = 0; i < usedIn.length; i++) {
            if (!usedIn[i]) continue;
            inMap[i] = inputs.size();
            inputs.add(k.inputs().get(i));
            data.add(c.data()[i]);
        }
        for (int i = 0; i < usedSc.length; i++) {
            if (!usedSc[i]) continue;
            scMap[i] = scalars.size();
            scalars.add(k.scalars().get(i));
            sv[ns++] = c.scalars()[i];
        }
        Function<Operand, Operand> move = a -> switch (a) {
            case Operand.Input in -> new Operand.Input(inMap[in.index()]);
            case Operand.Scalar s -> new Operand.Scalar(scMap[s.index()]);
            default -> a;
        };
        List<Eqn> eqns = k.eqns().stream().map(e -> new Eqn(e.id(), e.op(), e.args().stream().map(move).toList())).toList();
        List<Kernel.Output> outs = k.outputs().stream().map(o -> new Kernel.Output(inMap[o.input()], move.apply(o.value()))).toList();
        return new Case(new Kernel(k.name(), inputs, scalars, eqns, outs), data.toArray(float[][]::new), Arrays.copyOf(sv, ns));
    }

    /** Counts checks, so a check that fails on everything cannot loop for long. */
    private static final class Checker {
        private final Function<Case, Integer> check;
        private int calls;

        Checker(Function<Case, Integer> check) { this.check = check; }

        boolean budgetLeft() { return calls < MAX_CHECKS; }

        Integer fails(Case c) {
            calls++;
            Integer e;
            try {
                e = check.apply(c);
            } catch (RuntimeException ex) {
                e = 0;
            }
            return e == null || e < 0 ? null : e;
        }
    }
}
