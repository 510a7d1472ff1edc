package io.nag4j.bench.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nag4j.bench.cli.Main;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Rules;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code nag4j train}: identical curves on every backend, resume across backends, bad input. OpenCL joins when present (required in CI). */
class TrainCommandTest {
    @TempDir
    Path dir;

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        return new Run(code, out.toString(), err.toString());
    }

    /** reference and cpu, and opencl:0 where a platform exists (in CI it must). */
    static String backends() {
        List<String> b = new ArrayList<>(List.of("reference", "cpu"));
        io.nag4j.bench.cli.ReplayBackendsAgreeTestAccess.openClOrSkipSoft(b);
        return String.join(",", b);
    }

    static Stream<Rule> rules() { return Rules.all().stream(); }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rules")
    void everyOptimizerTrainsBitIdenticallyOnEveryBackend(Rule rule) throws Exception {
        Path json = dir.resolve(rule.name() + ".json"), plot = dir.resolve(rule.name() + ".png");
        Run r = run("train", "--optimizer", rule.name(), "--model", rule.name().length() % 2 == 0 ? "mlp" : "softmax", "--steps", "25",
                "--batch", "16", "--schedule", "cosine", "--warmup", "3", "--backend", backends(), "--json", json.toString(), "--plot", plot.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("bit-identical") && r.out().contains("identical"), r.out());
        JsonNode doc = new ObjectMapper().readTree(json.toFile());
        assertTrue(doc.get("identical").asBoolean());
        for (JsonNode curve : doc.get("loss")) assertEquals(25, curve.size(), doc.toString());
        byte[] png = Files.readAllBytes(plot);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(png, 4));
    }

    /** 16-bit params on float32 master weights: every backend identical, checkpoints carry the master, a resume continues it. */
    @Test
    void sixteenBitParamsTrainIdenticallyAndResume() throws Exception {
        for (String dtype : List.of("bf16", "f16")) {
            Path straight = dir.resolve("mp-" + dtype), resumed = dir.resolve("mp-" + dtype + "-resumed");
            Run r = run("train", "--param-dtype", dtype, "--optimizer", "adam", "--steps", "20", "--batch", "16", "--backend", backends(),
                    "--checkpoint", straight.toString(), "--save-every", "10");
            assertEquals(0, r.code(), r.out() + r.err());
            assertTrue(r.out().contains("bit-identical"), r.out());
            try (io.nag4j.core.io.SafetensorsReader ck = io.nag4j.core.io.SafetensorsReader.open(straight.resolve("step-000020.safetensors"));
                 Tensor w = ck.load("W1"); Tensor m = ck.load("state/master/W1")) {
                for (int i = 0; i < w.size(); i++) {
                    float want = dtype.equals("bf16") ? io.nag4j.core.reference.MasterWeightsReference.bf16(m.get(i)) : io.nag4j.core.reference.MasterWeightsReference.f16(m.get(i));
                    assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(w.get(i)), dtype + " W1[" + i + "] is not its master rounded");
                }
            }
            Run b = run("train", "--param-dtype", dtype, "--optimizer", "adam", "--steps", "20", "--batch", "16", "--backend", "cpu",
                    "--checkpoint", resumed.toString(), "--save-every", "10", "--resume", straight.resolve("step-000010.safetensors").toString());
            assertEquals(0, b.code(), b.out() + b.err());
            assertArrayEquals(Files.readAllBytes(straight.resolve("step-000020.safetensors")), Files.readAllBytes(resumed.resolve("step-000020.safetensors")), dtype);
        }
        assertEquals(2, run("train", "--param-dtype", "f8").code());
        assertEquals(2, run("train", "--param-dtype", "bf16", "--gradients", "djl").code());
    }

    /** Stochastic rounding: identical on every backend, resumed byte-identically, each param a neighbour of its master, not all the nearest one. */
    @Test
    void stochasticallyRoundedParamsTrainIdenticallyAndResume() throws Exception {
        Path straight = dir.resolve("sr"), resumed = dir.resolve("sr-resumed");
        String[] common = {"train", "--param-dtype", "bf16", "--rounding", "stochastic", "--seed", "5", "--optimizer", "adam", "--steps", "20",
                "--batch", "16", "--save-every", "10"};
        Run r = run(concat(common, "--backend", backends(), "--checkpoint", straight.toString()));
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("bit-identical"), r.out());
        int notNearest = 0;
        try (io.nag4j.core.io.SafetensorsReader ck = io.nag4j.core.io.SafetensorsReader.open(straight.resolve("step-000020.safetensors"));
             Tensor w = ck.load("W1"); Tensor m = ck.load("state/master/W1")) {
            for (int i = 0; i < w.size(); i++) {
                float lo = io.nag4j.core.ir.Narrowing.bf16Stochastic(m.get(i), 1f), hi = io.nag4j.core.ir.Narrowing.bf16Stochastic(m.get(i), 0f);
                assertTrue(w.get(i) == lo || w.get(i) == hi, "W1[" + i + "] " + w.get(i) + " is not a bf16 neighbour of its master " + m.get(i));
                if (w.get(i) != io.nag4j.core.reference.MasterWeightsReference.bf16(m.get(i))) notNearest++;
            }
        }
        assertTrue(notNearest > 0, "stochastic rounding left every param at its nearest bf16");
        Run b = run(concat(common, "--backend", "cpu", "--checkpoint", resumed.toString(), "--resume", straight.resolve("step-000010.safetensors").toString()));
        assertEquals(0, b.code(), b.out() + b.err());
        assertArrayEquals(Files.readAllBytes(straight.resolve("step-000020.safetensors")), Files.readAllBytes(resumed.resolve("step-000020.safetensors")));
        assertEquals(2, run("train", "--rounding", "stochastic").code(), "stochastic rounding of float32 params");
        assertEquals(2, run("train", "--param-dtype", "f16", "--rounding", "up").code());
    }

    @Test
    void flagsAndStepScheduleAreIdenticalToo() {
        Run r = run("train", "--optimizer", "rmsprop", "--hp", "centered=1", "--hp", "momentum=0.9", "--hp", "lr=0.001",
                "--schedule", "step", "--steps", "30", "--batch", "8", "--backend", backends());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("bit-identical"), r.out());
    }

    /** A checkpoint saved on one backend resumes on another bit-identically to an uninterrupted run. */
    @Test
    void aCheckpointFromOneBackendResumesOnAnotherAsIfUninterrupted() throws Exception {
        Path whole = dir.resolve("whole"), resumed = dir.resolve("resumed");
        String[] common = {"train", "--optimizer", "adam", "--model", "mlp", "--steps", "40", "--batch", "32", "--schedule", "cosine",
                "--warmup", "5", "--save-every", "20"};
        Run a = run(concat(common, "--backend", "cpu", "--checkpoint", whole.toString()));
        assertEquals(0, a.code(), a.err());
        String[] others = backends().replace("cpu", "").replaceAll("^,|,$", "").replace(",,", ",").split(",");
        for (String other : others) {
            Path out = resumed.resolve(other.replace(':', '_'));
            Run b = run(concat(common, "--backend", other, "--checkpoint", out.toString(), "--resume", whole.resolve("step-000020.safetensors").toString()));
            assertEquals(0, b.code(), b.err());
            assertTrue(b.out().contains("steps 21..40"), b.out());
            assertArrayEquals(Files.readAllBytes(whole.resolve("step-000040.safetensors")), Files.readAllBytes(out.resolve("step-000040.safetensors")),
                    "step 40 from cpu uninterrupted and from " + other + " resumed at 20");
        }
    }

    @Test
    void badInputIsExit2WithOneLine() throws Exception {
        Path softmaxCkpt = dir.resolve("s");
        assertEquals(0, run("train", "--model", "softmax", "--steps", "2", "--backend", "cpu", "--checkpoint", softmaxCkpt.toString(), "--save-every", "1").code());
        String[][] bad = {
                {"train", "--model", "cnn"},
                {"train", "--steps", "0"},
                {"train", "--batch", "0"},
                {"train", "--schedule", "linear"},
                {"train", "--warmup", "500", "--steps", "10"},
                {"train", "--backend", "cpu,cpu"},
                {"train", "--backend", "nosuch"},
                {"train", "--hp", "eta"},
                {"train", "--hp", "eta=1", "--hp", "eta=2"},
                {"train", "--hp", "nope=1"},
                {"train", "--save-every", "5"},
                {"train", "--model", "mlp", "--resume", softmaxCkpt.resolve("step-000001.safetensors").toString()},
                {"train", "--model", "softmax", "--steps", "1", "--resume", softmaxCkpt.resolve("step-000002.safetensors").toString()},
                {"train", "--resume", dir.resolve("missing.safetensors").toString()},
        };
        for (String[] args : bad) {
            Run r = run(args);
            assertTrue(r.code() == 2 || (args[args.length - 1].endsWith("missing.safetensors") && r.code() == 1), String.join(" ", args) + ": " + r.code() + " " + r.err());
            assertEquals(1, r.err().strip().lines().count(), String.join(" ", args) + ": " + r.err());
        }
    }

    /** A backend that computes wrong bits from its 5th step on: exit 3, naming the first difference with both values. */
    @Test
    void aBackendThatDiffersIsExit3NamingTheFirstDifference() throws Exception {
        io.nag4j.gpu.plan.Drivers.register("wrongbits", () -> io.nag4j.gpu.plan.FakeDriver.exact().corruptFromLaunch(5));
        try {
            Path json = dir.resolve("wrong.json");
            Run r = run("train", "--backend", "cpu,wrongbits:0", "--steps", "12", "--batch", "8", "--json", json.toString());
            assertEquals(TrainCommand.DIFFERENT, r.code(), r.out() + r.err());
            String last = r.out().strip().lines().reduce((a, b) -> b).orElseThrow();
            assertTrue(last.contains("NOT bit-identical: first difference at step 6 param before the step 'W1' element 0: cpu "), last);
            assertTrue(last.contains("wrongbits:0 "), last);
            assertEquals(false, new ObjectMapper().readTree(json.toFile()).get("identical").asBoolean());
        } finally {
            io.nag4j.gpu.plan.Drivers.unregister("wrongbits");
        }
    }

    /** A device that cannot build the kernel is the environment: exit 1, one line naming it, no "internal error". */
    @Test
    void aKernelThatCannotBeBuiltIsAnEnvironmentErrorNamingTheDevice() {
        io.nag4j.gpu.plan.Drivers.register("nocompiler", () -> io.nag4j.gpu.plan.FakeDriver.exact().failCompiles("the build log says no"));
        try {
            Run r = run("train", "--backend", "cpu,nocompiler:0", "--steps", "2");
            assertEquals(1, r.code(), r.out() + r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.err().contains("the build log says no") && !r.err().contains("internal error"), r.err());
        } finally {
            io.nag4j.gpu.plan.Drivers.unregister("nocompiler");
        }
    }

    @Test
    void theFirstDifferenceNamesStepTensorElementAndBothValues() {
        try (ParamSet a = ParamSet.of(Tensor.of("W", 1f, 2f, 3f)); ParamSet b = ParamSet.of(Tensor.of("W", 1f, 2f, Math.nextUp(3f)));
             ParamSet n1 = ParamSet.of(Tensor.of("W", Float.NaN)); ParamSet n2 = ParamSet.of(Tensor.of("W", Float.intBitsToFloat(0x7fc00001)))) {
            assertNull(TrainCommand.firstDifference(1, "param", a, a, "cpu"));
            assertNull(TrainCommand.firstDifference(1, "param", n1, n2, "cpu"), "NaNs compare by class");
            TrainCommand.Difference d = TrainCommand.firstDifference(7, "param before the step", a, b, "opencl:0");
            assertNotNull(d);
            assertEquals("step 7 param before the step 'W' element 2: reference 40400000 (3.0), opencl:0 40400001 (3.0000002)", d.describe("reference"));
        }
    }

    @Test
    void batchesDependOnlyOnTheSeedAndTheStep() {
        Data d = new Data(5, 100, 3, 2);
        Data.Batch late = d.batch(9, 30);
        assertArrayEquals(late.labels(), new Data(5, 100, 3, 2).batch(9, 30).labels());
        assertEquals(30, late.size());
        Schedule s = new Schedule("cosine", 4, 20);
        assertEquals(0.2, s.factor(1), 1e-12);
        assertEquals(1.0, s.factor(5), 1e-12);
        assertTrue(s.factor(20) < 0.01);
        assertEquals(0.1, new Schedule("step", 0, 30).factor(11), 1e-12);
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
