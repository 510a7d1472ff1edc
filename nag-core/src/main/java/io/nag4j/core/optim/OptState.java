package io.nag4j.core.optim;

import io.nag4j.core.tensor.ParamSet;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Optimizer state as plain data: for each slot (NAG: {@code phi}) one tensor per param, named
 * as the param, and the step counter ({@code t}: 0 after init, incremented before each step
 * uses it). Closing the state frees its tensors.
 */
public final class OptState implements AutoCloseable {
    private final String optimizer;
    private final LinkedHashMap<String, ParamSet> slots;
    private long step;

    public OptState(String optimizer, Map<String, ParamSet> slots, long step) {
        this.optimizer = optimizer;
        this.slots = new LinkedHashMap<>(slots);
        if (step < 0) throw new IllegalArgumentException("step must be >= 0, got " + step);
        this.step = step;
    }

    /**
     * Zero state for {@code params}: each slot a zero tensor per param (every optimizer's
     * {@code init}). Refuses null params or a closed tensor, naming it.
     */
    public static OptState zeros(String optimizer, List<String> slotNames, ParamSet params) {
        if (params == null) throw new IllegalArgumentException("params are null");
        params.checkCompatible(params, "params");
        LinkedHashMap<String, ParamSet> m = new LinkedHashMap<>();
        for (String s : slotNames) m.put(s, params.zerosLike(""));
        return new OptState(optimizer, m, 0);
    }

    /**
     * The state {@code rule} starts from on {@code params}: every slot zero, except the float32
     * master weights of a {@link io.nag4j.core.rule.MasterWeights} rule, a copy of the params.
     */
    public static OptState fresh(io.nag4j.core.rule.Rule rule, ParamSet params) {
        OptState s = zeros(rule.name(), rule.slots(), params);
        for (String slot : rule.slots()) {
            if (!startsAsParams(rule, slot)) continue;
            ParamSet m = s.slots.get(slot);
            for (int i = 0; i < m.size(); i++) m.get(i).copyFrom(params.get(i));
        }
        return s;
    }

    /**
     * Whether {@code rule}'s slot {@code slot} starts as a copy of the params instead of zero (a
     * {@code MasterWeights}' master): what {@link #fresh} does, and every binding that fills a
     * fresh state itself.
     */
    public static boolean startsAsParams(io.nag4j.core.rule.Rule rule, String slot) {
        return rule instanceof io.nag4j.core.rule.MasterWeights && slot.equals(io.nag4j.core.rule.MasterWeights.MASTER);
    }

    public String optimizer() { return optimizer; }

    public long step() { return step; }

    public void setStep(long step) {
        if (step < 0) throw new IllegalArgumentException("step must be >= 0, got " + step);
        this.step = step;
    }

    public List<String> slotNames() { return List.copyOf(slots.keySet()); }

    public ParamSet slot(String name) {
        ParamSet s = slots.get(name);
        if (s == null) throw new IllegalArgumentException(optimizer + " state has no slot '" + name + "'; has " + slots.keySet());
        return s;
    }

    public Map<String, ParamSet> slots() { return java.util.Collections.unmodifiableMap(slots); }

    @Override
    public void close() {
        slots.values().forEach(ParamSet::close);
    }
}
