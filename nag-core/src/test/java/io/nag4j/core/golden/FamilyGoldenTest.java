package io.nag4j.core.golden;

import io.nag4j.core.cpu.CpuBackend;
import io.nag4j.core.optim.EvaluatorExecutor;
import io.nag4j.core.optim.KernelOptimizer;
import io.nag4j.core.reference.ReferenceOptimizer;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Rules;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every optimizer of the family replays the numpy golden trajectories bit for bit on (a) its
 * hand-written reference, (b) its traced kernel on the evaluator and (c) on the CPU backend.
 */
class FamilyGoldenTest {
    static final List<String> FAMILY = List.of("adam", "momentum", "adamw", "rmsprop", "adagrad");

    @Test
    void goldenFileCoversTheFamilyWithDefaultCustomAndSpecialCases() {
        List<String> covered = FamilyGolden.optimizers();
        for (String name : covered) {
            List<FamilyGolden.Case> cases = FamilyGolden.cases(name);
            assertTrue(cases.stream().anyMatch(c -> c.name().equals("default") && c.steps() >= 50), name + " default case");
            assertTrue(cases.stream().anyMatch(c -> c.name().startsWith("custom") && c.steps() >= 50), name + " custom case");
            assertTrue(cases.stream().anyMatch(c -> c.name().startsWith("special")), name + " special-values case");
            assertEquals(Rules.byName(name).defaults().asMap(), cases.get(0).hp(), name + " default case uses the rule's defaults");
        }
        assertEquals(FAMILY, covered, "the golden file covers the whole family");
    }

    @TestFactory
    List<DynamicTest> handWrittenReference() {
        return each((rule, c) -> ReferenceOptimizer.forRule(rule.name(), c.hyperparams(rule)));
    }

    @TestFactory
    List<DynamicTest> tracedKernelOnTheEvaluator() {
        return each((rule, c) -> new KernelOptimizer(rule, c.hyperparams(rule), EvaluatorExecutor.INSTANCE));
    }

    @TestFactory
    List<DynamicTest> tracedKernelOnTheCpuBackend() {
        return each((rule, c) -> new KernelOptimizer(rule, c.hyperparams(rule), CpuBackend.shared()));
    }

    private interface Make {
        io.nag4j.core.optim.Optimizer make(Rule rule, FamilyGolden.Case c);
    }

    private static List<DynamicTest> each(Make make) {
        List<DynamicTest> out = new ArrayList<>();
        for (String name : FamilyGolden.optimizers()) {
            Rule rule = Rules.byName(name);
            for (FamilyGolden.Case c : FamilyGolden.cases(name)) {
                out.add(DynamicTest.dynamicTest(c.toString(), () -> FamilyGolden.replay(make.make(rule, c), c)));
            }
        }
        return out;
    }
}
