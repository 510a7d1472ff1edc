package io.nag4j.bench.hardening;

import io.nag4j.bench.cli.KernelsCommand;
import io.nag4j.core.fuzz.Fuzzer;
import io.nag4j.core.fuzz.RandomPrograms;
import io.nag4j.core.ir.Op;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.DeviceUnavailableException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code nag4j fuzz}: differential fuzzing of the compiler. Random IR programs over every op on
 * hostile data (NaN, infinities, signed zeros, subnormals, float32 max, random bit patterns) run
 * on each target and must equal the reference evaluator bit for bit (NaN by class); their EXACT
 * PTX must assemble. Exit 0 when everything agrees, 3 with the smallest failing program printed.
 */
@Command(name = "fuzz", mixinStandardHelpOptions = true,
        description = "Random IR programs on every target against the reference evaluator, bit for bit; exit 0 if all agree, 3 (with the smallest failing program) if not.")
public final class FuzzCommand implements Callable<Integer> {
    static final int DISAGREE = 3;

    @Option(names = "--programs", defaultValue = "2000", paramLabel = "N", description = "Programs to run. Default: 2000.")
    long programs;

    @Option(names = "--seed", defaultValue = "1", paramLabel = "S", description = "Program i has seed S+i (a failure names its seed). Default: 1.")
    long seed;

    @Option(names = "--targets", split = ",", paramLabel = "LIST",
            description = "Targets: cpu-scalar, cpu-vector, opencl[:N], cuda[:N], ptx, ptxas. Default: every one this machine has "
                    + "(cpu-scalar, cpu-vector, opencl:0, ptx, ptxas), naming those skipped; a target named here must run.")
    List<String> targets;

    @Option(names = "--elements", defaultValue = "0", paramLabel = "N",
            description = "Elements per program; 0 (the default) draws 1 to 200 per batch, so vector bodies and remainders both run.")
    int elements;

    @Option(names = "--max-eqns", defaultValue = "" + RandomPrograms.MAX_EQNS, paramLabel = "N", description = "Largest program, in equations. Default: 40.")
    int maxEqns;

    @Option(names = "--batch", defaultValue = "32", paramLabel = "N",
            description = "Programs merged into one kernel per compile (1: each alone). Default: 32.")
    int batch;

    @Option(names = "--mode", defaultValue = "exact", paramLabel = "MODE",
            description = "exact (the default): the programs as drawn; fast: each after FAST's fusion pass (multiply-adds into fma).")
    String mode;

    @Option(names = "--max-failures", defaultValue = "1", paramLabel = "N", description = "Stop after N failing programs. Default: 1.")
    int maxFailures;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (programs < 1) throw new IllegalArgumentException("--programs must be at least 1, got " + programs);
        if (elements < 0 || elements > 1_000_000) throw new IllegalArgumentException("--elements must be 0 to 1000000, got " + elements);
        if (maxEqns < 1 || maxEqns > 10_000) throw new IllegalArgumentException("--max-eqns must be 1 to 10000, got " + maxEqns);
        if (batch < 1 || batch > 64) throw new IllegalArgumentException("--batch must be 1 to 64, got " + batch);
        if (maxFailures < 1) throw new IllegalArgumentException("--max-failures must be at least 1, got " + maxFailures);
        Mode m = KernelsCommand.parseMode(mode);
        PrintWriter out = spec.commandLine().getOut();
        try (FuzzTargets t = new FuzzTargets()) {
            List<String> skipped = new ArrayList<>();
            for (String name : targets != null ? targets : FuzzTargets.ALL) {
                try {
                    t.add(name);
                } catch (DeviceUnavailableException e) {
                    if (targets != null) throw e;
                    skipped.add(name + " (" + e.getMessage() + ")");
                }
            }
            out.println("fuzz: " + programs + " programs" + (m == Mode.FAST ? " (FAST: fused)" : "") + " from seed " + seed + " against the evaluator on "
                    + String.join(", ", names(t)) + (skipped.isEmpty() ? "" : "; skipped: " + String.join("; ", skipped)));
            out.flush();
            Fuzzer fuzzer = new Fuzzer(t.targets, t.checks, maxEqns, batch, maxFailures, m);
            Fuzzer.Report r = fuzzer.run(seed, programs, elements, line -> {
                out.println("  " + line);
                out.flush();
            });
            EnumSet<Op> missing = EnumSet.copyOf(java.util.Arrays.asList(io.nag4j.core.fuzz.RandomPrograms.DRAWN));
            missing.removeAll(r.opsSeen());
            out.printf(Locale.ROOT, "%d programs in %d batches, %.1f s; ops covered: %s%n", r.programs(), r.batches(), r.nanos() / 1e9,
                    missing.isEmpty() ? "all " + r.opsSeen().size() + " but random" : r.opsSeen().size() + " (missing " + missing + ")");
            StringBuilder times = new StringBuilder("seconds per target:");
            r.nanosByTarget().forEach((name, ns) -> times.append(String.format(Locale.ROOT, " %s %.1f", name, ns / 1e9)));
            out.println(times);
            if (r.passed()) {
                out.println("identical: every target agrees with the evaluator bit for bit on every program");
                return 0;
            }
            for (Fuzzer.Failure f : r.failures()) {
                out.println();
                out.print(f.describe());
                out.println("reproduce: ./nag4j fuzz --programs 1 --seed " + f.seed() + " --elements " + f.elements()
                        + " --max-eqns " + maxEqns + (m == Mode.FAST ? " --mode fast" : "") + " --targets " + f.where());
            }
            return DISAGREE;
        }
    }

    private static List<String> names(FuzzTargets t) {
        List<String> n = new ArrayList<>();
        t.targets.forEach(x -> n.add(x.name()));
        t.checks.forEach(x -> n.add(x.name()));
        return n;
    }
}
