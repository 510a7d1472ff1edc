package io.nag4j.core.optim;

import io.nag4j.core.cpu.CpuBackend;
import io.nag4j.core.golden.Bits;
import io.nag4j.core.reference.ReferenceOptimizer;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Rules;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The public step's steady state: nothing allocated, and optimizers on the shared backend from many threads each correct. */
class KernelOptimizerStepTest {

    private static ParamSet random(Random r, String prefix, long... sizes) {
        List<Tensor> ts = new ArrayList<>();
        for (int i = 0; i < sizes.length; i++) {
            Tensor t = Tensor.zeros(prefix + i, sizes[i]);
            for (long e = 0; e < t.size(); e++) t.set(e, (float) r.nextGaussian());
            ts.add(t);
        }
        return new ParamSet(ts);
    }

    /** What reading the counter twice allocates by itself (nothing once compiled; not so when interpreted). */
    private static long measuringCost() {
        long a = allocatedByThisThread();
        return allocatedByThisThread() - a;
    }

    private static long allocatedByThisThread() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    /**
     * After the first step, a step with the same state, params, updates and Hyperparams allocates
     * (next to) nothing on the calling thread, on one thread (small) and on the pool (large), for rules with
     * host values and flags, and for a new Hyperparams object with the same flags (a schedule).
     */
    @Test
    void aSteadyStateStepAllocatesNothing() {
        Random r = new Random(3);
        for (Rule rule : List.of(Rules.byName("nag"), Rules.byName("adam"), Rules.byName("rmsprop"), Rules.byName("momentum"))) {
            for (long n : new long[] {1000, 400_000}) {
                KernelOptimizer opt = new KernelOptimizer(rule, rule.defaults(), CpuBackend.shared());
                try (ParamSet p = random(r, "w", n, 17); ParamSet u = random(r, "w", n, 17); OptState s = opt.init(p)) {
                    Hyperparams hp = opt.hyperparams(), hp2 = hp.with(hp.names().getFirst(), hp.get(hp.names().getFirst()));
                    // Until the JIT has compiled the loops (interpreted Vector API code boxes its vectors), rounds allocate.
                    // A bounded number of rounds keeps a regression from hanging. A whole round must then allocate next to nothing, and never in proportion to the tensors: whether C2's
                    // escape analysis removes the last few temporaries depends on its inlining on the day (JMH measures 0 B/op),
                    // so a few hundred bytes per step are allowed; interpreted code allocates ~50 bytes per element.
                    long perRound = Long.MAX_VALUE;
                    int rounds = 0;
                    for (; rounds < 200 && perRound > 100 * 256; rounds++) {
                        long before = allocatedByThisThread();
                        for (int i = 0; i < 100; i++) opt.step(s, p, u, i % 2 == 0 ? hp : hp2);
                        perRound = allocatedByThisThread() - before - measuringCost();
                    }
                    assertTrue(perRound <= 100 * 256, rule.name() + " n=" + n + ": " + perRound
                            + " bytes allocated by 100 steady-state steps, after " + rounds + " rounds");
                }
            }
        }
    }

    /** One optimizer stepping two parameter groups in turn keeps both bindings: neither is planned again each step. */
    @Test
    void twoParameterGroupsInTurnStayPlanned() {
        Random r = new Random(5);
        Rule rule = Rules.byName("adam");
        KernelOptimizer opt = new KernelOptimizer(rule, rule.defaults(), CpuBackend.shared());
        try (ParamSet p1 = random(r, "a", 1000); ParamSet u1 = random(r, "a", 1000); ParamSet p2 = random(r, "b", 300, 7);
             ParamSet u2 = random(r, "b", 300, 7); OptState s1 = opt.init(p1); OptState s2 = opt.init(p2)) {
            long perRound = Long.MAX_VALUE;
            for (int rounds = 0; rounds < 200 && perRound > 100 * 256; rounds++) {
                long before = allocatedByThisThread();
                for (int i = 0; i < 50; i++) {
                    opt.step(s1, p1, u1);
                    opt.step(s2, p2, u2);
                }
                perRound = allocatedByThisThread() - before - measuringCost();
            }
            // A new plan per step would allocate its tables (kilobytes) every time.
            assertTrue(perRound <= 100 * 256, perRound + " bytes allocated by 100 alternating steps");
            assertEquals(s1.step(), s2.step());
        }
    }

    /** Two optimizers on CpuBackend.shared() from two threads at once, one large (the pool) and one small: both bit-exact. */
    @Test
    void independentOptimizersOnTheSharedBackendFromTwoThreadsAreEachCorrect() throws Exception {
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        for (long[] sizes : List.of(new long[] {600_000, 300_001}, new long[] {999, 5}, new long[] {250_000}, new long[] {31})) {
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    Rule rule = Rules.byName("adam");
                    Random r = new Random(sizes[0]);
                    KernelOptimizer cpu = new KernelOptimizer(rule, rule.defaults(), CpuBackend.shared());
                    Optimizer ref = ReferenceOptimizer.forRule("adam", rule.defaults());
                    try (ParamSet p1 = random(r, "w", sizes); ParamSet p2 = p1.copy(); ParamSet u = p1.zerosLike("");
                         OptState s1 = ref.init(p1); OptState s2 = cpu.init(p2)) {
                        for (int step = 1; step <= 30; step++) {
                            for (Tensor t : u) for (long e = 0; e < t.size(); e += 97) t.set(e, (float) r.nextGaussian());
                            ref.step(s1, p1, u);
                            cpu.step(s2, p2, u);
                        }
                        for (int i = 0; i < p1.size(); i++) {
                            Bits.assertSame(p1.get(i), p2.get(i), "sizes " + java.util.Arrays.toString(sizes) + " param");
                            Bits.assertSame(s1.slot("g2").get(i), s2.slot("g2").get(i), "sizes " + java.util.Arrays.toString(sizes) + " g2");
                        }
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }));
        }
        for (Thread t : threads) t.join();
        assertTrue(failures.isEmpty(), () -> failures.getFirst().toString());
    }

    /** The optimizer's flags may change between steps on the host: each choice is its own kernel, and matches the reference. */
    @Test
    void flagsMayChangeBetweenStepsOnTheHost() {
        Rule rule = Rules.byName("rmsprop");
        Random r = new Random(9);
        KernelOptimizer cpu = new KernelOptimizer(rule, rule.defaults(), CpuBackend.shared());
        Optimizer ref = ReferenceOptimizer.forRule("rmsprop", rule.defaults());
        List<Hyperparams> configs = List.copyOf(Rules.configurations(rule).values());
        try (ParamSet p1 = random(r, "w", 100, 3); ParamSet p2 = p1.copy(); ParamSet u = p1.zerosLike("");
             OptState s1 = ref.init(p1); OptState s2 = cpu.init(p2)) {
            for (int step = 0; step < 40; step++) {
                for (Tensor t : u) for (long e = 0; e < t.size(); e++) t.set(e, (float) r.nextGaussian());
                Hyperparams hp = configs.get(r.nextInt(configs.size()));
                ref.step(s1, p1, u, hp);
                cpu.step(s2, p2, u, hp);
                for (int i = 0; i < p1.size(); i++) {
                    Bits.assertSame(p1.get(i), p2.get(i), "step " + step + " " + hp + " param");
                    for (String slot : rule.slots()) Bits.assertSame(s1.slot(slot).get(i), s2.slot(slot).get(i), "step " + step + " " + hp + " " + slot);
                }
            }
            assertEquals("rmsprop_centered_momentum", cpu.kernel(configs.getLast()).name());
        }
    }
}
