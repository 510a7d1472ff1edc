package io.nag4j.gpu.plan;

import io.nag4j.core.bound.BoundOptimizer;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.DeviceInfo;
import io.nag4j.gpu.device.DeviceUnavailableException;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * Chooses a backend by its spec, as {@code --backend} takes it: {@code NAME} or {@code NAME:N}.
 * The backends are whatever the class path holds: every {@link Backend} service (nag-gpu's
 * {@code cpu} and {@code reference}, a plug-in's own) and every {@link Drivers driver} as a
 * {@link DriverBackend}. Nothing here names one. Thread-safe.
 */
public final class Backends {
    private Backends() {}

    private static final class Services {
        static final List<Backend> ALL = ServiceLoader.load(Backend.class, Backends.class.getClassLoader()).stream()
                .map(ServiceLoader.Provider::get).toList();
    }

    /**
     * Every backend, in a stable order: host backends (no device number), then the drivers in
     * {@link Drivers#names()} order, then the other backends by name. A service named like a
     * driver is left out (the driver wins), so a name means one thing.
     */
    public static List<Backend> all() {
        Map<String, Backend> out = new LinkedHashMap<>();
        List<Backend> hosts = Services.ALL.stream().filter(b -> !b.hasDevices()).sorted(Comparator.comparing(Backend::name)).toList();
        for (Backend b : hosts) out.putIfAbsent(b.name(), b);
        for (String d : Drivers.names()) out.putIfAbsent(d, new DriverBackend(d));
        for (Backend b : Services.ALL.stream().filter(Backend::hasDevices).sorted(Comparator.comparing(Backend::name)).toList()) {
            out.putIfAbsent(b.name(), b);
        }
        return List.copyOf(out.values());
    }

    /** The backend called {@code name} (no device number), or null. */
    public static Backend get(String name) {
        String n = name == null ? "" : name.strip().toLowerCase(Locale.ROOT);
        for (Backend b : all()) if (b.name().equals(n)) return b;
        return null;
    }

    /** As {@link #bind(String, Rule, Hyperparams, ParamSet, OptState, Mode)} in {@link Mode#EXACT}. */
    public static BoundOptimizer bind(String spec, Rule rule, Hyperparams hp, ParamSet params, OptState state) {
        return bind(spec, rule, hp, params, state, Mode.EXACT);
    }

    /**
     * Binds {@code rule} with {@code hp} to a copy of {@code params} (and of {@code state}, if not
     * null) on the backend {@code spec} names ({@code cpu} when null; device 0 when no number is given).
     *
     * @throws IllegalArgumentException   for an unknown spec, a number given to a host backend, or a
     *                                    device number N the backend does not have (the message lists what exists)
     * @throws DeviceUnavailableException if the backend cannot start here, or has no device at all
     * @throws NotBitExactException       if the device cannot give the rule's bits in EXACT mode
     * @throws TaskFailedException        if the device fails to compile or run the rule
     */
    public static BoundOptimizer bind(String spec, Rule rule, Hyperparams hp, ParamSet params, OptState state, Mode mode) {
        Resolved r = resolve(spec == null ? "cpu" : spec);
        if (state == null && rule instanceof io.nag4j.core.rule.MasterWeights && params != null) {
            params.checkCompatible(params, "params");
            try (OptState fresh = OptState.fresh(rule, params)) { // the master starts as the params, on every backend
                return r.backend().bind(r.device(), rule, hp, params, fresh, mode);
            }
        }
        return r.backend().bind(r.device(), rule, hp, params, state, mode);
    }

    /** A spec resolved to its backend and, for a device backend, a device that exists. */
    public record Resolved(Backend backend, int device, DeviceInfo info) {}

    /**
     * Finds the backend and device {@code spec} names, checking the device is there.
     *
     * @throws IllegalArgumentException   an unknown spec or a device number that does not exist
     * @throws DeviceUnavailableException the backend cannot list its devices, or has none
     */
    public static Resolved resolve(String spec) {
        String s = spec.strip().toLowerCase(Locale.ROOT);
        Drivers.Spec ds;
        try {
            ds = Drivers.parseSpec(s);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown backend '" + spec + "'; known: " + known());
        }
        Backend b = get(ds.driver());
        if (b == null) throw new IllegalArgumentException("unknown backend '" + spec + "'; known: " + known());
        if (!b.hasDevices()) {
            if (s.contains(":")) throw new IllegalArgumentException("backend '" + spec + "': " + b.name() + " takes no device number");
            return new Resolved(b, 0, null);
        }
        List<DeviceInfo> devices;
        try {
            devices = b.devices();
        } catch (DeviceUnavailableException e) {
            throw new DeviceUnavailableException("backend '" + spec + "': " + e.getMessage(), e);
        }
        if (devices.isEmpty()) throw new DeviceUnavailableException("backend '" + spec + "': " + b.name() + " has no device");
        if (ds.index() >= devices.size()) {
            // The backend works and has devices; the user named one that is not there: bad input, like an unknown spec.
            throw new IllegalArgumentException("backend '" + spec + "': no such device; " + b.name() + " has "
                    + devices.size() + ": " + devices.stream().map(d -> d.spec() + " " + d.name()).toList());
        }
        return new Resolved(b, ds.index(), devices.get(ds.index()));
    }

    /** The backend specs this build accepts, for messages. */
    public static String known() {
        List<String> all = new ArrayList<>();
        for (Backend b : all()) all.add(b.hasDevices() ? b.name() + "[:N]" : b.name());
        return String.join(", ", all);
    }

    /**
     * What {@code nag4j devices} prints, as data: one entry per backend, with its devices and what
     * EXACT mode promises on each, or why it is unavailable here.
     *
     * @param unavailable why the backend cannot start here (empty when it can)
     */
    public record Listing(Backend backend, List<DeviceInfo> devices, List<Exactness> exactness, String unavailable) {}

    /** Every backend and its devices; a backend that cannot start says why instead of failing the rest. */
    public static List<Listing> devices() {
        List<Listing> out = new ArrayList<>();
        for (Backend b : all()) {
            if (!b.hasDevices()) {
                out.add(new Listing(b, List.of(), List.of(), ""));
                continue;
            }
            try {
                List<DeviceInfo> ds = b.devices();
                out.add(new Listing(b, ds, ds.stream().map(b::exactness).toList(), ""));
            } catch (DeviceUnavailableException e) {
                out.add(new Listing(b, List.of(), List.of(), "unavailable: " + e.getMessage()));
            } catch (RuntimeException e) {
                // One backend failing (a half-installed ICD, a CUDA error) must not hide the others' devices.
                out.add(new Listing(b, List.of(), List.of(), "error: " + e.getMessage()));
            }
        }
        return out;
    }
}
