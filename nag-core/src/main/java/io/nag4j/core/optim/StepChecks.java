package io.nag4j.core.optim;

import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;

import java.util.List;

/** The checks every optimizer makes before it touches anything, so a failed step changes nothing. */
public final class StepChecks {
    private StepChecks() {}

    public static void check(Rule rule, OptState state, ParamSet params, ParamSet updates, Hyperparams hp) {
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
    }

    /** Throws naming the first closed tensor among {@code groups} (param, update, slots of each param). */
    public static void checkOpen(List<Tensor[]> groups) {
        for (Tensor[] g : groups) {
            for (int i = 0; i < g.length; i++) {
                if (g[i].isClosed()) {
                    String what = i == 0 ? "param" : i == 1 ? "update" : "state tensor";
                    throw new IllegalArgumentException(what + " '" + g[i].name() + "' is closed");
                }
            }
        }
    }

    public static void checkHyperparams(Rule rule, Hyperparams hp) {
        rule.defaults().checkSameNames(hp, rule.name());
        rule.validate(hp);
    }

    private static void noAlias(java.util.IdentityHashMap<Tensor, String> seen, Tensor t, String what) {
        String prev = seen.put(t, what + " '" + t.name() + "'");
        if (prev != null) throw new IllegalArgumentException(what + " '" + t.name() + "' is the same tensor as " + prev);
    }

    /** Kernel input groups for one step: per param, its tensor, update, then each slot's tensor. */
    public static List<Tensor[]> groups(Rule rule, OptState state, ParamSet params, ParamSet updates) {
        List<String> slots = rule.slots();
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
}
