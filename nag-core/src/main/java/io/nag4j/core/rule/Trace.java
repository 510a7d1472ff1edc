package io.nag4j.core.rule;

import io.nag4j.core.ir.Eqn;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.ir.Op;
import io.nag4j.core.ir.Operand;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a {@link Rule} sees while it is traced: symbolic inputs to read, the rule's flags as
 * plain booleans, and the new param and slot values to set. {@link #of(Rule, Hyperparams)} runs
 * the rule once and returns its {@link Kernel}: only the slots that trace read or set are the
 * kernel's inputs, so a configuration streams only the state it uses.
 */
public final class Trace {
    private final Rule rule;
    private final Hyperparams hp;
    private final List<String> inputs = new ArrayList<>();
    private final List<String> scalars = new ArrayList<>();
    private final List<Eqn> eqns = new ArrayList<>();
    private final Map<Integer, Operand> outputs = new LinkedHashMap<>();

    private Trace(Rule rule, Hyperparams hp) {
        this.rule = rule;
        this.hp = hp;
        inputs.add("param");
        inputs.add("update");
        inputs.addAll(rule.slots());
        scalars.addAll(rule.defaults().names());
        scalars.addAll(rule.hostValueNames());
    }

    /** Traces {@code rule} for its default hyperparameters' flags. */
    public static Kernel of(Rule rule) { return of(rule, rule.defaults()); }

    /**
     * Traces {@code rule} into its kernel for the flags {@code hp} turns on. The param must be
     * set once; a slot read must be set once; a slot neither read nor set is left out of the
     * kernel (its state stays as it is). The kernel is named after the rule and the flags on,
     * {@code rmsprop_centered} for example.
     */
    public static Kernel of(Rule rule, Hyperparams hp) {
        rule.defaults().checkSameNames(hp, rule.name());
        if (rule.flags().size() > 16) throw new IllegalArgumentException("rule " + rule.name() + " has more than 16 flags");
        Trace t = new Trace(rule, hp);
        rule.update(t);
        if (!t.outputs.containsKey(Kernel.PARAM)) throw new IllegalStateException("rule " + rule.name() + " never sets param");
        boolean[] read = new boolean[t.inputs.size()];
        for (Eqn e : t.eqns) for (Operand a : e.args()) if (a instanceof Operand.Input in) read[in.index()] = true;
        for (Operand v : t.outputs.values()) if (v instanceof Operand.Input in) read[in.index()] = true;
        // Keep param, update and every slot touched; renumber the inputs to the kept ones.
        int[] renumber = new int[t.inputs.size()];
        List<String> kept = new ArrayList<>();
        for (int i = 0; i < t.inputs.size(); i++) {
            boolean set = t.outputs.containsKey(i);
            if (i >= 2 && read[i] && !set) throw new IllegalStateException("rule " + rule.name() + " reads " + t.inputs.get(i) + " but never sets it");
            renumber[i] = i < 2 || set ? kept.size() : -1;
            if (renumber[i] >= 0) kept.add(t.inputs.get(i));
        }
        List<Eqn> eqns = new ArrayList<>(t.eqns.size());
        for (Eqn e : t.eqns) eqns.add(new Eqn(e.id(), e.op(), e.args().stream().map(a -> renumbered(a, renumber)).toList()));
        List<Kernel.Output> outs = new ArrayList<>();
        for (int i = 0; i < t.inputs.size(); i++) {
            Operand v = t.outputs.get(i);
            if (v != null) outs.add(new Kernel.Output(renumber[i], renumbered(v, renumber)));
        }
        StringBuilder name = new StringBuilder(rule.name());
        for (String f : rule.flagsOn(rule.structure(hp))) name.append('_').append(f);
        return new Kernel(name.toString(), kept, t.scalars, eqns, outs);
    }

    private static Operand renumbered(Operand a, int[] renumber) {
        return a instanceof Operand.Input in ? new Operand.Input(renumber[in.index()]) : a;
    }

    /**
     * Whether the rule's flag {@code name} is on for the hyperparameters being traced: a plain
     * Java boolean, so the rule branches as PyTorch's Python code does and each side is its own kernel.
     */
    public boolean flag(String name) {
        for (Rule.Flag f : rule.flags()) if (f.name().equals(name)) return f.on(hp);
        throw new IllegalArgumentException(rule.name() + " has no flag '" + name + "'; has " + rule.flags().stream().map(Rule.Flag::name).toList());
    }

    public Sym param() { return new Sym(this, new Operand.Input(Kernel.PARAM)); }

    public Sym update() { return new Sym(this, new Operand.Input(Kernel.UPDATE)); }

    /** The current value of a state slot. */
    public Sym slot(String name) { return new Sym(this, new Operand.Input(indexOf(inputs, name, "slot"))); }

    /** A hyperparameter: a kernel argument, so changing it never recompiles. */
    public Sym hyper(String name) {
        return scalar(name, rule.defaults().names(), "hyperparameter");
    }

    /** A per-step value computed on the host by {@link Rule#hostValues}. */
    public Sym host(String name) {
        return scalar(name, rule.hostValueNames(), "host value");
    }

    /** An exact float32 constant. */
    public Sym constant(float value) { return new Sym(this, new Operand.Const(Float.floatToRawIntBits(value))); }

    public void setParam(Sym value) { set(Kernel.PARAM, value); }

    public void setSlot(String name, Sym value) { set(indexOf(inputs, name, "slot"), value); }

    private Sym scalar(String name, List<String> allowed, String what) {
        if (!allowed.contains(name)) throw new IllegalArgumentException(rule.name() + " has no " + what + " '" + name + "'; has " + allowed);
        return new Sym(this, new Operand.Scalar(scalars.indexOf(name)));
    }

    private void set(int input, Sym value) {
        own(value);
        if (outputs.putIfAbsent(input, value.operand) != null) {
            throw new IllegalStateException("rule " + rule.name() + " sets " + inputs.get(input) + " twice");
        }
    }

    Sym emit(Op op, Sym... args) {
        Operand[] ops = new Operand[args.length];
        for (int i = 0; i < args.length; i++) ops[i] = own(args[i]).operand;
        eqns.add(new Eqn(eqns.size(), op, Arrays.asList(ops)));
        return new Sym(this, new Operand.Var(eqns.size() - 1));
    }

    private Sym own(Sym s) {
        if (s == null) throw new IllegalArgumentException("null value in rule " + rule.name());
        if (s.trace != this) throw new IllegalArgumentException("a value from another trace was used in rule " + rule.name());
        return s;
    }

    private int indexOf(List<String> names, String name, String what) {
        int i = names.indexOf(name);
        if (i < 2) throw new IllegalArgumentException(rule.name() + " has no " + what + " '" + name + "'; has " + rule.slots());
        return i;
    }
}
