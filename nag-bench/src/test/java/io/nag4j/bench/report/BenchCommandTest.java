package io.nag4j.bench.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nag4j.bench.cli.Agreement;
import io.nag4j.bench.cli.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code nag4j bench}: what it writes and its exit codes (its figures are measured, never asserted). */
class BenchCommandTest {
    @TempDir
    Path dir;

    static final List<String> FIELDS = List.of("backend", "device", "optimizer", "elements", "tensors", "seconds_per_step", "bytes_per_step",
            "bytes_per_second", "limit_bytes_per_second", "bitwise_identical_fraction", "max_ulp", "bytes_per_element", "workload");

    @Test
    void quickOnTheCpuWritesTheTableJsonChartsAndPageAndExits0() throws Exception {
        StringWriter out = new StringWriter(), err = new StringWriter();
        Path json = dir.resolve("sub/b.json");
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), "bench", "--quick", "--backend", "cpu", "--backend", "reference",
                "--optimizer", "nag", "--optimizer", "rmsprop", "--seconds", "0.01", "--out", dir.resolve("out").toString(), "--json", json.toString());
        assertEquals(0, code, err.toString());
        JsonNode doc = new ObjectMapper().readTree(json.toFile());
        assertTrue(doc.get("all_agree").asBoolean());
        JsonNode ms = doc.get("measurements");
        // 2 backends x 2 optimizers x (3 sizes + 10,000 tensors of 100), and on the cpu rmsprop's 3 other configurations at 1e6,
        // and both optimizers' 4 mixed-precision ones (bf16, f16 x nearest, stochastic)
        assertEquals(27, ms.size(), ms.toString());
        Set<String> seen = new HashSet<>();
        for (JsonNode m : ms) {
            for (String f : FIELDS) assertTrue(m.has(f) && !m.get(f).isNull(), f + " in " + m);
            assertTrue(m.get("seconds_per_step").asDouble() > 0, m.toString());
            assertEquals(m.get("bytes_per_element").asLong() * m.get("elements").asLong(), m.get("bytes_per_step").asLong(), m.toString());
            assertEquals(1.0, m.get("bitwise_identical_fraction").asDouble(), m.toString());
            seen.add(m.get("backend").asText() + "/" + m.get("optimizer").asText() + "/" + m.get("workload").asText()
                    + (m.get("configuration").asText().equals("defaults") ? "" : "/" + m.get("configuration").asText()));
        }
        assertTrue(seen.contains("cpu/rmsprop/10000x100") && seen.contains("reference/nag/1e3")
                && seen.contains("cpu/rmsprop/1e6/centered=1 momentum=0.9"), seen.toString());
        // Bytes per element per configuration: plain RMSprop streams param, update and square_avg only.
        Map<String, Integer> bytes = new HashMap<>();
        for (JsonNode c : doc.get("configurations")) {
            bytes.put(c.get("optimizer").asText() + " " + c.get("configuration").asText(), c.get("bytes_per_element").asInt());
        }
        // With 16-bit params on master weights: the param read and written in 2 bytes, the master one more float32 slot: 4 bytes more.
        assertEquals(Map.of("nag defaults", 20, "rmsprop defaults", 20, "rmsprop momentum=0.9", 28, "rmsprop centered=1", 28,
                "rmsprop centered=1 momentum=0.9", 36, "nag defaults, bf16 params + master", 24, "nag defaults, f16 params + master", 24,
                "rmsprop defaults, bf16 params + master", 24, "rmsprop defaults, f16 params + master", 24), without(bytes, "stochastic"));
        assertEquals(24, bytes.get("nag defaults, bf16 params + master, stochastic rounding"), "stochastic rounding moves no more bytes: its bits are computed");
        assertTrue(seen.contains("cpu/nag/1e6/defaults, f16 params + master, stochastic rounding"), seen.toString());
        for (JsonNode m : ms) {
            if (m.get("optimizer").asText().equals("rmsprop")) {
                assertEquals((int) bytes.get("rmsprop " + m.get("configuration").asText()), m.get("bytes_per_element").asInt(), m.toString());
            }
        }
        for (JsonNode m : ms) {
            if (m.get("workload").asText().equals("10000x100")) assertEquals(10_000, m.get("tensors").asInt());
            if (m.get("optimizer").asText().equals("nag") && !m.get("configuration").asText().contains("master")) {
                assertEquals(20, m.get("bytes_per_element").asInt(), "param, update, phi in; param, phi out");
            }
        }
        // Agreement: the cpu against the reference (the reference is not run against itself), every configuration,
        // FAST (the defaults' fused kernels against the evaluator) once per optimizer, and the 4 mixed-precision ones per optimizer.
        JsonNode agreement = doc.get("agreement");
        assertEquals(7 + 2 * 4, agreement.size(), agreement.toString());
        for (JsonNode a : agreement) assertEquals(0, a.get("differing").asLong(), a.toString());
        assertEquals(2, java.util.stream.StreamSupport.stream(agreement.spliterator(), false)
                .filter(a -> a.get("configuration").asText().equals("defaults, FAST")).count(), agreement.toString());
        // FAST against EXACT: per backend (not the reference), optimizer and workload, both timed.
        JsonNode fast = doc.get("fast_vs_exact");
        assertTrue(fast.size() > 0, doc.toString());
        for (JsonNode f : fast) {
            assertEquals("cpu", f.get("backend").asText(), f.toString());
            assertTrue(f.get("exact_seconds_per_step").asDouble() > 0 && f.get("fast_seconds_per_step").asDouble() > 0, f.toString());
            assertTrue(f.get("fast_equations").asInt() <= f.get("exact_equations").asInt() + 1, f.toString());
        }
        assertTrue(out.toString().contains("# FAST against EXACT"), out.toString());
        for (JsonNode a : agreement) {
            assertEquals("cpu", a.get("backend").asText());
            assertEquals(0, a.get("differing").asLong());
            assertTrue(a.get("compared").asLong() > 1000, a.toString());
        }
        byte[] png = {(byte) 0x89, 'P', 'N', 'G'};
        for (String chart : List.of("throughput.png", "limit-share.png", "agreement.png")) {
            byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(dir.resolve("out").resolve(chart)), 4);
            assertArrayEquals(png, head, chart);
        }
        String html = Files.readString(dir.resolve("out/report.html"));
        assertTrue(html.contains("data:image/png;base64,") && html.contains("<td class=l>rmsprop</td>") && html.contains("<th class=l>cores</th>"), html.substring(0, 400));
        assertTrue(out.toString().contains("# agreement with the hand-written reference") && out.toString().contains("10000x100"), out.toString());
        assertTrue(out.toString().contains("# bytes per element per optimizer configuration")
                && out.toString().contains("rmsprop_centered_momentum"), out.toString());
        assertFalse(out.toString().contains("\r"), "no progress line when stdout is not a terminal");
    }

    @Test
    void sizesAreNamedAsTheDocsWriteThem() {
        assertEquals("1e3", BenchCommand.sizeName(1_000));
        assertEquals("1e6", BenchCommand.sizeName(1_000_000));
        assertEquals("1.6e7", BenchCommand.sizeName(16_000_000));
        assertEquals("6.4e7", BenchCommand.sizeName(64_000_000));
        assertEquals("1234567", BenchCommand.sizeName(1_234_567));
        assertEquals("7", BenchCommand.sizeName(7));
    }

    @Test
    void badInputIsExit2WithOneLine() throws Exception {
        Path file = Files.writeString(dir.resolve("afile"), "x");
        String[][] bad = {
                {"bench", "--backend", "tpu"},
                {"bench", "--optimizer", "lamb"},
                {"bench", "--seconds", "0"},
                {"bench", "--out", file.toString()},
        };
        for (String[] args : bad) {
            StringWriter out = new StringWriter(), err = new StringWriter();
            assertEquals(2, Main.run(new PrintWriter(out), new PrintWriter(err), args), String.join(" ", args) + ": " + err);
            assertEquals(1, err.toString().strip().lines().count(), err.toString());
        }
    }

    @Test
    void aDisagreementIsMarkedEverywhereAndMeansExit3() {
        Report r = new Report(new LinkedHashMap<>(), true);
        r.agreement.add(new Report.AgreementRecord("cpu", "cpu", "nag", "defaults", 20, 10, 30, 0, 1.0, 0, null));
        assertTrue(r.allAgree());
        r.agreement.add(new Report.AgreementRecord("opencl:0", "opencl:0 (x)", "adam", "defaults", 20, 10, 40, 2, 0.95, 3,
                new Agreement.Mismatch(1, "param", "t0", 5, 0x3f800000, 0x3f800003)));
        assertFalse(r.allAgree());
        String html = r.html(new LinkedHashMap<>());
        assertTrue(html.contains("<tr class=bad>") && html.contains("disagrees"), html);
        StringWriter t = new StringWriter();
        r.printTable(new PrintWriter(t));
        assertTrue(t.toString().contains("step 1 param 't0' element 5: reference 3f800000"), t.toString());
        assertEquals(3, BenchCommand.DISAGREE);
    }

    static Map<String, Integer> without(Map<String, Integer> m, String part) {
        Map<String, Integer> c = new HashMap<>(m);
        c.keySet().removeIf(k -> k.contains(part));
        return c;
    }
}
