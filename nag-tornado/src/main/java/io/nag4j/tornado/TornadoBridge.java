package io.nag4j.tornado;

import io.nag4j.core.optim.OptState;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.DeviceInfo;
import io.nag4j.core.bound.BoundOptimizer;
import io.nag4j.gpu.plan.Exactness;

import java.util.List;

/**
 * The part of the tornado backends that calls TornadoVM (src/tornadovm, compiled only where
 * TORNADOVM_HOME names an SDK), found with {@link java.util.ServiceLoader}. Everything else in
 * this module is plain nag4j and builds anywhere.
 */
public interface TornadoBridge {
    /** TornadoVM's devices over all its backends, in its order, numbered as {@code backend:N}. */
    List<DeviceInfo> devices(String backend);

    /** What EXACT can promise on {@code device}: the device's own fp32 support and the path's limits. */
    Exactness exactness(DeviceInfo device, boolean prebuilt);

    /** A {@link BoundOptimizer} on TornadoVM device {@code device}: its JIT on nag4j's Java kernel, or nag4j's own code as a prebuilt task. */
    BoundOptimizer bind(int device, boolean prebuilt, Rule rule, Hyperparams hp, ParamSet params, OptState state, Mode mode);
}
