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
        return new Kernel(k.name(), k.inputs(), k.scalars(), eqns, outputs, k.storage());
    }

    /**
     * Mixed precision with float32 master weights, as a kernel transform any rule gets unchanged:
     * {@code k} runs on a new last input {@code master} (float32) wherever it read or wrote the
     * param, and the param (input 0, stored as its 16-bit type) is written as the new master
     * rounded by {@code narrow} ({@link Op#BF16} or {@link Op#F16} to nearest; {@link Op#BF16_SR}
     * or {@link Op#F16_SR} stochastically, with {@link Op#RANDOM}'s word 0 and the scalars
     * {@link Kernel#RANDOM_SCALARS} appended). Named {@code <k>_master_<op>}.
     */
    public static Kernel withMaster(Kernel k, Op narrow) {
        if (!narrow.isNarrowing()) throw new IllegalArgumentException("not a narrowing: " + narrow);
        boolean stochastic = narrow == Op.BF16_SR || narrow == Op.F16_SR;
        int master = k.inputs().size();
        List<String> inputs = new ArrayList<>(k.inputs());
        inputs.add("master");
        List<Eqn> eqns = new ArrayList<>();
        for (Eqn e : k.eqns()) eqns.add(new Eqn(e.id(), e.op(), e.args().stream().map(a -> toMaster(a, master)).toList()));
        List<Kernel.Output> outputs = new ArrayList<>();
        Operand newMaster = new Operand.Input(master); // a rule that never writes its param keeps it
        for (Kernel.Output o : k.outputs()) {
            Operand v = toMaster(o.value(), master);
            if (o.input() == Kernel.PARAM) newMaster = v;
            else outputs.add(new Kernel.Output(o.input(), v));
        }
        List<String> scalars = new ArrayList<>(k.scalars());
        int id = eqns.size();
        if (stochastic) {
            // word 0 of the element's Philox output, keyed by the seed and step the host passes
            List<Operand> args = new ArrayList<>(List.of(new Operand.Const(Float.floatToRawIntBits(0f))));
            for (String r : Kernel.RANDOM_SCALARS) {
                if (scalars.contains(r)) throw new IllegalArgumentException("kernel " + k.name() + " has a scalar named " + r + " already");
                args.add(new Operand.Scalar(scalars.size()));
                scalars.add(r);
            }
            eqns.add(new Eqn(id, Op.RANDOM, args));
            eqns.add(new Eqn(id + 1, narrow, List.of(newMaster, new Operand.Var(id))));
            id++;
        } else {
            eqns.add(new Eqn(id, narrow, List.of(newMaster)));
        }
        outputs.addFirst(new Kernel.Output(Kernel.PARAM, new Operand.Var(id)));
        outputs.add(new Kernel.Output(master, newMaster));
        // The param is stored as its 16-bit type (2 bytes on a device); the master and the slots as float32.
        List<Storage> storage = new ArrayList<>(k.storage());
        storage.set(Kernel.PARAM, narrow == Op.BF16 || narrow == Op.BF16_SR ? Storage.BF16 : Storage.F16);
        storage.add(Storage.F32);
        return new Kernel(k.name() + "_master_" + narrow.mnemonic(), inputs, scalars, eqns, outputs, storage);
    }

    private static Operand toMaster(Operand a, int master) {
        return a instanceof Operand.Input in && in.index() == Kernel.PARAM ? new Operand.Input(master) : a;
    }

    private static List<Operand> renumber(List<Operand> args, int[] newId) {
        return args.stream().map(a -> a instanceof Operand.Var v ? (Operand) new Operand.Var(newId[v.id()]) : a).toList();
    }
}
