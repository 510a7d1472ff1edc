package io.nag4j.core.fuzz;

import io.nag4j.core.ir.Eqn;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.ir.Op;
import io.nag4j.core.optim.KernelExecutor;
import io.nag4j.core.tensor.Tensor;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Differential fuzzing of the compiler: random programs ({@link RandomPrograms}) on hostile data
 * run on every target and must agree with the reference evaluator bit for bit (NaN by
 * class); every check (an assembler) must accept every program. Programs run merged in batches
 * ({@link Programs#merge}); a batch that disagrees is split into its programs, and each failing
 * program is {@link Shrinker shrunk} on the target it fails on.
 *
 * <p>Program {@code i} of a run from seed {@code S} has seed {@code S + i}, and its data depends on
 * that seed and the element count only, so {@code --seed S+i --programs 1 --elements N} reproduces it.
 */
public final class Fuzzer {
    /** Something that runs a kernel on columns of data, in place (outputs written to their inputs' columns). */
    public interface Target {
        String name();

        void run(Kernel k, float[][] data, float[] scalars);
    }

    /** Something every program must pass, e.g. an assembler accepting the generated code; throws on failure. */
    public interface Check {
        String name();

        void check(Kernel k);
    }

    /** A {@link KernelExecutor} (the CPU backend, a device optimizer's executor) as a target. */
    public static Target target(String name, KernelExecutor executor) {
        return new Target() {
            @Override public String name() { return name; }

            @Override
            public void run(Kernel k, float[][] data, float[] scalars) {
                Tensor[] t = new Tensor[data.length];
                try {
                    for (int i = 0; i < t.length; i++) t[i] = Tensor.of(k.inputs().get(i), data[i]);
                    executor.execute(k, List.<Tensor[]>of(t), scalars.clone());
                    for (int i = 0; i < t.length; i++) data[i] = t[i].toArray();
                } finally {
                    for (Tensor x : t) if (x != null) x.close();
                }
            }
        };
    }

    /** One failing program: where it fails, its seed and element count, and the smallest case found. */
    public record Failure(String where, long seed, int elements, Kernel program, Shrinker.Case smallest, String detail) {
        /** The failure, the smallest program and its failing element's data, for a person to read. */
        public String describe() {
            StringBuilder sb = new StringBuilder();
            sb.append(where).append(" disagrees on program seed ").append(seed).append(" (").append(program.eqns().size())
                    .append(" equations, ").append(elements).append(" elements): ").append(detail).append('\n');
            Kernel k = smallest.program();
            sb.append("smallest failing program (").append(k.eqns().size()).append(" equations, ")
                    .append(smallest.elements()).append(smallest.elements() == 1 ? " element" : " copies of one element").append("):\n");
            sb.append(k.print().strip()).append('\n');
            for (int i = 0; i < k.inputs().size(); i++) sb.append("  ").append(k.inputs().get(i)).append(" = ").append(show(smallest.data()[i][0])).append('\n');
            for (int i = 0; i < k.scalars().size(); i++) sb.append("  ").append(k.scalars().get(i)).append(" = ").append(show(smallest.scalars()[i])).append('\n');
            return sb.toString();
        }
    }

    /** What a run did: programs, batches, ops covered, failures. */
    public record Report(long programs, long batches, EnumSet<Op> opsSeen, List<Failure> failures, long nanos, Map<String, Long> nanosByTarget) {
        public boolean passed() { return failures.isEmpty(); }
    }

    /** The oracle every target is held to: the reference evaluator, element by element. */
    private final Target reference = target("evaluator", io.nag4j.core.optim.EvaluatorExecutor.INSTANCE);

    private final List<Target> targets;
    private final List<Check> checks;
    private final int maxEqns, batchSize, maxFailures;
    private final io.nag4j.core.optim.Mode mode;

    /**
     * @param batchSize   programs merged into one kernel (1 runs each alone)
     * @param maxFailures stop after this many failing programs
     */
    public Fuzzer(List<Target> targets, List<Check> checks, int maxEqns, int batchSize, int maxFailures) {
        this(targets, checks, maxEqns, batchSize, maxFailures, io.nag4j.core.optim.Mode.EXACT);
    }

    /**
     * As above, each program in {@code mode}: FAST fuzzes the fused programs ({@link io.nag4j.core.optim.Mode#kernel}),
     * which targets run as they run any kernel, so every lowering of FMA is held against the evaluator.
     */
    public Fuzzer(List<Target> targets, List<Check> checks, int maxEqns, int batchSize, int maxFailures, io.nag4j.core.optim.Mode mode) {
        this.mode = java.util.Objects.requireNonNull(mode, "mode");
        if (maxEqns < 1 || batchSize < 1 || maxFailures < 1) throw new IllegalArgumentException("maxEqns, batchSize and maxFailures must be at least 1");
        this.targets = List.copyOf(targets);
        this.checks = List.copyOf(checks);
        this.maxEqns = maxEqns;
        this.batchSize = batchSize;
        this.maxFailures = maxFailures;
    }

    /** Elements of the batch whose first program has seed {@code seed}: 1 to 200, so vector bodies and remainders both run. */
    public static int elementsFor(long seed) {
        return new SplittableRandom(seed * 0x2545F4914F6CDD1DL).nextInt(1, 201);
    }

    /**
     * Runs {@code programs} programs from {@code seed}.
     *
     * @param elements elements per program, or 0 for {@link #elementsFor} each batch
     * @param progress receives a line per batch that fails and every 10% of the run
     */
    public Report run(long seed, long programs, int elements, Consumer<String> progress) {
        long t0 = System.nanoTime(), batches = 0, done = 0, nextNote = Math.max(1, programs / 10);
        EnumSet<Op> seen = EnumSet.noneOf(Op.class);
        List<Failure> failures = new ArrayList<>();
        Map<String, Long> time = new LinkedHashMap<>();
        while (done < programs && failures.size() < maxFailures) {
            int size = (int) Math.min(batchSize, programs - done);
            long first = seed + done;
            int n = elements > 0 ? elements : elementsFor(first);
            List<Kernel> ks = new ArrayList<>();
            List<float[][]> data = new ArrayList<>();
            List<float[]> scalars = new ArrayList<>();
            for (int i = 0; i < size; i++) {
                Kernel k = mode.kernel(RandomPrograms.program(first + i, maxEqns));
                for (Eqn e : k.eqns()) seen.add(e.op());
                ks.add(k);
                data.add(RandomPrograms.inputs(k, n, first + i));
                scalars.add(RandomPrograms.scalars(k, first + i));
            }
            Programs.Merged m = Programs.merge("fuzz_batch_" + Long.toUnsignedString(first, 16), ks);
            float[][] merged = m.data(data);
            float[] mergedScalars = m.scalars(scalars);
            float[][] want = copy(merged);
            long r0 = System.nanoTime();
            reference.run(m.kernel(), want, mergedScalars);
            time.merge(reference.name(), System.nanoTime() - r0, Long::sum);
            for (Target t : targets) {
                if (failures.size() >= maxFailures) break;
                boolean[] bad = new boolean[size];
                String why = null;
                try {
                    float[][] got = copy(merged);
                    long s0 = System.nanoTime();
                    t.run(m.kernel(), got, mergedScalars.clone());
                    time.merge(t.name(), System.nanoTime() - s0, Long::sum);
                    for (int o = 0; o < m.kernel().outputs().size(); o++) {
                        int col = m.kernel().outputs().get(o).input();
                        if (firstDifference(want[col], got[col]) >= 0) bad[m.owner()[o]] = true;
                    }
                } catch (RuntimeException e) {
                    why = e.toString();
                    java.util.Arrays.fill(bad, true); // which program? each is tried alone below
                }
                int before = failures.size();
                for (int p = 0; p < size && failures.size() < maxFailures; p++) {
                    if (!bad[p]) continue;
                    Shrinker.Case alone = new Shrinker.Case(ks.get(p), data.get(p), scalars.get(p));
                    Integer e = mismatch(t, alone);
                    if (e == null) {
                        if (why == null) failures.add(new Failure(t.name(), first + p, n, ks.get(p), alone,
                                "only inside the merged batch from seed " + first + " (" + size + " programs); alone it agrees"));
                        continue;
                    }
                    Shrinker.Case small = Shrinker.shrink(alone, c -> mismatch(t, c));
                    failures.add(new Failure(t.name(), first + p, n, ks.get(p), small, detail(t, alone)));
                    progress.accept("FAIL " + t.name() + " program seed " + (first + p));
                }
                if (why != null && failures.size() == before) {
                    failures.add(new Failure(t.name(), first, n, m.kernel(), new Shrinker.Case(m.kernel(), merged, mergedScalars),
                            "the merged batch failed (" + why + ") but every program alone passes"));
                }
            }
            for (Check c : checks) {
                if (failures.size() >= maxFailures) break;
                long s0 = System.nanoTime();
                try {
                    c.check(m.kernel());
                    time.merge(c.name(), System.nanoTime() - s0, Long::sum);
                } catch (RuntimeException batchError) {
                    for (int p = 0; p < size && failures.size() < maxFailures; p++) {
                        Kernel k = ks.get(p);
                        String error = checkError(c, k);
                        if (error == null) continue;
                        Shrinker.Case small = Shrinker.shrink(new Shrinker.Case(k, data.get(p), scalars.get(p)), x -> checkError(c, x.program()) == null ? -1 : 0);
                        failures.add(new Failure(c.name(), first + p, n, k, small, error));
                    }
                }
            }
            done += size;
            batches++;
            if (done >= nextNote || done == programs) {
                progress.accept(String.format("%d/%d programs, %d batches, %d failing, %.1f s", done, programs, batches,
                        failures.size(), (System.nanoTime() - t0) / 1e9));
                nextNote = done + Math.max(1, programs / 10);
            }
        }
        return new Report(done, batches, seen, failures, System.nanoTime() - t0, time);
    }

    /** Where a target first differs from the evaluator on a case: the element and what to tell a person. */
    private record Difference(int element, String detail) {}

    /** The first element where {@code t} differs from the evaluator on {@code c}, or null when it agrees. */
    private Integer mismatch(Target t, Shrinker.Case c) {
        Difference d = difference(t, c);
        return d == null ? null : d.element();
    }

    private String detail(Target t, Shrinker.Case c) {
        Difference d = difference(t, c);
        return d == null ? "agrees" : d.detail();
    }

    /** Runs {@code c} on the evaluator and on {@code t}: the first output element that differs (a throw is element 0), or null. */
    private Difference difference(Target t, Shrinker.Case c) {
        float[][] want = copy(c.data()), got = copy(c.data());
        reference.run(c.program(), want, c.scalars());
        try {
            t.run(c.program(), got, c.scalars().clone());
        } catch (RuntimeException e) {
            return new Difference(0, "it throws " + e);
        }
        Difference first = null;
        for (Kernel.Output o : c.program().outputs()) {
            int e = firstDifference(want[o.input()], got[o.input()]);
            if (e >= 0 && (first == null || e < first.element())) {
                first = new Difference(e, "element " + e + " of output '" + c.program().inputs().get(o.input()) + "': evaluator "
                        + show(want[o.input()][e]) + ", " + t.name() + " " + show(got[o.input()][e]));
            }
        }
        return first;
    }

    private static String checkError(Check c, Kernel k) {
        try {
            c.check(k);
            return null;
        } catch (RuntimeException e) {
            return e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse(e.toString());
        }
    }

    /** The first index where the bits differ (any NaN matches any NaN), or -1. */
    public static int firstDifference(float[] want, float[] got) {
        if (want.length != got.length) return 0;
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i]) && !(Float.isNaN(want[i]) && Float.isNaN(got[i]))) return i;
        }
        return -1;
    }

    static String show(float v) {
        return String.format("0x%08x (%s)", Float.floatToRawIntBits(v), v);
    }

    private static float[][] copy(float[][] a) {
        float[][] c = new float[a.length][];
        for (int i = 0; i < a.length; i++) c[i] = a[i].clone();
        return c;
    }
}
