package io.nag4j.bench.hardening;

import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Rules;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import io.nag4j.gpu.plan.Backends;
import io.nag4j.core.bound.BoundOptimizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code nag4j lifetime}: binds, steps, reads and closes an optimizer {@code --cycles} times on a
 * backend and reports the process's resident memory (Linux {@code VmRSS}) after a warm-up and at
 * the end: a leak of device objects or native memory per cycle shows as growth. Exit 0, or 3 when
 * the growth per cycle exceeds {@code --max-bytes-per-cycle}. Run it with the heap touched up
 * front ({@code NAG4J_JAVA_OPTS="-Xms768m -Xmx768m -XX:+AlwaysPreTouch"}), or the Java heap's own
 * growth is counted too.
 */
@Command(name = "lifetime", mixinStandardHelpOptions = true,
        description = "Bind, step, read and close an optimizer many times on one backend; report resident-memory growth. Exit 3 above the bound.")
public final class LifetimeCommand implements Callable<Integer> {
    @Option(names = "--backend", defaultValue = "cpu", paramLabel = "SPEC", description = "Backend spec. Default: cpu.")
    String backend;

    @Option(names = "--optimizer", defaultValue = "adam", paramLabel = "NAME", description = "Optimizer. Default: adam.")
    String optimizer;

    @Option(names = "--cycles", defaultValue = "10000", paramLabel = "N", description = "Bind-step-close cycles. Default: 10000.")
    int cycles;

    @Option(names = "--elements", defaultValue = "4096", paramLabel = "N", description = "Elements of the ParamSet (two tensors). Default: 4096.")
    int elements;

    @Option(names = "--max-bytes-per-cycle", defaultValue = "4096", paramLabel = "B",
            description = "Resident growth per cycle after the warm-up above which the run fails (exit 3). Default: 4096.")
    long maxPerCycle;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (cycles < 20) throw new IllegalArgumentException("--cycles must be at least 20, got " + cycles);
        if (elements < 2) throw new IllegalArgumentException("--elements must be at least 2, got " + elements);
        Rule rule = Rules.byName(optimizer);
        Backends.resolve(backend);
        PrintWriter out = spec.commandLine().getOut();
        // After the JIT has settled (its code and compiler arenas move the first hundreds of cycles).
        int warm = Math.min(cycles / 2, Math.max(500, cycles / 10));
        long rssWarm = 0;
        long t0 = System.nanoTime();
        try (ParamSet params = ParamSet.of(Tensor.zeros("w", elements - 1), Tensor.zeros("b", 1)); ParamSet updates = params.zerosLike("")) {
            for (Tensor t : updates) for (long i = 0; i < t.size(); i++) t.set(i, 1e-3f * (i % 17));
            for (int c = 1; c <= cycles; c++) {
                try (BoundOptimizer opt = Backends.bind(backend, rule, rule.defaults(), params, null)) {
                    for (int s = 0; s < 3; s++) opt.step(updates);
                    opt.readParams().close();
                    opt.readState().close();
                }
                if (c == warm) {
                    System.gc(); // the JVM's own garbage is not what this measures
                    rssWarm = rss();
                }
            }
        }
        System.gc();
        long rssEnd = rss();
        double seconds = (System.nanoTime() - t0) / 1e9;
        double perCycle = (double) (rssEnd - rssWarm) / (cycles - warm);
        out.printf(Locale.ROOT, "%d cycles of bind, 3 steps, read, close of %s on %s (%d elements) in %.1f s%n", cycles, rule.name(), backend, elements, seconds);
        out.printf(Locale.ROOT, "resident memory: %.1f MiB after %d cycles, %.1f MiB after %d: %+.0f bytes per cycle (bound %d)%n",
                rssWarm / 1048576.0, warm, rssEnd / 1048576.0, cycles, perCycle, maxPerCycle);
        out.flush();
        return perCycle <= maxPerCycle ? 0 : 3;
    }

    /** Resident set size in bytes (Linux), or 0 where it cannot be read. */
    static long rss() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return 0;
    }
}
