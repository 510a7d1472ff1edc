package io.nag4j.bench.cpu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nag4j.bench.cli.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bench-cpu command's plumbing (a tiny run; no timing is asserted). */
class CpuBenchCommandTest {

    @Test
    void aTinyRunWritesEveryVariantAsJson(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("cpu.json");
        assertEquals(0, Main.run("bench-cpu", "--sizes", "1000,4099", "--seconds", "0.05", "--json", json.toString()));
        JsonNode doc = new ObjectMapper().readTree(json.toFile());
        assertEquals(20, doc.get("bytesPerElement").asInt());
        Set<String> variants = new HashSet<>();
        for (JsonNode row : doc.get("rows")) {
            variants.add(row.get("variant").asText());
            assertTrue(row.get("nsPerStep").asDouble() > 0, row.toString());
            assertEquals(20L * row.get("elements").asLong(), row.get("bytesPerStep").asLong(), row.toString());
        }
        assertEquals(Set.of("probe", "loop-1t", "cpu-execute", "cpu-1t", "cpu-mt", "cpu-optimizer"), variants);
        assertEquals(12, doc.get("rows").size());
    }

    @Test
    void sizesParse() {
        assertArrayEquals(new long[] {1000, 1_000_000, 64L << 20, 2048}, CpuBench.parseSizes("1e3, 1000000,64M,2k"));
    }

    @Test
    void badArgumentsAreUsageErrors() {
        assertThrows(IllegalArgumentException.class, () -> CpuBench.parseSizes("12x"));
        assertThrows(IllegalArgumentException.class, () -> CpuBench.parseSizes("0"));
        assertThrows(IllegalArgumentException.class, () -> CpuBench.parseSizes("1.5"));
        assertEquals(2, Main.run("bench-cpu", "--sizes", "-5"));
        assertEquals(2, Main.run("bench-cpu", "--sizes", "1000", "--seconds", "0"));
    }
}
