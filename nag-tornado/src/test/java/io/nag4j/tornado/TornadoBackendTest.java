package io.nag4j.tornado;

import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Nag;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Sym;
import io.nag4j.core.rule.Trace;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.DeviceInfo;
import io.nag4j.gpu.plan.Backend;
import io.nag4j.gpu.plan.Backends;
import io.nag4j.core.bound.BoundOptimizer;
import io.nag4j.gpu.plan.NotBitExactException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tornado backends as plug-ins: listed, numbered, refusing what they cannot do exactly, and closing cleanly. */
class TornadoBackendTest {
    /** {@code p' = fma(u, -k, p)}: one explicit fused multiply-add. */
    static final Rule FMA_RULE = new Rule() {
        @Override public String name() { return "fused"; }
        @Override public List<String> slots() { return List.of(); }
        @Override public Hyperparams defaults() { return Hyperparams.of("k", 0.1f); }
        @Override public void update(Trace t) {
            Sym k = t.hyper("k").neg();
            t.setParam(t.update().fma(k, t.param()));
        }
    };

    @Test
    void bothBackendsAreFoundAsServicesWithoutAnyListNamingThem() {
        List<String> names = Backends.all().stream().map(Backend::name).toList();
        assertTrue(names.containsAll(List.of("tornado", "tornado-prebuilt")), names.toString());
        assertTrue(Backends.known().contains("tornado[:N]") && Backends.known().contains("tornado-prebuilt[:N]"), Backends.known());
    }

    @Test
    void tornadoRefusesAnExplicitFmaInExactModeNamingRuleDeviceAndReasonButPrebuiltRunsItExactly() {
        TornadoTestSupport.requireOrSkip("tornado");
        try (ParamSet params = ParamSet.of(Tensor.of("w", 1f, -2f, 3e-39f, Float.NaN)); ParamSet updates = ParamSet.of(Tensor.of("w", 0.3f, 7f, -1e-38f, 1f))) {
            var e = assertThrows(NotBitExactException.class, () -> Backends.bind("tornado", FMA_RULE, FMA_RULE.defaults(), params, null));
            assertTrue(e.getMessage().contains("rule 'fused'") && e.getMessage().contains("tornado:0") && e.getMessage().contains("fma"), e.getMessage());
            // FAST promises bits too (the fused kernel's): refused as well, saying FAST fuses.
            var fast = assertThrows(NotBitExactException.class, () -> Backends.bind("tornado", FMA_RULE, FMA_RULE.defaults(), params, null, Mode.FAST));
            assertTrue(fast.getMessage().contains("FAST mode") && fast.getMessage().contains("fma"), fast.getMessage());
            TornadoRandomRulesTest.compare("tornado-prebuilt", FMA_RULE, FMA_RULE.defaults(), params, updates, new Random(1));
        }
    }

    @Test
    void devicesAreNumberedAndAMissingOneIsBadInput() {
        TornadoTestSupport.requireOrSkip("tornado");
        List<DeviceInfo> devices = Backends.get("tornado").devices();
        for (int i = 0; i < devices.size(); i++) assertEquals("tornado:" + i, devices.get(i).spec());
        try (ParamSet params = ParamSet.of(Tensor.of("w", 1f))) {
            var e = assertThrows(IllegalArgumentException.class, () -> Backends.bind("tornado:" + devices.size(), Nag.INSTANCE, Nag.INSTANCE.defaults(), params, null));
            assertTrue(e.getMessage().contains("tornado:" + devices.size()) && e.getMessage().contains("tornado:0"), e.getMessage());
        }
    }

    @Test
    void useAfterCloseThrowsAndCloseIsIdempotent() {
        for (String backend : List.of("tornado", "tornado-prebuilt")) {
            TornadoTestSupport.requireOrSkip(backend);
            try (ParamSet params = ParamSet.of(Tensor.of("w", 1f, 2f)); ParamSet updates = params.zerosLike("")) {
                BoundOptimizer b = Backends.bind(backend, Nag.INSTANCE, Nag.INSTANCE.defaults(), params, null);
                b.step(updates);
                b.close();
                b.close();
                assertThrows(IllegalStateException.class, () -> b.step(updates), backend);
                assertThrows(IllegalStateException.class, b::readParams, backend);
                assertThrows(IllegalStateException.class, b::readState, backend);
            }
        }
    }
}
