package io.nag4j.gpu.plan;

import io.nag4j.core.cpu.CpuBackend;
import io.nag4j.core.optim.KernelOptimizer;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.reference.ReferenceOptimizer;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.tensor.ParamSet;

/**
 * Chooses a backend by its spec, as {@code --backend} takes it: {@code cpu}, {@code reference}
 * (the hand-written oracle), {@code opencl[:N]}, {@code cuda[:N]}.
 */
public final class Backends {
    private Backends() {}

    /** Binds {@code rule} with {@code hp} to a copy of {@code params} (and of {@code state}, if not null). */
    public static BoundOptimizer bind(String spec, Rule rule, Hyperparams hp, ParamSet params, OptState state) {
        String s = spec == null ? "cpu" : spec.strip().toLowerCase(java.util.Locale.ROOT);
        return switch (s) {
            case "cpu" -> new HostBoundOptimizer(new KernelOptimizer(rule, hp, CpuBackend.shared()), "cpu", params, state);
            case "reference" -> new HostBoundOptimizer(ReferenceOptimizer.forRule(rule.name(), hp), "reference", params, state);
            default -> throw new IllegalArgumentException("unknown backend '" + spec + "'; known: cpu, reference, opencl[:N], cuda[:N]");
        };
    }
}
