package io.nag4j.core.optim;

import io.nag4j.core.cpu.CpuBackend;
import io.nag4j.core.reference.NagReference;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Nag;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad input is refused naming the culprit, and a refused step changes nothing. */
class StepValidationTest {
    static Stream<Optimizer> optimizers() {
        return Stream.of(new NagReference(), new KernelOptimizer(Nag.INSTANCE, Nag.INSTANCE.defaults(), CpuBackend.shared()));
    }

    interface BadStep {
        void run(Optimizer opt, OptState state, ParamSet params, ParamSet updates);
    }

    static void assertRefusedAndUnchanged(Optimizer opt, String mustMention, BadStep bad) {
        try (ParamSet params = ParamSet.of(Tensor.of("w", 1f, 2f, 3f), Tensor.of("b", 4f));
             ParamSet updates = ParamSet.of(Tensor.of("w", 1f, 1f, 1f), Tensor.of("b", 1f));
             OptState state = opt.init(params)) {
            opt.step(state, params, updates);
            float[] w = params.get("w").toArray(), phi = state.slot("phi").get("w").toArray();
            var e = assertThrows(IllegalArgumentException.class, () -> bad.run(opt, state, params, updates));
            assertTrue(e.getMessage().contains(mustMention), "message should name " + mustMention + ": " + e.getMessage());
            assertEquals(1, state.step(), "step counter unchanged");
            for (int i = 0; i < w.length; i++) {
                assertEquals(Float.floatToRawIntBits(w[i]), Float.floatToRawIntBits(params.get("w").get(i)), "param w[" + i + "]");
                assertEquals(Float.floatToRawIntBits(phi[i]), Float.floatToRawIntBits(state.slot("phi").get("w").get(i)), "phi w[" + i + "]");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("optimizers")
    void nonFiniteHyperparameterIsRefused(Optimizer opt) {
        assertThrows(IllegalArgumentException.class, () -> Nag.INSTANCE.defaults().with("eta", Float.NaN));
        assertThrows(IllegalArgumentException.class, () -> Nag.INSTANCE.defaults().with("mu", "Infinity"));
        assertThrows(IllegalArgumentException.class, () -> Nag.INSTANCE.defaults().with("lr", 0.1f));
        assertRefusedAndUnchanged(opt, "lr", (o, s, p, u) -> o.step(s, p, u, Hyperparams.of("lr", 0.1f, "mu", 0.9f)));
    }

    @ParameterizedTest
    @MethodSource("optimizers")
    void shapeMismatchNamesTheTensorAndShapes(Optimizer opt) {
        assertRefusedAndUnchanged(opt, "[2]", (o, s, p, u) -> {
            try (ParamSet bad = ParamSet.of(Tensor.of("w", 1f, 1f, 1f), Tensor.of("b", 1f, 1f))) {
                o.step(s, p, bad);
            }
        });
    }

    @ParameterizedTest
    @MethodSource("optimizers")
    void tensorCountMismatchIsRefused(Optimizer opt) {
        assertRefusedAndUnchanged(opt, "1 tensors", (o, s, p, u) -> {
            try (ParamSet bad = ParamSet.of(Tensor.of("w", 1f, 1f, 1f))) {
                o.step(s, p, bad);
            }
        });
    }

    @ParameterizedTest
    @MethodSource("optimizers")
    void nullAndClosedInputsAreRefused(Optimizer opt) {
        assertRefusedAndUnchanged(opt, "updates", (o, s, p, u) -> o.step(s, p, null));
        assertRefusedAndUnchanged(opt, "'b'", (o, s, p, u) -> {
            ParamSet bad = ParamSet.of(Tensor.of("w", 1f, 1f, 1f), Tensor.of("b", 1f));
            bad.get("b").close();
            try {
                o.step(s, p, bad);
            } finally {
                bad.close();
            }
        });
    }

    @ParameterizedTest
    @MethodSource("optimizers")
    void aliasedParamAndStateIsRefused(Optimizer opt) {
        assertRefusedAndUnchanged(opt, "same tensor", (o, s, p, u) -> {
            OptState aliased = new OptState("nag", java.util.Map.of("phi", p), s.step());
            o.step(aliased, p, u);
        });
    }

    @ParameterizedTest
    @MethodSource("optimizers")
    void closingATensorBetweenStepsOfTheSameObjectsIsStillCaught(Optimizer opt) {
        try (ParamSet params = ParamSet.of(Tensor.of("w", 1f, 2f), Tensor.of("b", 4f));
             ParamSet updates = ParamSet.of(Tensor.of("w", 1f, 1f), Tensor.of("b", 1f));
             OptState state = opt.init(params)) {
            opt.step(state, params, updates);
            opt.step(state, params, updates);
            float w0 = params.get("w").get(0);
            updates.get("b").close();
            var e = assertThrows(IllegalArgumentException.class, () -> opt.step(state, params, updates));
            assertTrue(e.getMessage().contains("'b'") && e.getMessage().contains("closed"), e.getMessage());
            assertEquals(2, state.step());
            assertEquals(Float.floatToRawIntBits(w0), Float.floatToRawIntBits(params.get("w").get(0)), "w[0] unchanged");
            var nan = assertThrows(IllegalArgumentException.class, () -> opt.step(state, params, params, Hyperparams.of("eta", 0.1f)));
            assertTrue(nan.getMessage().contains("mu"), nan.getMessage());
        }
    }
}
