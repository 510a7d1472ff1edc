package io.nag4j.core.ir;

import java.util.ArrayList;
import java.util.List;

/** Small whole-kernel transformations shared by the IR passes and the fuzzer's shrinker. */
public final class Kernels {
    private Kernels() {}

    /** {@code k} without the equations no output reads (the rest renumbered in order); inputs and scalars unchanged. */
    public static Kernel withoutDeadCode(Kernel k) {
        boolean[] live = new boolean[k.eqns().size()];
        for (Kernel.Output o : k.outputs()) if (o.value() instanceof Operand.Var v) live[v.id()] = true;
        for (int id = live.length - 1; id >= 0; id--) {
            if (!live[id]) continue;
            for (Operand a : k.eqns().get(id).args()) if (a instanceof Operand.Var v) live[v.id()] = true;
        }
        int[] newId = new int[live.length];
        List<Eqn> eqns = new ArrayList<>();
        for (int id = 0; id < live.length; id++) {
            if (!live[id]) continue;
            newId[id] = eqns.size();
            eqns.add(new Eqn(eqns.size(), k.eqns().get(id).op(), renumber(k.eqns().get(id).args(), newId)));
        }
        List<Kernel.Output> outputs = k.outputs().stream()
                .map(o -> new Kernel.Output(o.input(), renumber(List.of(o.value()), newId).getFirst())).toList();
        return new Kernel(k.name(), k.inputs(), k.scalars(), eqns, outputs);
    }

    private static List<Operand> renumber(List<Operand> args, int[] newId) {
        return args.stream().map(a -> a instanceof Operand.Var v ? (Operand) new Operand.Var(newId[v.id()]) : a).toList();
    }
}
