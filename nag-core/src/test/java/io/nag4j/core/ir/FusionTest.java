package io.nag4j.core.ir;

import io.nag4j.core.fuzz.RandomPrograms;
import io.nag4j.core.rule.Rules;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** FAST mode's IR pass: which multiply-adds fuse, with which signs, and that the result means one rounding. */
class FusionTest {
    private static Operand in(int i) { return new Operand.Input(i); }
    private static Operand v(int i) { return new Operand.Var(i); }
    private static Operand s(int i) { return new Operand.Scalar(i); }

    @Test
    void singleUseMultipliesFuseWithExactNegationAndSharedOnesStay() {
        Kernel k = new Kernel("f", List.of("param", "update"), List.of("h"),
                List.of(new Eqn(0, Op.MUL, List.of(in(0), in(1))),
                        new Eqn(1, Op.SUB, List.of(v(0), s(0))),      // x*y - h  -> fma(x, y, -h)
                        new Eqn(2, Op.MUL, List.of(in(0), s(0))),
                        new Eqn(3, Op.SUB, List.of(v(1), v(2))),      // a - x*h  -> fma(-x, h, a)
                        new Eqn(4, Op.MUL, List.of(v(3), v(3))),      // used twice below: stays
                        new Eqn(5, Op.ADD, List.of(v(4), v(4)))),
                List.of(new Kernel.Output(0, v(5))));
        Kernel f = Fusion.fuse(k);
        assertEquals("""
                kernel f
                  in param, update
                  scalar h
                  v0 = neg %h
                  v1 = fma param, update, v0
                  v2 = neg param
                  v3 = fma v2, %h, v1
                  v4 = mul v3, v3
                  v5 = add v4, v4
                  out param = v5
                """, f.print());
        assertEquals(k.inputs(), f.inputs());
        assertEquals(k.scalars(), f.scalars());
        assertEquals(k.name(), f.name(), "the name, and so every entry point, stays");
    }

    @Test
    void addsFuseEitherOperandPreferringTheRightAndAnOutputUseBlocksFusion() {
        Kernel both = new Kernel("b", List.of("param", "update"), List.of(),
                List.of(new Eqn(0, Op.MUL, List.of(in(0), in(0))), new Eqn(1, Op.MUL, List.of(in(1), in(1))),
                        new Eqn(2, Op.ADD, List.of(v(0), v(1)))),
                List.of(new Kernel.Output(0, v(2))));
        assertEquals(List.of(Op.MUL, Op.FMA), Fusion.fuse(both).eqns().stream().map(Eqn::op).toList());
        assertEquals(List.of(in(1), in(1), v(0)), Fusion.fuse(both).eqns().get(1).args(), "the right multiply is absorbed");

        Kernel left = new Kernel("l", List.of("param", "update"), List.of(),
                List.of(new Eqn(0, Op.MUL, List.of(in(0), in(1))), new Eqn(1, Op.ADD, List.of(v(0), in(0)))),
                List.of(new Kernel.Output(0, v(1))));
        assertEquals(List.of(new Eqn(0, Op.FMA, List.of(in(0), in(1), in(0)))), Fusion.fuse(left).eqns());

        Kernel shown = new Kernel("o", List.of("param", "update", "s"), List.of(),
                List.of(new Eqn(0, Op.MUL, List.of(in(0), in(1))), new Eqn(1, Op.ADD, List.of(in(0), v(0)))),
                List.of(new Kernel.Output(0, v(1)), new Kernel.Output(2, v(0))));
        assertSame(shown, Fusion.fuse(shown), "a product an output also writes is used twice: nothing fuses");
    }

    @Test
    void fusedValuesAreOneRoundingOfTheExactResult() {
        SplittableRandom r = new SplittableRandom(7);
        Kernel k = new Kernel("m", List.of("param", "update"), List.of("h"),
                List.of(new Eqn(0, Op.MUL, List.of(in(1), s(0))), new Eqn(1, Op.SUB, List.of(in(0), v(0)))),
                List.of(new Kernel.Output(0, v(1))));
        Kernel f = Fusion.fuse(k);
        for (int i = 0; i < 100_000; i++) {
            float p = RandomPrograms.hostileFloat(r), u = RandomPrograms.hostileFloat(r), h = RandomPrograms.hostileFloat(r);
            float[] e = {p, u};
            Evaluator.evalElement(f, e, new float[] {h});
            float want = Math.fma(-u, h, p);
            assertTrue(Float.floatToRawIntBits(want) == Float.floatToRawIntBits(e[0]) || Float.isNaN(want) && Float.isNaN(e[0]),
                    "p - u*h fused for p=" + p + " u=" + u + " h=" + h + ": " + e[0] + ", Math.fma says " + want);
        }
    }

    @Test
    void fusionIsIdempotentKeepsTheAbiAndFusesEveryBuiltInMultiplyAdd() {
        for (long seed = 0; seed < 500; seed++) {
            Kernel k = RandomPrograms.program(seed);
            Kernel f = Fusion.fuse(k);
            assertEquals(f.print(), Fusion.fuse(f).print(), "seed " + seed);
            assertEquals(k.inputs(), f.inputs());
            assertEquals(k.outputs().stream().map(Kernel.Output::input).toList(), f.outputs().stream().map(Kernel.Output::input).toList());
        }
        int fused = 0;
        for (Kernel k : Rules.kernels()) if (Fusion.fuse(k) != k) fused++;
        assertTrue(fused >= 7, "most built-in kernels have a multiply-add to fuse: " + fused);
    }
}
