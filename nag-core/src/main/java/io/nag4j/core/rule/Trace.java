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
 * What a {@link Rule} sees while it is traced: symbolic inputs to read, and the new param and
 * slot values to set. {@link #of(Rule)} runs the rule once and returns its {@link Kernel}.
 */
public final class Trace {
    private final Rule rule;
    private final List<String> inputs = new ArrayList<>();
    private final List<String> scalars = new ArrayList<>();
    private final List<Eqn> eqns = new ArrayList<>();
    private final Map<Integer, Operand> outputs = new LinkedHashMap<>();

    private Trace(Rule rule) {
        this.rule = rule;
        inputs.add("param");
        inputs.add("update");
        inputs.addAll(rule.slots());
        scalars.addAll(rule.defaults().names());
        scalars.addAll(rule.hostValueNames());
    }

    /** Traces {@code rule} into its kernel. Every param and slot must be set exactly once. */
    public static Kernel of(Rule rule) {
        Trace t = new Trace(rule);
        rule.update(t);
        List<Kernel.Output> outs = new ArrayList<>();
        for (int i = 0; i < t.inputs.size(); i++) {
            if (i == Kernel.UPDATE) continue;
            Operand v = t.outputs.get(i);
            if (v == null) throw new IllegalStateException("rule " + rule.name() + " never sets " + t.inputs.get(i));
            outs.add(new Kernel.Output(i, v));
        }
        return new Kernel(rule.name(), t.inputs, t.scalars, t.eqns, outs);
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
