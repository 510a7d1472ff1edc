package io.nag4j.bench.cpu;

import io.nag4j.core.cpu.CpuBackend;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.optim.KernelOptimizer;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.rule.Nag;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * JMH version of {@code nag4j bench-cpu}: one NAG step per invocation, as the probe (plain
 * {@code float[]} loop over all cores), the single-threaded loop, the CPU backend alone and
 * the CPU backend through {@link KernelOptimizer}. Run for example with
 * {@code java -cp "nag-bench/target/classes:nag-bench/target/lib/*" org.openjdk.jmh.Main CpuJmh -p n=1000}
 * (the forked JVM gets {@code --add-modules jdk.incubator.vector}, so the backend runs its vector lowering).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
public class CpuJmh {
    @Param({"1000", "10000", "100000", "1000000", "10000000", "67108864"})
    public int n;

    private NagProbe single;
    private Kernel kernel;
    private KernelOptimizer opt;
    private ParamSet params, updates;
    private OptState state;
    private List<Tensor[]> groups;
    private float[] scalars;

    @Setup(Level.Trial)
    public void setUp() {
        single = new NagProbe(n, 1, 0.01f, 0.9f);
        kernel = Nag.INSTANCE.kernel();
        opt = new KernelOptimizer(Nag.INSTANCE, Nag.INSTANCE.defaults(), CpuBackend.shared());
        params = ParamSet.of(Tensor.zeros("w", n));
        updates = ParamSet.of(Tensor.zeros("w", n));
        state = opt.init(params);
        groups = List.<Tensor[]>of(new Tensor[] {params.get(0), updates.get(0), state.slot("phi").get(0)});
        scalars = Nag.INSTANCE.scalars(2, Nag.INSTANCE.defaults());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        single.close();
        state.close();
        params.close();
        updates.close();
    }

    /**
     * The all-cores probe, in a state of its own: its helper threads spin between steps, so they
     * must exist only while the probe itself is measured, not eat a core under the others.
     */
    @State(Scope.Benchmark)
    public static class AllCoresProbe {
        NagProbe probe;

        @Setup(Level.Trial)
        public void setUp(CpuJmh bench) { probe = new NagProbe(bench.n, Runtime.getRuntime().availableProcessors(), 0.01f, 0.9f); }

        @TearDown(Level.Trial)
        public void tearDown() { probe.close(); }
    }

    @Benchmark
    public void probe(AllCoresProbe p) { p.probe.step(false); }

    @Benchmark
    public void loop1t() { single.step(false); }

    @Benchmark
    public void cpuExecute() { CpuBackend.shared().execute(kernel, groups, scalars); }

    @Benchmark
    public void cpuOptimizer() { opt.step(state, params, updates); }
}
