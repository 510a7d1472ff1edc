package io.nag4j.core.fuzz;

import io.nag4j.core.cpu.CpuBackend;
import io.nag4j.core.ir.Eqn;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.ir.Op;
import io.nag4j.core.ir.Operand;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fuzzer's own contract: the generator covers every op and special value and is reproducible
 * by seed; merging keeps each program's meaning; a wrong target is found, named and shrunk to a
 * small program; and the CPU backend's lowerings pass a CI-sized run.
 */
class FuzzerTest {

    @Test
    void theGeneratorCoversEveryOpAndSpecialValueAndIsReproducible() {
        EnumSet<Op> ops = EnumSet.noneOf(Op.class);
        Set<Integer> constants = new HashSet<>();
        for (long seed = 0; seed < 300; seed++) {
            Kernel k = RandomPrograms.program(seed);
            assertEquals(k.print(), RandomPrograms.program(seed).print(), "seed " + seed + " is reproducible");
            assertEquals(k.inputs().size() - 1, k.outputs().size(), "param and every slot get an output");
            for (Eqn e : k.eqns()) {
                ops.add(e.op());
                for (Operand a : e.args()) if (a instanceof Operand.Const c) constants.add(c.bits());
            }
        }
        assertEquals(EnumSet.copyOf(java.util.Arrays.asList(RandomPrograms.DRAWN)), ops, "every op but random");
        for (float special : new float[] {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, Float.MIN_VALUE, Float.MAX_VALUE}) {
            assertTrue(constants.contains(Float.floatToRawIntBits(special)), "constant " + special + " is drawn");
        }
        assertTrue(constants.stream().anyMatch(c -> Float.isNaN(Float.intBitsToFloat(c))), "a NaN constant is drawn");
        float[][] data = RandomPrograms.inputs(RandomPrograms.program(7), 4000, 7);
        boolean nan = false, subnormal = false, inf = false, negZero = false;
        for (float[] col : data) {
            for (float v : col) {
                nan |= Float.isNaN(v);
                inf |= Float.isInfinite(v);
                negZero |= Float.floatToRawIntBits(v) == 0x80000000;
                subnormal |= v != 0 && Math.abs(v) < Float.MIN_NORMAL;
            }
        }
        assertTrue(nan && inf && negZero && subnormal, "data holds NaN, infinities, -0 and subnormals");
    }

    @Test
    void mergingKeepsEveryProgramsMeaning() {
        for (long first = 0; first < 40; first += 8) {
            List<Kernel> ks = new ArrayList<>();
            List<float[][]> data = new ArrayList<>();
            List<float[]> scalars = new ArrayList<>();
            for (long s = first; s < first + 8; s++) {
                Kernel k = RandomPrograms.program(s);
                ks.add(k);
                data.add(RandomPrograms.inputs(k, 9, s));
                scalars.add(RandomPrograms.scalars(k, s));
            }
            Programs.Merged m = Programs.merge("m", ks);
            float[][] merged = m.data(data);
            evaluate(m.kernel(), merged, m.scalars(scalars));
            for (int p = 0; p < ks.size(); p++) {
                float[][] alone = data.get(p);
                evaluate(ks.get(p), alone, scalars.get(p));
                for (int i = 0; i < alone.length; i++) {
                    assertEquals(-1, Fuzzer.firstDifference(alone[i], merged[m.inputOf()[p][i]]), "program " + p + " input " + i + " of batch " + first);
                }
            }
        }
    }

    @Test
    void aWrongTargetIsFoundAndShrunkToTheOpItGetsWrong() {
        // Math.min written the careless way: NaN and the sign of zero depend on operand order.
        Fuzzer.Target careless = new Fuzzer.Target() {
            @Override public String name() { return "careless-min"; }
            @Override public void run(Kernel k, float[][] data, float[] scalars) { evaluate(carelessMin(k), data, scalars); }
        };
        Fuzzer.Report r = new Fuzzer(List.of(careless), List.of(), 40, 16, 1).run(100, 2000, 0, line -> {});
        assertFalse(r.passed(), "the careless min is caught");
        Fuzzer.Failure f = r.failures().getFirst();
        assertEquals("careless-min", f.where());
        Kernel small = f.smallest().program();
        assertTrue(small.eqns().size() <= 2, "shrunk to at most 2 equations:\n" + small.print());
        assertTrue(small.eqns().stream().anyMatch(e -> e.op() == Op.MIN), small.print());
        assertEquals(1, f.smallest().elements(), "shrunk to one element");
        assertTrue(f.describe().contains("min"), f.describe());
        // The seed it names reproduces it alone.
        Fuzzer.Report again = new Fuzzer(List.of(careless), List.of(), 40, 1, 1).run(f.seed(), 1, f.elements(), line -> {});
        assertFalse(again.passed(), "seed " + f.seed() + " alone fails again");
    }

    @Test
    void aTargetThatThrowsAndACheckThatRefusesAreShrunkToo() {
        Fuzzer.Target noDivide = new Fuzzer.Target() {
            @Override public String name() { return "no-divide"; }

            @Override
            public void run(Kernel k, float[][] data, float[] scalars) {
                if (k.eqns().stream().anyMatch(e -> e.op() == Op.DIV)) throw new IllegalStateException("cannot divide");
                evaluate(k, data, scalars);
            }
        };
        Fuzzer.Failure f = new Fuzzer(List.of(noDivide), List.of(), 40, 16, 1).run(1, 200, 0, line -> {}).failures().getFirst();
        assertEquals(1, f.smallest().program().eqns().size(), f.describe());
        assertEquals(Op.DIV, f.smallest().program().eqns().getFirst().op());
        assertTrue(f.detail().contains("cannot divide"), f.detail());

        Fuzzer.Check noSqrt = new Fuzzer.Check() {
            @Override public String name() { return "no-sqrt-assembler"; }
            @Override public void check(Kernel k) { if (k.eqns().stream().anyMatch(e -> e.op() == Op.SQRT)) throw new IllegalStateException("sqrt refused"); }
        };
        Fuzzer.Failure c = new Fuzzer(List.of(), List.of(noSqrt), 40, 16, 1).run(1, 200, 0, line -> {}).failures().getFirst();
        assertEquals("no-sqrt-assembler", c.where());
        assertEquals(List.of(Op.SQRT), c.smallest().program().eqns().stream().map(Eqn::op).toList(), c.describe());
    }

    @Test
    void bothCpuLoweringsAgreeWithTheEvaluatorOnAThousandPrograms() {
        List<Fuzzer.Target> targets = new ArrayList<>();
        List<CpuBackend> owned = new ArrayList<>();
        owned.add(CpuBackend.singleThread(false));
        targets.add(Fuzzer.target("cpu-scalar", owned.getLast()));
        if (CpuBackend.vectorAvailable()) {
            owned.add(CpuBackend.singleThread(true));
            targets.add(Fuzzer.target("cpu-vector", owned.getLast()));
        }
        try {
            Fuzzer.Report r = new Fuzzer(targets, List.of(), 40, 32, 3).run(0xC0FFEE, 1000, 0, line -> {});
            assertTrue(r.passed(), () -> r.failures().stream().map(Fuzzer.Failure::describe).reduce("", String::concat));
            assertEquals(EnumSet.copyOf(java.util.Arrays.asList(RandomPrograms.DRAWN)), r.opsSeen());
        } finally {
            owned.forEach(CpuBackend::close);
        }
    }

    /** Runs {@code k} element by element through the evaluator, in place (the fuzzer's own oracle). */
    static void evaluate(Kernel k, float[][] data, float[] scalars) {
        Fuzzer.target("evaluator", io.nag4j.core.optim.EvaluatorExecutor.INSTANCE).run(k, data, scalars);
    }

    /** {@code k} with every MIN as {@code a < b ? a : b}, written in the IR (LT and SELECT). */
    static Kernel carelessMin(Kernel k) {
        List<Eqn> eqns = new ArrayList<>();
        int[] moved = new int[k.eqns().size()];
        java.util.function.UnaryOperator<Operand> map = a -> a instanceof Operand.Var v ? new Operand.Var(moved[v.id()]) : a;
        for (Eqn e : k.eqns()) {
            List<Operand> args = e.args().stream().map(map).toList();
            if (e.op() == Op.MIN) {
                eqns.add(new Eqn(eqns.size(), Op.LT, args));
                eqns.add(new Eqn(eqns.size(), Op.SELECT, List.of(new Operand.Var(eqns.size() - 1), args.get(0), args.get(1))));
            } else {
                eqns.add(new Eqn(eqns.size(), e.op(), args));
            }
            moved[e.id()] = eqns.size() - 1;
        }
        return new Kernel(k.name(), k.inputs(), k.scalars(), eqns, k.outputs().stream().map(o -> new Kernel.Output(o.input(), map.apply(o.value()))).toList());
    }
}
