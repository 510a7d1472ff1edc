package io.nag4j.gpu.plan;

import io.nag4j.gpu.device.DeviceUnavailableException;
import io.nag4j.gpu.device.Driver;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.function.Supplier;

/**
 * The device drivers on the class path, by name, as {@code --backend name[:N]} takes them: every
 * {@link Driver} listed in {@code META-INF/services/io.nag4j.gpu.device.Driver} (nag-gpu lists
 * OpenCL and CUDA), plus any a program {@link #register}s. Nothing here names a driver. A
 * driver's constructor must be cheap: it loads its native library on first use, so a missing
 * library is a {@link DeviceUnavailableException} from {@link Driver#devices()}, not a failure
 * to list. Thread-safe.
 */
public final class Drivers {
    private static final Map<String, Supplier<Driver>> SUPPLIERS = new LinkedHashMap<>();
    private static final Map<String, Driver> MADE = new LinkedHashMap<>();

    static {
        for (ServiceLoader.Provider<Driver> p : ServiceLoader.load(Driver.class, Drivers.class.getClassLoader()).stream().toList()) {
            try {
                Driver d = p.get();
                SUPPLIERS.putIfAbsent(key(d.name()), () -> d);
                MADE.putIfAbsent(key(d.name()), d);
            } catch (ServiceConfigurationError | RuntimeException | LinkageError e) {
                System.getLogger(Drivers.class.getName()).log(System.Logger.Level.WARNING,
                        "driver " + p.type().getName() + " could not be made: " + e);
            }
        }
    }

    private Drivers() {}

    /** Registers (or replaces) the driver called {@code name}; lower-case names only. */
    public static synchronized void register(String name, Supplier<Driver> supplier) {
        Objects.requireNonNull(supplier, "driver supplier");
        String n = key(name);
        if (!n.equals(name) || n.contains(":")) throw new IllegalArgumentException("driver name must be lower-case without ':', got '" + name + "'");
        SUPPLIERS.put(n, supplier);
        MADE.remove(n);
    }

    /** Forgets the driver called {@code name} (tests use it); true if it was registered. */
    public static synchronized boolean unregister(String name) {
        MADE.remove(key(name));
        return SUPPLIERS.remove(key(name)) != null;
    }

    /** Registered driver names, in registration order. */
    public static synchronized List<String> names() { return List.copyOf(SUPPLIERS.keySet()); }

    public static synchronized boolean isRegistered(String name) { return SUPPLIERS.containsKey(key(name)); }

    /**
     * The driver called {@code name}.
     *
     * @throws IllegalArgumentException   if no driver of that name is registered (the message lists those that are)
     * @throws DeviceUnavailableException if its supplier fails (the native library is missing, ...)
     */
    public static synchronized Driver get(String name) {
        String n = key(name);
        Driver d = MADE.get(n);
        if (d != null) return d;
        Supplier<Driver> s = SUPPLIERS.get(n);
        if (s == null) throw new IllegalArgumentException("no driver named '" + name + "' in this build; registered: " + SUPPLIERS.keySet());
        try {
            d = Objects.requireNonNull(s.get(), "driver supplier for '" + n + "' returned null");
        } catch (DeviceUnavailableException e) {
            throw e;
        } catch (RuntimeException | LinkageError e) {
            throw new DeviceUnavailableException("driver '" + n + "' cannot start: " + e, e);
        }
        MADE.put(n, d);
        return d;
    }

    /** A parsed {@code name[:N]} device spec. */
    public record Spec(String driver, int index) {
        @Override
        public String toString() { return driver + ":" + index; }
    }

    /**
     * Parses {@code name} or {@code name:N} (device 0 when no number is given).
     *
     * @throws IllegalArgumentException if the spec is blank or its number is not a non-negative integer
     */
    public static Spec parseSpec(String spec) {
        if (spec == null || spec.isBlank()) throw new IllegalArgumentException("a device spec needs a name, e.g. opencl or opencl:0");
        String s = spec.strip().toLowerCase(Locale.ROOT);
        int colon = s.indexOf(':');
        if (colon < 0) return new Spec(s, 0);
        String name = s.substring(0, colon), num = s.substring(colon + 1);
        int index;
        try {
            index = Integer.parseInt(num);
        } catch (NumberFormatException e) {
            index = -1;
        }
        if (name.isEmpty() || index < 0 || !num.chars().allMatch(Character::isDigit)) {
            throw new IllegalArgumentException("bad device spec '" + spec + "': expected NAME or NAME:N with N >= 0, e.g. opencl:0");
        }
        return new Spec(name, index);
    }

    private static String key(String name) {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("a driver needs a non-blank name");
        return name.strip().toLowerCase(Locale.ROOT);
    }
}
