package io.nag4j.bench.cli;

import io.nag4j.gpu.device.DeviceInfo;
import io.nag4j.gpu.device.DeviceUnavailableException;
import io.nag4j.gpu.device.Driver;
import io.nag4j.gpu.plan.Drivers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code nag4j devices}: the backends this build has and the devices each driver sees, with the
 * spec {@code --backend} takes. A driver that cannot start prints why; that is not an error.
 */
@Command(name = "devices", mixinStandardHelpOptions = true,
        description = "Lists backends and devices, with the spec --backend takes and whether EXACT mode is bit-exact there.")
public final class DevicesCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        out.printf("%-12s %s%n", "cpu", "JVM CPU backend, " + Runtime.getRuntime().availableProcessors() + " cores; bit-exact: yes");
        out.printf("%-12s %s%n", "reference", "hand-written reference optimizers (the oracle), one thread; bit-exact: yes");
        List<String> drivers = Drivers.names();
        if (drivers.isEmpty()) out.printf("%-12s %s%n", "(devices)", "no device drivers in this build");
        for (String name : drivers) {
            List<DeviceInfo> devices;
            try {
                Driver d = Drivers.get(name);
                devices = d.devices();
            } catch (DeviceUnavailableException e) {
                out.printf("%-12s unavailable: %s%n", name, e.getMessage());
                continue;
            } catch (RuntimeException e) {
                // One driver failing (a half-installed ICD, a CUDA error) must not hide the others' devices.
                out.printf("%-12s error: %s%n", name, e.getMessage());
                continue;
            }
            if (devices.isEmpty()) out.printf("%-12s no devices%n", name);
            for (DeviceInfo d : devices) out.printf("%-12s %s%n", d.spec(), describe(d));
        }
        out.flush();
        return 0;
    }

    /** One line: name, vendor, version, memory, compute units, and whether EXACT mode is bit-exact (with why not). */
    static String describe(DeviceInfo d) {
        return d.name() + " | " + d.vendor() + " | " + d.version() + " | " + gib(d.globalMemoryBytes()) + " | "
                + d.computeUnits() + " compute units | bit-exact: " + (d.bitExact() ? "yes" : "no (" + d.whyNotBitExact() + ")");
    }

    static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
    }
}
