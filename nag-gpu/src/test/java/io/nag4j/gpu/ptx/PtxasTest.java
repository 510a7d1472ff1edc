package io.nag4j.gpu.ptx;

import io.nag4j.core.ir.Kernel;
import io.nag4j.gpu.Mode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * Every generated PTX (each built-in rule, 60 random kernels over every op and 60 random rules of the differential tests, EXACT and FAST) is assembled by
 * {@code ptxas --gpu-name sm_80} and {@code sm_90}, warnings as errors; any ptxas error fails.
 */
class PtxasTest {
    @TestFactory
    List<DynamicTest> everyKernelAssembles() {
        Path ptxas = Ptxas.require();
        List<DynamicTest> tests = new ArrayList<>();
        for (Kernel k : PtxKernels.all()) {
            for (Mode mode : Mode.values()) {
                String ptx = PtxRenderer.render(k, mode);
                for (String arch : Ptxas.ARCHS) {
                    String what = "kernel '" + k.name() + "' " + mode + "\n" + k.print();
                    tests.add(dynamicTest(k.name() + " " + mode + " " + arch, () -> Ptxas.assemble(ptxas, ptx, arch, what)));
                }
            }
        }
        return tests;
    }

    @org.junit.jupiter.api.Test
    void ptxasRejectsBrokenPtx() {
        // The check itself can fail: a PTX with an unknown instruction must not pass.
        Path ptxas = Ptxas.require();
        String bad = PtxRenderer.render(io.nag4j.core.rule.Rules.byName("nag").kernel(), Mode.EXACT)
                .replace("sub.rn.f32", "subtract.rn.f32");
        AssertionError e = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class,
                () -> Ptxas.assemble(ptxas, bad, "sm_90", "broken nag"));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("subtract.rn.f32"), e.getMessage());
    }
}
