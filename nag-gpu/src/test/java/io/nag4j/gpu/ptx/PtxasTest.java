package io.nag4j.gpu.ptx;

import io.nag4j.core.ir.Kernel;
import io.nag4j.core.optim.Mode;
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
        Path ptxas = CudaTestSupport.requirePtxas();
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
        Path ptxas = CudaTestSupport.requirePtxas();
        String bad = PtxRenderer.render(io.nag4j.core.rule.Rules.byName("nag").kernel(), Mode.EXACT)
                .replace("sub.rn.f32", "subtract.rn.f32");
        Ptxas.PtxasException e = org.junit.jupiter.api.Assertions.assertThrows(Ptxas.PtxasException.class,
                () -> Ptxas.assemble(ptxas, bad, "sm_90", "broken nag"));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("subtract.rn.f32"), e.getMessage());
    }

    @org.junit.jupiter.api.Test
    void namesWithNewlinesStayInsideTheirComments() {
        // Kernel names, inputs and scalars are not validated by the IR: a newline in one would end its
        // '//' comment and leave the rest as PTX text.
        Path ptxas = CudaTestSupport.requirePtxas();
        io.nag4j.core.ir.Kernel k = new io.nag4j.core.ir.Kernel("odd\nname", List.of("param\n.global", "upd\r\nate"), List.of("eta\n}"),
                List.of(new io.nag4j.core.ir.Eqn(0, io.nag4j.core.ir.Op.MUL, List.of(new io.nag4j.core.ir.Operand.Input(1),
                        new io.nag4j.core.ir.Operand.Scalar(0))),
                        new io.nag4j.core.ir.Eqn(1, io.nag4j.core.ir.Op.SUB, List.of(new io.nag4j.core.ir.Operand.Input(0),
                                new io.nag4j.core.ir.Operand.Var(0)))),
                List.of(new Kernel.Output(0, new io.nag4j.core.ir.Operand.Var(1))));
        for (Mode mode : Mode.values()) Ptxas.assemble(ptxas, PtxRenderer.render(k, mode), "sm_90", "names with newlines, " + mode);
    }
}
