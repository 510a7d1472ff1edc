package io.nag4j.gpu.plan;

import io.nag4j.core.bound.HostBoundOptimizer;
import io.nag4j.core.bound.BoundOptimizer;
import io.nag4j.core.cpu.CpuBackend;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.DeviceInfo;

import java.util.List;

/** The two host backends, {@code cpu} and {@code reference}: registered as services like any other. */
public final class HostBackends {
    private HostBackends() {}

    /** {@code cpu}: the traced kernel as generated JVM bytecode ({@link CpuBackend}); Java floats are IEEE, so EXACT always holds. */
    public static final class Cpu implements Backend {
        @Override public String name() { return "cpu"; }
        @Override public boolean hasDevices() { return false; }
        @Override public String describe() { return "JVM CPU backend, " + Runtime.getRuntime().availableProcessors() + " cores; bit-exact: yes"; }
        @Override public List<DeviceInfo> devices() { return List.of(); }

        @Override
        public BoundOptimizer bind(int device, Rule rule, Hyperparams hp, ParamSet params, OptState state, Mode mode) {
            return HostBoundOptimizer.cpu(rule, hp, params, state, mode);
        }
    }

    /**
     * {@code reference}: in EXACT mode the hand-written oracle of a built-in rule, one thread; in
     * FAST mode (which no hand-written code could mirror) the reference {@link io.nag4j.core.optim.EvaluatorExecutor}
     * running the fused kernel, element by element: the bits every backend's FAST must give.
     */
    public static final class Reference implements Backend {
        @Override public String name() { return "reference"; }
        @Override public boolean hasDevices() { return false; }
        @Override public String describe() { return "hand-written reference optimizers (the oracle), one thread; bit-exact: yes"; }
        @Override public List<DeviceInfo> devices() { return List.of(); }

        @Override
        public BoundOptimizer bind(int device, Rule rule, Hyperparams hp, ParamSet params, OptState state, Mode mode) {
            return HostBoundOptimizer.reference(rule, hp, params, state, mode);
        }
    }
}
