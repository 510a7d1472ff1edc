package io.nag4j.gpu.plan;

import io.nag4j.core.bound.BoundOptimizer;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.DeviceInfo;
import io.nag4j.gpu.device.Driver;

import java.util.List;

/** Any {@link Driver} as a backend: a {@link DeviceOptimizer} on nag4j's own task-graph runtime. */
public final class DriverBackend implements Backend {
    private final String name;

    /** The backend of the driver registered as {@code name} in {@link Drivers} (made on first use). */
    public DriverBackend(String name) { this.name = name; }

    @Override public String name() { return name; }

    @Override public String describe() { return "device driver '" + name + "' on nag4j's task-graph runtime"; }

    private Driver driver() { return Drivers.get(name); }

    @Override public List<DeviceInfo> devices() { return driver().devices(); }

    @Override
    public BoundOptimizer bind(int device, Rule rule, Hyperparams hp, ParamSet params, OptState state, Mode mode) {
        return DeviceOptimizer.bind(rule, hp, params, driver(), device, mode, state);
    }
}
