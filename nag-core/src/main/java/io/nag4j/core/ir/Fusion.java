package io.nag4j.core.ir;

import java.util.ArrayList;
import java.util.List;

/**
 * FAST mode's one IR pass: multiply-adds fused into {@link Op#FMA}, decided once on the IR so that
 * every backend (each lowering FMA as one correctly rounded operation) computes the same bits,
 * those of the {@link Evaluator} running the fused kernel.
 *
 * <p>The rule, in equation order: an ADD or SUB absorbs an operand that is the result of a MUL
 * used exactly once in the kernel (by this equation, not by an output or another equation); the
 * right operand is tried first (so {@code a - x*y}, the common update shape, fuses), then the
 * left. With {@code m = x*y}:
 * <ul>
 *   <li>{@code c + m} and {@code m + c} become {@code fma(x, y, c)};</li>
 *   <li>{@code c - m} becomes {@code fma(-x, y, c)} and {@code m - c} becomes {@code fma(x, y, -c)},
 *       the negation a NEG equation (exact), so each is one rounding of the exact value.</li>
 * </ul>
 * The absorbed MUL is then dead and removed; nothing else changes (inputs, scalars and outputs,
 * so the kernel ABI, are the same). Each fused equation rounds once where the unfused pair
 * rounded twice: the bound against EXACT is in docs/numerics.md.
 */
public final class Fusion {
    private Fusion() {}

    /** {@code k} with its multiply-adds fused (the same kernel when there are none); the name stays, so entry points do. */
    public static Kernel fuse(Kernel k) {
        int[] uses = new int[k.eqns().size()];
        for (Eqn e : k.eqns()) for (Operand a : e.args()) if (a instanceof Operand.Var v) uses[v.id()]++;
        for (Kernel.Output o : k.outputs()) if (o.value() instanceof Operand.Var v) uses[v.id()]++;
        boolean[] absorbed = new boolean[uses.length];
        // Old ids map to new ones as equations are added (a NEG may come before an FMA).
        int[] moved = new int[uses.length];
        List<Eqn> out = new ArrayList<>();
        boolean any = false;
        for (Eqn e : k.eqns()) {
            Eqn fused = null;
            if (e.op() == Op.ADD || e.op() == Op.SUB) {
                for (int side = 1; side >= 0 && fused == null; side--) {
                    if (!(e.args().get(side) instanceof Operand.Var v)) continue;
                    Eqn m = k.eqns().get(v.id());
                    if (m.op() != Op.MUL || uses[v.id()] != 1 || absorbed[v.id()]) continue;
                    absorbed[v.id()] = true;
                    Operand x = map(m.args().get(0), moved), y = map(m.args().get(1), moved);
                    Operand other = map(e.args().get(1 - side), moved);
                    if (e.op() == Op.SUB && side == 1) { // other - x*y = fma(-x, y, other)
                        out.add(new Eqn(out.size(), Op.NEG, List.of(x)));
                        x = new Operand.Var(out.size() - 1);
                    } else if (e.op() == Op.SUB) { // x*y - other = fma(x, y, -other)
                        out.add(new Eqn(out.size(), Op.NEG, List.of(other)));
                        other = new Operand.Var(out.size() - 1);
                    }
                    fused = new Eqn(out.size(), Op.FMA, List.of(x, y, other));
                }
            }
            if (fused == null) {
                fused = new Eqn(out.size(), e.op(), e.args().stream().map(a -> map(a, moved)).toList());
            } else {
                any = true;
            }
            moved[e.id()] = out.size();
            out.add(fused);
        }
        if (!any) return k;
        List<Kernel.Output> outputs = k.outputs().stream().map(o -> new Kernel.Output(o.input(), map(o.value(), moved))).toList();
        return Kernels.withoutDeadCode(new Kernel(k.name(), k.inputs(), k.scalars(), out, outputs, k.storage()));
    }

    private static Operand map(Operand a, int[] moved) {
        return a instanceof Operand.Var v ? new Operand.Var(moved[v.id()]) : a;
    }
}
