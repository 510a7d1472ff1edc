package io.nag4j.core.arch;

import io.nag4j.core.testing.PackageDependencies;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The package dependency rule of nag-core (docs/architecture.md), checked on the compiled classes:
 * a package's classes name only classes of its own package, the JDK, or packages the rule allows.
 * The rule is layered, so there is no cycle:
 *
 * <pre>
 *   tensor, ir                      (nothing of nag4j)
 *   rule                            ir
 *   optim                           ir, rule, tensor
 *   cpu, reference, io, fuzz        optim and what it may use
 *   bound                           cpu, reference, io and what they use
 * </pre>
 */
class PackageDependencyTest {
    static final Map<String, Set<String>> ALLOWED = Map.of(
            "tensor", Set.of(),
            "ir", Set.of(),
            "rule", Set.of("ir"),
            "optim", Set.of("ir", "rule", "tensor"),
            "cpu", Set.of("ir", "rule", "tensor", "optim"),
            "reference", Set.of("ir", "rule", "tensor", "optim"),
            "io", Set.of("ir", "rule", "tensor", "optim"),
            "fuzz", Set.of("ir", "rule", "tensor", "optim"),
            "bound", Set.of("ir", "rule", "tensor", "optim", "cpu", "reference", "io"));

    @Test
    void everyPackageUsesOnlyThePackagesTheRuleAllows() throws Exception {
        Map<String, Set<String>> actual = PackageDependencies.of(io.nag4j.core.ir.Kernel.class, "io/nag4j/core");
        // The scan itself can fail: edges known to exist must be found.
        assertTrue(actual.get("rule").contains("ir") && actual.get("bound").contains("cpu") && actual.get("optim").contains("tensor"), actual.toString());
        assertEquals(new TreeSet<>(ALLOWED.keySet()), new TreeSet<>(actual.keySet()), "nag-core's packages (a new one needs a place in the rule)");
        List<String> broken = PackageDependencies.violations(actual, ALLOWED);
        assertTrue(broken.isEmpty(), "dependencies the rule does not allow: " + broken + " (all: " + actual + ")");
    }
}
