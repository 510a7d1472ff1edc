package io.nag4j.gpu.plan;

import io.nag4j.core.testing.PackageDependencies;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * nag-gpu's package rule (docs/architecture.md): {@code device} (the SPI) uses nothing of nag-gpu;
 * the drivers and renderers ({@code opencl}, {@code ptx}) use the SPI and {@code plan} (for the
 * {@code Renderer} interface they provide), never each other; {@code plan} (the runtime) uses them all.
 */
class PackageDependencyTest {
    static final Map<String, Set<String>> ALLOWED = Map.of(
            "device", Set.of(),
            "opencl", Set.of("device", "plan"),
            "ptx", Set.of("device", "plan"),
            "plan", Set.of("device", "opencl", "ptx"));

    @Test
    void theSpiKnowsNoDriverAndDriversKnowEachOtherNot() throws Exception {
        Map<String, Set<String>> actual = PackageDependencies.of(Backends.class, "io/nag4j/gpu");
        assertTrue(actual.get("plan").contains("device"), actual.toString());
        List<String> broken = PackageDependencies.violations(actual, ALLOWED);
        assertTrue(broken.isEmpty(), "dependencies the rule does not allow: " + broken + " (all: " + actual + ")");
    }
}
