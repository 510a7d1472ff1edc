package io.nag4j.core.optim;

import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;

import java.util.List;

/** The checks every optimizer makes before it touches anything, so a failed step changes nothing. */
public final class StepChecks {
    private StepChecks() {}

    /** Checks a state to resume from, with its params, as a bind must (what a step checks, but no updates). */
    public static void checkState(Rule rule, OptState state, ParamSet params, Hyperparams hp) {
        check(rule, state, params, params, hp, false);
    }

    public static void check(Rule rule, OptState state, ParamSet params, ParamSet updates, Hyperparams hp) {
        check(rule, state, params, updates, hp, true);
    }

    private static void check(Rule rule, OptState state, ParamSet params, ParamSet updates, Hyperparams hp, boolean stepping) {
        if (params == null) throw new IllegalArgumentException("params are null");
        if (state == null) throw new IllegalArgumentException(rule.name() + " state is null");
        checkHyperparams(rule, hp);
        params.checkCompatible(updates, "updates");
        if (!rule.name().equals(state.optimizer())) {
            throw new IllegalArgumentException("state belongs to optimizer '" + state.optimizer() + "', not '" + rule.name() + "'");
        }
        List<String> want = rule.slots();
        if (!state.slotNames().equals(want)) {
            throw new IllegalArgumentException(rule.name() + " state must have slots " + want + ", has " + state.slotNames());
        }
        for (String s : want) params.checkCompatible(state.slot(s), "state slot '" + s + "'");
        if (state.step() == Long.MAX_VALUE) throw new IllegalArgumentException("step counter is at its maximum");
        // In-place updates must not alias: a tensor used twice would be read after it was written.
        java.util.IdentityHashMap<Tensor, String> seen = new java.util.IdentityHashMap<>();
        for (int i = 0; i < params.size(); i++) {
            noAlias(seen, params.get(i), "param");
            for (String s : want) noAlias(seen, state.slot(s).get(i), "state slot '" + s + "'");
        }
        // An update that is a param or a state tensor would be read while the step writes it.
        for (int i = 0; stepping && i < updates.size(); i++) {
            String prev = seen.get(updates.get(i));
            if (prev != null) throw new IllegalArgumentException("update '" + updates.get(i).name() + "' is the same tensor as " + prev);
        }
    }

    /** Throws naming the first closed tensor among {@code groups} (param, update, slots of each param). */
    public static void checkOpen(List<Tensor[]> groups) {
        for (int k = 0, n = groups.size(); k < n; k++) { // indexed: a step must not allocate an iterator
            Tensor[] g = groups.get(k);
            for (int i = 0; i < g.length; i++) {
                if (g[i].isClosed()) {
                    String what = i == 0 ? "param" : i == 1 ? "update" : "state tensor";
                    throw new IllegalArgumentException(what + " '" + g[i].name() + "' is closed");
                }
            }
        }
    }

    /**
     * Checks that {@code hp} keeps the flags a binding's kernel was traced for ({@code bound}, a
     * {@link Rule#structure}): a bound optimizer streams only the slots its kernel uses, so its
     * flags are fixed. Allocates nothing when they match.
     */
    public static void checkStructure(Rule rule, int bound, Hyperparams hp, String where) {
        int now = rule.structure(hp);
        if (now == bound) return;
        throw new IllegalArgumentException(rule.name() + " on " + where + " was bound with flags " + describe(rule, bound)
                + "; these hyperparameters give " + describe(rule, now) + ". Flags choose the kernel (and the state it streams)"
                + " and are fixed when an optimizer is bound: bind again, from readState(), to change them");
    }

    private static String describe(Rule rule, int structure) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < rule.flags().size(); i++) {
            if (i > 0) sb.append(", ");
            sb.append(rule.flags().get(i).name()).append((structure & 1 << i) != 0 ? " on" : " off");
        }
        return sb.append(']').toString();
    }

    public static void checkHyperparams(Rule rule, Hyperparams hp) {
        checkHyperparams(rule, rule.defaults(), hp);
    }

    /** As {@link #checkHyperparams(Rule, Hyperparams)}, with the names taken from {@code known} (already checked): a step's check, allocation-free. */
    public static void checkHyperparams(Rule rule, Hyperparams known, Hyperparams hp) {
        known.checkSameNames(hp, rule.name());
        rule.validate(hp);
    }

    private static void noAlias(java.util.IdentityHashMap<Tensor, String> seen, Tensor t, String what) {
        String prev = seen.put(t, what + " '" + t.name() + "'");
        if (prev != null) throw new IllegalArgumentException(what + " '" + t.name() + "' is the same tensor as " + prev);
    }

    /** Kernel input groups for one step: per param, its tensor, update, then each of the rule's slots' tensor. */
    public static List<Tensor[]> groups(Rule rule, OptState state, ParamSet params, ParamSet updates) {
        return groups(rule.slots(), state, params, updates);
    }

    /** Kernel input groups for one step: per param, its tensor, update, then the tensor of each of {@code slots} (a kernel's). */
    public static List<Tensor[]> groups(List<String> slots, OptState state, ParamSet params, ParamSet updates) {
        java.util.ArrayList<Tensor[]> out = new java.util.ArrayList<>(params.size());
        for (int i = 0; i < params.size(); i++) {
            Tensor[] g = new Tensor[2 + slots.size()];
            g[0] = params.get(i);
            g[1] = updates.get(i);
            for (int s = 0; s < slots.size(); s++) g[2 + s] = state.slot(slots.get(s)).get(i);
            out.add(g);
        }
        return out;
    }

    /**
     * Refuses, naming the tensor, element and value, params of {@code rule} that are not values of
     * its param type (a device stores them in 2 bytes; round them first with {@code MasterWeights.round}).
     *
     * @throws IllegalArgumentException for the first such element
     */
    public static void checkSixteenBitParams(io.nag4j.core.rule.MasterWeights rule, ParamSet params) {
        if (params == null) return; // the bind reports it
        for (Tensor t : params) {
            if (t == null || t.isClosed()) continue; // the bind reports it
            for (long e = 0; e < t.size(); e++) {
                float x = t.get(e);
                if (rule.precision().equals("bf16") ? !io.nag4j.core.ir.Narrowing.isBf16(x) : !io.nag4j.core.ir.Narrowing.isF16(x)) {
                    throw new IllegalArgumentException("param '" + t.name() + "' element " + e + " = " + x + " (bits " + String.format("0x%08x", Float.floatToRawIntBits(x))
                            + ") is not a " + rule.precision() + " value: " + rule.precision() + " params hold " + rule.precision()
                            + " values (round them first, e.g. with MasterWeights.round)");
                }
            }
        }
    }
}
