package io.nag4j.bench.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nag4j.core.rule.Rule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;

import static io.nag4j.bench.train.TrainCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code nag4j train --gradients djl}: a DJL SequentialBlock on PyTorch (offline, natives from the
 * jar), Nag4jOptimizer on every backend, each checked against nag4j's reference on DJL's gradients.
 */
class TrainDjlTest {
    @TempDir
    Path dir;

    static java.util.stream.Stream<Rule> rules() { return TrainCommandTest.rules(); }

    /** The backends besides the reference run: cpu, and opencl:0 where a platform exists (in CI it must). */
    static String backends() {
        return TrainCommandTest.backends().replace("reference,", "");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rules")
    void everyOptimizerIsBitIdenticalToTheReferenceOnDjlsGradients(Rule rule) throws Exception {
        Path json = dir.resolve(rule.name() + ".json"), plot = dir.resolve(rule.name() + ".png");
        TrainCommandTest.Run r = run("train", "--gradients", "djl", "--optimizer", rule.name(), "--model", rule.name().length() % 2 == 0 ? "mlp" : "softmax",
                "--steps", "20", "--batch", "16", "--schedule", "cosine", "--warmup", "3", "--backend", backends(), "--seed", "5",
                "--json", json.toString(), "--plot", plot.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        String last = r.out().strip().lines().reduce((a, b) -> b).orElseThrow();
        assertTrue(last.contains("identical") && last.contains("DJL gradients"), last);
        JsonNode doc = new ObjectMapper().readTree(json.toFile());
        assertTrue(doc.get("identical").asBoolean());
        assertEquals("djl", doc.get("gradients").asText());
        assertEquals(1 + backends().split(",").length, doc.get("loss").size(), doc.toString()); // the reference run and each backend's
        for (JsonNode curve : doc.get("loss")) assertEquals(20, curve.size(), doc.toString());
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(Files.readAllBytes(plot), 4));
        assertTrue(r.out().contains("cpu:        ") || r.out().contains("cpu:"), r.out());
    }

    /** A backend that computes wrong bits from its 5th launch (the MLP's second step: the first launches once per parameter): exit 3. */
    @Test
    void aBackendThatDiffersIsExit3NamingTheFirstDifference() {
        io.nag4j.gpu.plan.Drivers.register("wrongbits", () -> io.nag4j.gpu.plan.FakeDriver.exact().corruptFromLaunch(5));
        try {
            TrainCommandTest.Run r = run("train", "--gradients", "djl", "--backend", "cpu,wrongbits:0", "--steps", "6", "--batch", "8");
            assertEquals(TrainCommand.DIFFERENT, r.code(), r.out() + r.err());
            String last = r.out().strip().lines().reduce((a, b) -> b).orElseThrow();
            // Which tensor depends on DJL's order of parameters (a hash map of random ids): any of the block's.
            assertTrue(last.matches(".*NOT bit-identical: first difference at step 2 param after the step '0[13]Linear_(weight|bias)' element \\d+: reference .*"), last);
            assertTrue(last.contains("wrongbits:0 "), last);
        } finally {
            io.nag4j.gpu.plan.Drivers.unregister("wrongbits");
        }
    }

    /** Checkpoints of the DJL run resume on another backend as if uninterrupted, byte for byte. */
    @Test
    void aCheckpointResumesOnAnotherBackendAsIfUninterrupted() throws Exception {
        Path straight = dir.resolve("straight"), resumed = dir.resolve("resumed");
        String[] common = {"train", "--gradients", "djl", "--optimizer", "adam", "--steps", "10", "--batch", "8", "--schedule", "cosine", "--save-every", "5"};
        TrainCommandTest.Run a = run(cat(common, "--backend", "cpu", "--checkpoint", straight.toString()));
        assertEquals(0, a.code(), a.out() + a.err());
        String other = backends().contains("opencl") ? "opencl:0" : "reference";
        TrainCommandTest.Run b = run(cat(common, "--backend", other, "--checkpoint", resumed.toString(), "--resume", straight.resolve("step-000005.safetensors").toString()));
        assertEquals(0, b.code(), b.out() + b.err());
        assertArrayEquals(Files.readAllBytes(straight.resolve("step-000010.safetensors")), Files.readAllBytes(resumed.resolve("step-000010.safetensors")));
    }

    @Test
    void badInputIsExit2WithOneLine() throws Exception {
        Path host = dir.resolve("host");
        assertEquals(0, run("train", "--steps", "1", "--backend", "cpu", "--checkpoint", host.toString(), "--save-every", "1").code());
        String[][] bad = {
                {"train", "--gradients", "tf"},
                {"train", "--gradients", "djl", "--backend", "nosuch"},
                {"train", "--gradients", "djl", "--hp", "nope=1"},
                // A checkpoint of the host model names its params W1, b1...: not the DJL block's.
                {"train", "--gradients", "djl", "--steps", "3", "--resume", host.resolve("step-000001.safetensors").toString()},
        };
        for (String[] args : bad) {
            TrainCommandTest.Run r = run(args);
            assertEquals(2, r.code(), String.join(" ", args) + ": " + r.out() + r.err());
            assertEquals(1, r.err().strip().lines().count(), String.join(" ", args) + ": " + r.err());
        }
    }

    static String[] cat(String[] a, String... b) {
        String[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
