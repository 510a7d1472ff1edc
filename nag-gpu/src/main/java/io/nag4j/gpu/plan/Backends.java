package io.nag4j.gpu.plan;

import io.nag4j.core.cpu.CpuBackend;
import io.nag4j.core.optim.KernelOptimizer;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.reference.ReferenceOptimizer;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.gpu.Mode;
import io.nag4j.gpu.device.DeviceInfo;
import io.nag4j.gpu.device.DeviceUnavailableException;
import io.nag4j.gpu.device.Driver;

import java.util.ArrayList;
import java.util.List;

/**
 * Chooses a backend by its spec, as {@code --backend} takes it: {@code cpu}, {@code reference}
 * (the hand-written oracle), {@code opencl[:N]}, {@code cuda[:N]}.
 */
public final class Backends {
    private Backends() {}

    /**
     * Binds {@code rule} with {@code hp} to a copy of {@code params} (and of {@code state}, if not
     * null). A device spec ({@code opencl}, {@code opencl:N}, {@code cuda}, {@code cuda:N}, or any
     * driver registered in {@link Drivers}; device 0 when no number is given) binds a
     * {@link DeviceOptimizer} in {@link Mode#EXACT} mode on that device.
     *
     * @throws IllegalArgumentException   for an unknown spec, or a device number N the driver does not have
     *                                    (the message lists what exists)
     * @throws DeviceUnavailableException if the driver is not in this build, cannot start, or has no device at all
     * @throws TaskFailedException        if the device cannot run the rule in EXACT mode (not bit-exact, compile failure)
     */
    public static BoundOptimizer bind(String spec, Rule rule, Hyperparams hp, ParamSet params, OptState state) {
        String s = spec == null ? "cpu" : spec.strip().toLowerCase(java.util.Locale.ROOT);
        return switch (s) {
            case "cpu" -> new HostBoundOptimizer(new KernelOptimizer(rule, hp, CpuBackend.shared()), "cpu", params, state);
            case "reference" -> new HostBoundOptimizer(ReferenceOptimizer.forRule(rule.name(), hp), "reference", params, state);
            default -> bindDevice(spec, s, rule, hp, params, state);
        };
    }

    /** Device drivers nag4j has or plans, whether or not this build registered them in {@link Drivers}. */
    public static final List<String> KNOWN_DRIVERS = List.of("opencl", "cuda");

    /** {@code name[:N]} of a registered driver: a {@link DeviceOptimizer} in EXACT mode on its device N. */
    private static BoundOptimizer bindDevice(String spec, String s, Rule rule, Hyperparams hp, ParamSet params, OptState state) {
        Drivers.Spec ds;
        try {
            ds = Drivers.parseSpec(s);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown backend '" + spec + "'; known: " + known());
        }
        if (!Drivers.isRegistered(ds.driver())) {
            if (KNOWN_DRIVERS.contains(ds.driver())) {
                throw new DeviceUnavailableException("backend '" + spec + "': this build has no " + ds.driver()
                        + " driver; available: " + known());
            }
            throw new IllegalArgumentException("unknown backend '" + spec + "'; known: " + known());
        }
        Driver driver = Drivers.get(ds.driver());
        List<DeviceInfo> devices;
        try {
            devices = driver.devices();
        } catch (DeviceUnavailableException e) {
            throw new DeviceUnavailableException("backend '" + spec + "': " + e.getMessage(), e);
        }
        if (devices.isEmpty()) {
            throw new DeviceUnavailableException("backend '" + spec + "': " + ds.driver() + " has no device");
        }
        if (ds.index() >= devices.size()) {
            // The driver works and has devices; the user named one that is not there: bad input, like an unknown spec.
            throw new IllegalArgumentException("backend '" + spec + "': no such device; " + ds.driver() + " has "
                    + devices.size() + ": " + devices.stream().map(d -> d.spec() + " " + d.name()).toList());
        }
        return DeviceOptimizer.bind(rule, hp, params, driver, ds.index(), Mode.EXACT, state);
    }

    /** The backend specs this build accepts, for messages. */
    public static String known() {
        List<String> all = new ArrayList<>(List.of("cpu", "reference"));
        for (String d : Drivers.names()) all.add(d + "[:N]");
        return String.join(", ", all);
    }
}
