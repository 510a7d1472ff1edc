package io.nag4j.gpu.plan;

import io.nag4j.core.ir.Op;
import io.nag4j.core.rule.Adam;
import io.nag4j.core.rule.Nag;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.DeviceInfo;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one EXACT-mode policy every backend asks. */
class ExactnessTest {
    static DeviceInfo device(boolean denormals, boolean divSqrt) {
        return new DeviceInfo("opencl", 3, "Dev", "V", "OpenCL 1.2", 1 << 30, 4, denormals, divSqrt);
    }

    @Test
    void aDeviceThatFlushesSubnormalsCanGiveNoKernelItsBits() {
        Exactness e = Exactness.of(device(false, true));
        var x = assertThrows(NotBitExactException.class, () -> e.require(Nag.INSTANCE.kernel(), Mode.EXACT, "nag.step"));
        assertTrue(x.getMessage().contains("flushes fp32 denormals") && x.getMessage().contains("opencl:3 (Dev)")
                && x.getMessage().contains("rule 'nag'") && x.getMessage().contains("EXACT"), x.getMessage());
        assertEquals("opencl:3 (Dev)", x.device());
        assertEquals("nag.step", x.task());
        assertEquals("no (the device flushes fp32 denormals to zero)", e.summary());
        // FAST promises bits too (the fused kernel's): refused alike.
        var fast = assertThrows(NotBitExactException.class, () -> e.require(Nag.INSTANCE.kernel(), Mode.FAST, "nag.step"));
        assertTrue(fast.getMessage().startsWith("nag.step: FAST mode cannot give rule 'nag' its bits on opencl:3 (Dev)"), fast.getMessage());
    }

    @Test
    void aDivideThatIsNotCorrectlyRoundedRefusesOnlyKernelsThatDivide() {
        Exactness e = Exactness.of(device(true, false));
        e.require(Nag.INSTANCE.kernel(), Mode.EXACT, "nag.step"); // NAG neither divides nor takes a square root
        var x = assertThrows(NotBitExactException.class, () -> e.require(Adam.INSTANCE.kernel(), Mode.EXACT, "adam.step"));
        assertTrue(x.getMessage().contains("rule 'adam'") && x.getMessage().contains("div: fp32 divide not correctly rounded")
                && x.getMessage().contains("sqrt: fp32 sqrt not correctly rounded"), x.getMessage());
        assertTrue(e.summary().startsWith("yes, except kernels with div"), e.summary());
    }

    @Test
    void aTargetAddsItsOwnLimits() {
        Exactness e = Exactness.of(device(true, true));
        assertTrue(e.complete());
        assertEquals("yes", e.summary());
        Exactness noFma = e.withInexact(Op.FMA, "no exact fma");
        assertTrue(!noFma.complete() && noFma.reasons(Nag.INSTANCE.kernel()).isEmpty());
        assertEquals("yes, except kernels with fma (no exact fma)", noFma.summary());
    }
}
