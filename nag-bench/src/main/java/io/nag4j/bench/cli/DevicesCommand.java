package io.nag4j.bench.cli;

import io.nag4j.gpu.device.DeviceInfo;
import io.nag4j.gpu.plan.Backend;
import io.nag4j.gpu.plan.Backends;
import io.nag4j.gpu.plan.Exactness;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;

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
        for (Backends.Listing l : Backends.devices()) {
            Backend b = l.backend();
            if (!b.hasDevices()) out.printf("%-18s %s%n", b.name(), b.describe());
            else if (!l.unavailable().isEmpty()) out.printf("%-18s %s%n", b.name(), l.unavailable());
            else if (l.devices().isEmpty()) out.printf("%-18s no devices%n", b.name());
            for (int i = 0; i < l.devices().size(); i++) {
                out.printf("%-18s %s%n", l.devices().get(i).spec(), describe(l.devices().get(i), l.exactness().get(i)));
            }
        }
        out.flush();
        return 0;
    }

    /** One line: name, vendor, version, memory, compute units, and whether EXACT mode is bit-exact (with why not). */
    static String describe(DeviceInfo d, Exactness exact) {
        return d.name() + " | " + d.vendor() + " | " + d.version() + " | " + gib(d.globalMemoryBytes()) + " | "
                + d.computeUnits() + " compute units | bit-exact: " + exact.summary();
    }

    static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
    }
}
