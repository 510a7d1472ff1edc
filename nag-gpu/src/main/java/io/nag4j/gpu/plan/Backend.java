package io.nag4j.gpu.plan;

import io.nag4j.core.bound.BoundOptimizer;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.DeviceInfo;
import io.nag4j.gpu.device.DeviceUnavailableException;

import java.util.List;

/**
 * Somewhere an optimizer can run, as {@code --backend NAME[:N]} names it: the plug-in point for a
 * backend. Found with {@link java.util.ServiceLoader} (list the class in
 * {@code META-INF/services/io.nag4j.gpu.plan.Backend}); every {@link io.nag4j.gpu.device.Driver}
 * found the same way is a backend too, through {@link DriverBackend}, so a new device driver needs
 * no class of this kind. Nothing in generic code names a backend: {@link Backends} lists what it finds.
 */
public interface Backend {
    /** Lower-case name without ':', as {@code --backend} takes it. */
    String name();

    /** Whether the spec takes a device number ({@code name:N}); host backends take none. */
    default boolean hasDevices() { return true; }

    /** One line saying what this backend is (host backends: also whether it is bit-exact). */
    String describe();

    /**
     * The devices, numbered as {@code name:N} ({@link DeviceInfo#index()}); empty for a host backend.
     *
     * @throws DeviceUnavailableException if the backend cannot start here (the message says why)
     */
    List<DeviceInfo> devices();

    /** What EXACT mode can promise on {@code device} (one of {@link #devices()}). */
    default Exactness exactness(DeviceInfo device) { return Exactness.of(device); }

    /**
     * Binds {@code rule} to a copy of {@code params} (and of {@code state} if not null) on device
     * {@code device} (0 for a host backend).
     *
     * @throws IllegalArgumentException   bad hyperparameters, params or state (the message names the culprit)
     * @throws DeviceUnavailableException the backend or device cannot be used here
     * @throws NotBitExactException       EXACT mode on a device that cannot give the rule's bits
     * @throws TaskFailedException        the device failed to compile or run the rule
     */
    BoundOptimizer bind(int device, Rule rule, Hyperparams hp, ParamSet params, OptState state, Mode mode);
}
