package io.nag4j.bench.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nag4j.core.rule.Nag;
import io.nag4j.core.rule.Rules;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import io.nag4j.gpu.plan.Backends;
import io.nag4j.core.bound.BoundOptimizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AgreeCommandTest {
    @TempDir
    Path dir;

    @Test
    void cpuAgreesWithTheReferenceForEveryOptimizerAndTheReportSaysSo() throws Exception {
        Path json = dir.resolve("agree.json");
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), "agree", "--backend", "cpu", "--steps", "3",
                "--tensors", "7", "--json", json.toString());
        assertEquals(0, code, err.toString());
        JsonNode results = new ObjectMapper().readTree(json.toFile()).get("results");
        assertEquals(5 * Rules.names().size(), results.size(), "every optimizer with f32 params, and bf16 and f16 params each rounded to nearest and stochastically (the default)");
        for (JsonNode r : results) {
            assertEquals(0, r.get("differing").asLong(), r.toString());
            assertTrue(r.get("compared").asLong() > 0, r.toString());
        }
        assertTrue(out.toString().contains("bitwise identical"), out.toString());
    }

    /** What one successful {@code agree --json} printed and wrote. */
    record Agreed(String out, JsonNode doc) {}

    /** {@code agree --backend b ARGS --json FILE}, which must exit 0. */
    Agreed agree(String b, String... args) throws Exception {
        Path json = Files.createTempFile(dir, "agree-" + b.replace(':', '_'), ".json");
        StringWriter out = new StringWriter(), err = new StringWriter();
        String[] all = java.util.stream.Stream.concat(java.util.stream.Stream.of("agree", "--backend", b, "--json", json.toString()),
                java.util.Arrays.stream(args)).toArray(String[]::new);
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), all);
        assertEquals(0, code, b + ": " + out + err);
        return new Agreed(out.toString(), new ObjectMapper().readTree(json.toFile()));
    }

    /** cpu, and opencl:0 where a platform exists (in CI it must). */
    static java.util.List<String> cpuAndOpenCl() {
        java.util.List<String> backends = new java.util.ArrayList<>(java.util.List.of("cpu"));
        ReplayBackendsAgreeTest.openClOrSkipSoft(backends);
        return backends;
    }

    /** bf16 and f16 params on master weights, rounded to nearest and stochastically: every optimizer on cpu and PoCL gives the reference's params, slots and master. */
    @Test
    void sixteenBitParamsAgreeOnCpuAndOpenClForEveryOptimizer() throws Exception {
        for (String b : cpuAndOpenCl()) {
            Agreed a = agree(b, "--param-dtype", "bf16,f16", "--steps", "25", "--tensors", "17");
            JsonNode results = a.doc().get("results");
            assertEquals(2 * 2 * Rules.names().size(), results.size());
            java.util.Set<String> seen = new java.util.HashSet<>();
            for (JsonNode r : results) {
                assertEquals(0, r.get("differing").asLong(), b + " " + r);
                seen.add(r.get("paramDtype").asText() + " " + r.get("rounding").asText());
            }
            assertEquals(java.util.Set.of("bf16 nearest", "f16 nearest", "bf16 stochastic", "f16 stochastic"), seen);
            assertTrue(a.out().contains("adam@bf16 ") && a.out().contains("nag@f16 ") && a.out().contains("rmsprop@bf16-sr ")
                    && a.out().contains("adagrad@f16-sr "), a.out());
            Agreed sr = agree(b, "--param-dtype", "f32,f16", "--rounding", "stochastic", "--seed", "-3", "--steps", "5", "--tensors", "9");
            assertEquals(2 * Rules.names().size(), sr.doc().get("results").size(), "f32 once, f16 stochastically");
            for (JsonNode r : sr.doc().get("results")) assertEquals(0, r.get("differing").asLong(), b + " " + r);
        }
        for (String[] bad : new String[][] {{"--param-dtype", "f8"}, {"--param-dtype", "bf16,bf16"}, {"--rounding", "fancy"}, {"--rounding", "nearest,nearest"}}) {
            StringWriter out = new StringWriter(), err = new StringWriter();
            String[] args = java.util.stream.Stream.concat(java.util.stream.Stream.of("agree"), java.util.Arrays.stream(bad)).toArray(String[]::new);
            assertEquals(2, Main.run(new PrintWriter(out), new PrintWriter(err), args), String.join(" ", bad) + ": " + err);
            assertEquals(1, err.toString().strip().lines().count(), err.toString());
        }
    }

    @Test
    void fastModeAgreesOnCpuAndOpenClForEveryOptimizer() throws Exception {
        for (String b : cpuAndOpenCl()) {
            JsonNode doc = agree(b, "--mode", "fast", "--steps", "30", "--tensors", "23").doc();
            assertEquals("fast", doc.get("numerics").asText());
            assertEquals(5 * Rules.names().size(), doc.get("results").size());
            for (JsonNode r : doc.get("results")) assertEquals(0, r.get("differing").asLong(), b + " " + r);
        }
        StringWriter out = new StringWriter(), err = new StringWriter();
        assertEquals(2, Main.run(new PrintWriter(out), new PrintWriter(err), "agree", "--mode", "quick"));
        assertTrue(err.toString().contains("unknown mode 'quick'"), err.toString());
    }

    @Test
    void aDifferenceIsFoundAndNamed() {
        try (ParamSet p = ParamSet.of(Tensor.of("w", 1f, 2f, 3f));
             ParamSet u = ParamSet.of(Tensor.of("w", 1f, 1f, 1f));
             BoundOptimizer ref = Backends.bind("reference", Nag.INSTANCE, Nag.INSTANCE.defaults(), p, null);
             BoundOptimizer same = Backends.bind("cpu", Nag.INSTANCE, Nag.INSTANCE.defaults(), p, null);
             BoundOptimizer other = Backends.bind("cpu", Nag.INSTANCE, Nag.INSTANCE.defaults().with("eta", 0.02f), p, null)) {
            ref.step(u);
            same.step(u);
            other.step(u);
            Agreement.Tally same1 = new Agreement.Tally();
            Agreement.compare(Nag.INSTANCE, 1, ref, same, same1);
            assertNull(same1.first);
            assertEquals(0, same1.differing);
            assertEquals(6, same1.compared, "3 params and 3 phi compared");
            Agreement.Tally diff = new Agreement.Tally();
            Agreement.compare(Nag.INSTANCE, 1, ref, other, diff);
            assertNotNull(diff.first);
            assertEquals(6, diff.differing, "3 params and 3 phi differ");
            String first = diff.first.describe();
            assertTrue(first.contains("param 'w' element 0"), first);
            assertTrue(diff.maxUlp > 0, "eta doubled moves the params by more than an ulp");
        }
    }

    @Test
    void ulpDistanceIsTheGapOnTheOrderedLineOfBitPatterns() {
        assertEquals(0, Agreement.ulpDistance(0x3f800000, 0x3f800000));
        assertEquals(1, Agreement.ulpDistance(0x3f800000, 0x3f800001));
        assertEquals(1, Agreement.ulpDistance(0x00000000, 0x80000000), "-0 and +0 are neighbours");
        assertEquals(3, Agreement.ulpDistance(0x00000001, 0x80000001), "-min, -0, +0, +min");
        assertEquals(2L * 0x7f800000 + 1, Agreement.ulpDistance(0x7f800000, 0xff800000), "-inf to +inf");
    }

    @Test
    void badCountsAreExit2() {
        StringWriter out = new StringWriter(), err = new StringWriter();
        assertEquals(2, Main.run(new PrintWriter(out), new PrintWriter(err), "agree", "--steps", "0"));
        assertEquals(2, Main.run(new PrintWriter(out), new PrintWriter(err), "agree", "--optimizer", "lamb"));
    }
}
