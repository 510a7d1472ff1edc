package io.nag4j.djl;

import io.nag4j.core.bound.BoundOptimizer;
import io.nag4j.core.bound.HostBoundOptimizer;
import io.nag4j.core.optim.Mode;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.optim.Optimizer;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import io.nag4j.gpu.plan.Backends;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The optimizer state of some DJL parameters (tensors named by parameter id, in DJL's calling
 * order), stepped by one launch on one backend. On the host ({@code cpu}, {@code reference}) the
 * state lives here and the step runs on the weights' own memory; on a device the params and state
 * stay resident there and each step writes the new weights back into the weights given.
 */
abstract sealed class StateGroup implements AutoCloseable {
    final List<String> ids;
    private long step;

    private StateGroup(List<String> ids, long step) {
        this.ids = List.copyOf(ids);
        this.step = step;
    }

    /** Steps taken so far (the state's t). */
    long step() { return step; }

    /** One step; {@code weights} hold DJL's weights before it and the new ones after. */
    final void step(ParamSet weights, ParamSet grads, Hyperparams hp) {
        doStep(weights, grads, hp);
        step++;
    }

    abstract void doStep(ParamSet weights, ParamSet grads, Hyperparams hp);

    /** A copy of the state, owned by the caller. */
    abstract OptState readState();

    @Override public abstract void close();

    /** A group on {@code backend} over {@code weights} (named by id), from {@code initial} (copied) or a fresh state. */
    static StateGroup open(String backend, Rule rule, Hyperparams hp, Mode mode, ParamSet weights, OptState initial) {
        List<String> ids = weights.names();
        String b = backend.strip().toLowerCase(java.util.Locale.ROOT);
        if (b.equals("cpu") || b.equals("reference")) {
            Optimizer o = HostBoundOptimizer.hostOptimizer(b, rule, hp, mode);
            return new Host(ids, o, initial == null ? o.init(weights) : HostBoundOptimizer.copy(initial));
        }
        return new Bound(ids, Backends.bind(backend, rule, hp, weights, initial, mode), initial == null ? 0 : initial.step());
    }

    /** State on the host; the step runs in place on the weights (DJL's memory where it is a view). */
    static final class Host extends StateGroup {
        private final Optimizer optimizer;
        private final OptState state;

        Host(List<String> ids, Optimizer optimizer, OptState state) {
            super(ids, state.step());
            this.optimizer = optimizer;
            this.state = state;
        }

        @Override void doStep(ParamSet weights, ParamSet grads, Hyperparams hp) { optimizer.step(state, weights, grads, hp); }

        @Override OptState readState() { return HostBoundOptimizer.copy(state); }

        @Override public void close() { state.close(); }
    }

    /** Params and state resident on a device backend; the new weights are read back after each step. */
    static final class Bound extends StateGroup {
        private final BoundOptimizer bound;

        Bound(List<String> ids, BoundOptimizer bound, long step) {
            super(ids, step);
            this.bound = bound;
        }

        @Override
        void doStep(ParamSet weights, ParamSet grads, Hyperparams hp) {
            bound.step(grads, hp);
            bound.readParamsInto(weights);
        }

        @Override OptState readState() { return bound.readState(); }

        @Override public void close() { bound.close(); }
    }

    /** One state over all of {@code parts}' params, in their order (each part's tensors copied); every part must be at the same step. */
    static OptState merge(String optimizer, List<OptState> parts) {
        long step = parts.getFirst().step();
        Map<String, List<Tensor>> slots = new LinkedHashMap<>();
        for (OptState p : parts) {
            if (p.step() != step) throw new IllegalStateException("cannot merge states at steps " + step + " and " + p.step());
            p.slots().forEach((slot, set) -> {
                List<Tensor> l = slots.computeIfAbsent(slot, k -> new ArrayList<>());
                for (Tensor t : set) l.add(t.copy(t.name()));
            });
        }
        Map<String, ParamSet> sets = new LinkedHashMap<>();
        slots.forEach((k, v) -> sets.put(k, new ParamSet(v)));
        return new OptState(optimizer, sets, step);
    }

    /** The part of {@code state} for param {@code id} alone (copied). */
    static OptState slice(OptState state, String id) {
        Map<String, ParamSet> sets = new LinkedHashMap<>();
        state.slots().forEach((slot, set) -> sets.put(slot, ParamSet.of(set.get(id).copy(id))));
        return new OptState(state.optimizer(), sets, state.step());
    }
}
