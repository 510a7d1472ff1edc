package io.nag4j.bench.device;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nag4j.bench.cli.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bench-device command's plumbing: a tiny run on OpenCL (no timing is asserted). */
class DeviceBenchCommandTest {

    /** Skips without an OpenCL device, unless NAG4J_REQUIRE_OPENCL=1 (CI), where that fails. */
    private static void requireOpenCl() {
        io.nag4j.core.testing.Requires.available("OPENCL", io.nag4j.bench.cli.ReplayBackendsAgreeTestAccess.openClMissing());
    }

    @Test
    void aTinyRunWritesTheFiguresAsJson(@TempDir Path dir) throws Exception {
        requireOpenCl();
        Path json = dir.resolve("device.json");
        assertEquals(0, Main.run("bench-device", "--sizes", "1024,5000", "--steps", "5", "--big-steps", "3", "--warmup-seconds", "0",
                "--probe-seconds", "0.01", "--no-cold-start", "--json", json.toString()));
        JsonNode doc = new ObjectMapper().readTree(json.toFile());
        assertEquals("bench-device", doc.get("benchmark").asText());
        assertEquals(20, doc.get("bytesPerElement").asInt());
        assertEquals(2, doc.get("rows").size());
        for (JsonNode row : doc.get("rows")) {
            for (String f : new String[] {"wallMedianNs", "wallP90Ns", "copyInMedianNs", "kernelMedianNs", "hostOverheadNs",
                    "kernelGBps", "stepGBps", "probeGBps", "probe1tGBps", "kernelVsProbe"}) {
                assertTrue(row.has(f), "row lacks " + f + ": " + row);
            }
            assertTrue(row.get("wallMedianNs").asDouble() > 0, row.toString());
            assertTrue(row.get("kernelMedianNs").asDouble() > 0, "the profiled run collected kernel event times: " + row);
            assertEquals(20L * row.get("elements").asLong(), row.get("kernelBytesPerStep").asLong(), row.toString());
        }
        for (JsonNode row : doc.get("rows")) {
            assertTrue(row.get("residentWallMedianNs").asDouble() > 0, "resident steps were timed: " + row);
            assertEquals(1, row.get("tensors").asInt(), row.toString());
        }
        assertTrue(doc.get("device").get("name").asText().length() > 0, "the report names the device: " + doc.get("device"));
        JsonNode bw = doc.get("bandwidth");
        assertEquals(5000, bw.get("elements").asLong(), "bandwidth at the largest size by default: " + bw);
        for (String f : new String[] {"copyGBps", "copyWallGBps", "kernelGBps", "kernelWallGBps", "kernelVsCopy"}) {
            assertTrue(bw.get(f).asDouble() > 0, "bandwidth." + f + ": " + bw);
        }
        JsonNode targets = doc.get("targets");
        assertTrue(targets.get("nag64M").asText().startsWith("not measured"), targets.toString());
        assertTrue(targets.get("step1024").asText().matches("[0-9.]+ \\(<= 10\\.0\\) (MET|MISSED): .*"), targets.toString());
        assertTrue(targets.get("resnet50").asText().startsWith("not measured"), targets.toString());
        JsonNode floor = doc.get("floor");
        for (String f : new String[] {"finishEmptyNs", "write4kBlockingNs", "launchThenFinishNs", "writeLaunchFinishNs"}) {
            assertTrue(floor.get(f).asDouble() > 0, "floor." + f + ": " + floor);
        }
        assertFalse(doc.has("coldStart"), "--no-cold-start runs no child process");
    }

    @Test
    void resNet50HasTorchvisionsShapes() {
        var shapes = ResNet50.shapes();
        assertEquals(161, shapes.size());
        assertEquals(25_557_032L, ResNet50.elements());
        assertEquals("[64, 3, 7, 7]", java.util.Arrays.toString(shapes.get("conv1.weight")));
        assertEquals("[2048, 1024, 1, 1]", java.util.Arrays.toString(shapes.get("layer4.0.downsample.0.weight")));
        assertEquals("[512, 512, 3, 3]", java.util.Arrays.toString(shapes.get("layer4.2.conv2.weight")));
        assertEquals("[1000]", java.util.Arrays.toString(shapes.get("fc.bias")));
    }

    @Test
    void theResNet50RunPacksEveryTensorIntoOneLaunchAndJudgesTheTargets(@TempDir Path dir) throws Exception {
        requireOpenCl();
        Path json = dir.resolve("resnet.json");
        assertEquals(0, Main.run("bench-device", "--sizes", "1024", "--resnet50", "--steps", "3", "--big-steps", "3",
                "--warmup-seconds", "0", "--probe-seconds", "0.01", "--no-cold-start", "--bandwidth-elements", "4096",
                "--json", json.toString()));
        JsonNode doc = new ObjectMapper().readTree(json.toFile());
        JsonNode resnet = doc.get("rows").get(1);
        assertEquals("resnet50", resnet.get("paramSet").asText());
        assertEquals(161, resnet.get("tensors").asInt());
        assertEquals(25_557_032L, resnet.get("elements").asLong());
        assertTrue(resnet.get("kernelMedianNs").asDouble() > 0, resnet.toString());
        assertTrue(doc.get("targets").get("resnet50").asText().contains("161 tensors in one launch"), doc.get("targets").toString());
    }

    @Test
    void coldStartModeReportsThePhases(@TempDir Path dir) throws Exception {
        requireOpenCl();
        Path json = dir.resolve("cold.json");
        assertEquals(0, Main.run("bench-device", "--cold-start", "--sizes", "1024", "--json", json.toString()));
        JsonNode m = new ObjectMapper().readTree(json.toFile());
        for (String f : new String[] {"platformsNs", "bindNs", "compileNs", "firstStepNs", "jvmUptimeAtFirstStepMs", "spawnToFirstStepNs"}) {
            assertTrue(m.has(f), "lacks " + f + ": " + m);
        }
        assertTrue(m.get("firstStepNs").asLong() > 0, m.toString());
    }

    @Test
    void aHostBackendIsAUsageError() {
        assertEquals(2, Main.run("bench-device", "--backend", "cpu", "--sizes", "1024", "--steps", "3", "--warmup-seconds", "0",
                "--no-cold-start"));
        assertEquals(2, Main.run("bench-device", "--steps", "1"));
    }
}
