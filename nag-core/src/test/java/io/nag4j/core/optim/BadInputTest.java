package io.nag4j.core.optim;

import io.nag4j.core.cpu.CpuBackend;
import io.nag4j.core.optim.EvaluatorExecutor;
import io.nag4j.core.reference.NagReference;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Nag;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 2, item 8: bad input to {@link Optimizer#step} is an IllegalArgumentException naming the
 * culprit, and a failed step changes nothing (params, state tensors, step counter).
 */
class BadInputTest {
    static Stream<Optimizer> optimizers() {
        return Stream.of(new NagReference(),
                new KernelOptimizer(Nag.INSTANCE, Nag.INSTANCE.defaults(), EvaluatorExecutor.INSTANCE),
                new KernelOptimizer(Nag.INSTANCE, Nag.INSTANCE.defaults(), CpuBackend.shared()));
    }

    /** A state after two real steps, so phi and the counter are not zero. */
    static OptState warm(Optimizer opt, ParamSet params) {
        OptState st = opt.init(params);
        try (ParamSet u = params.zerosLike("")) {
            for (Tensor t : u) for (long i = 0; i < t.size(); i++) t.set(i, 0.5f + i);
            opt.step(st, params, u);
            opt.step(st, params, u);
        }
        return st;
    }

    static int[] bits(ParamSet ps) {
        return ps.tensors().stream().flatMapToInt(t -> {
            float[] a = t.toArray();
            return java.util.stream.IntStream.range(0, a.length).map(i -> Float.floatToRawIntBits(a[i]));
        }).toArray();
    }

    /** Asserts {@code step} throws IllegalArgumentException mentioning every {@code names}, and nothing changed. */
    static void assertRefused(ParamSet params, OptState st, Executable step, String... names) {
        int[] p0 = bits(params), s0 = bits(st.slot("phi"));
        long t0 = st.step();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, step);
        for (String n : names) assertTrue(e.getMessage().contains(n), "message '" + e.getMessage() + "' should name " + n);
        assertEquals(java.util.Arrays.toString(p0), java.util.Arrays.toString(bits(params)), "params changed by a failed step");
        assertEquals(java.util.Arrays.toString(s0), java.util.Arrays.toString(bits(st.slot("phi"))), "phi changed by a failed step");
        assertEquals(t0, st.step(), "step counter changed by a failed step");
    }

    @ParameterizedTest
    @MethodSource("optimizers")
    void badStepsAreRefusedAndChangeNothing(Optimizer opt) {
        try (ParamSet params = ParamSet.of(Tensor.of("w", 1, 2, 3), Tensor.of("b", new float[] {4, 5, 6, 7}, 2, 2));
             OptState st = warm(opt, params)) {
            // Mismatched shape, tensor count, null updates.
            try (ParamSet u = ParamSet.of(Tensor.zeros("w", 3), Tensor.zeros("b", 4))) {
                assertRefused(params, st, () -> opt.step(st, params, u), "'b'", "[4]", "[2, 2]");
            }
            try (ParamSet u = ParamSet.of(Tensor.zeros("w", 3))) {
                assertRefused(params, st, () -> opt.step(st, params, u), "1 tensors", "2");
            }
            assertRefused(params, st, () -> opt.step(st, params, null), "updates");
            assertRefused(params, st, () -> opt.step(null, params, params.zerosLike("")), "state");
            // A closed update tensor; a closed state tensor is checked the same way.
            try (ParamSet u = params.zerosLike("")) {
                u.get(1).close();
                assertRefused(params, st, () -> opt.step(st, params, u), "'b'", "closed");
            }
            // Unknown or missing hyperparameters; NaN and infinities never get into a Hyperparams.
            try (ParamSet u = params.zerosLike("")) {
                assertRefused(params, st, () -> opt.step(st, params, u, Hyperparams.of("eta", 0.1f)), "eta", "mu");
                assertRefused(params, st, () -> opt.step(st, params, u, null), "null");
                assertRefused(params, st, () -> opt.step(st, params, u, Nag.INSTANCE.defaults().with("mu", Float.NaN)), "'mu'", "NaN");
                assertRefused(params, st, () -> opt.step(st, params, u, Nag.INSTANCE.defaults().with("eta", Float.NEGATIVE_INFINITY)),
                        "'eta'", "-Infinity");
                assertRefused(params, st, () -> Hyperparams.of(Map.of("eta", Float.POSITIVE_INFINITY)), "'eta'", "Infinity");
                // State of another optimizer.
                try (OptState other = new OptState("sgd", Map.of(), 0)) {
                    assertRefused(params, st, () -> opt.step(other, params, u), "sgd");
                }
                // A state slot that is the params themselves: written twice per element.
                // (Not closed: it owns nothing but the params.)
                OptState aliased = new OptState("nag", Map.of("phi", params), st.step());
                assertRefused(params, st, () -> opt.step(aliased, params, u), "'w'", "same tensor");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("optimizers")
    void initRefusesNullAndClosedParams(Optimizer opt) {
        assertThrows(IllegalArgumentException.class, () -> opt.init(null));
        Tensor closed = Tensor.of("gone", 1);
        closed.close();
        try (ParamSet ps = new ParamSet(List.of(closed))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> opt.init(ps));
            assertTrue(e.getMessage().contains("'gone'"), e.getMessage());
        }
    }

    @org.junit.jupiter.api.Test
    void anUpdateThatIsAParamOrAStateTensorIsRefused() {
        io.nag4j.core.optim.KernelOptimizer opt = new io.nag4j.core.optim.KernelOptimizer(io.nag4j.core.rule.Nag.INSTANCE,
                io.nag4j.core.rule.Nag.INSTANCE.defaults(), io.nag4j.core.cpu.CpuBackend.shared());
        try (io.nag4j.core.tensor.ParamSet p = io.nag4j.core.tensor.ParamSet.of(io.nag4j.core.tensor.Tensor.of("w", 1f, 2f));
             OptState s = opt.init(p)) {
            var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> opt.step(s, p, p));
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("update 'w' is the same tensor as param 'w'"), e.getMessage());
            var f = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> opt.step(s, p, s.slot("phi")));
            org.junit.jupiter.api.Assertions.assertTrue(f.getMessage().contains("state slot 'phi'"), f.getMessage());
            org.junit.jupiter.api.Assertions.assertEquals(1f, p.get(0).get(0));
            org.junit.jupiter.api.Assertions.assertEquals(0, s.step());
        }
    }
}
