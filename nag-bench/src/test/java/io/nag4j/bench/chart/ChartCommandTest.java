package io.nag4j.bench.chart;

import io.nag4j.bench.cli.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChartCommandTest {
    @TempDir
    Path dir;

    int run(String... args) {
        return Main.run(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()), args);
    }

    @Test
    void drawsAPngFromABenchReport() throws Exception {
        Path json = dir.resolve("r.json"), png = dir.resolve("r.png");
        Files.writeString(json, """
                {"benchmark":"bench-cpu","kernel":"nag","bytesPerElement":20,"processors":2,"jvm":"test","rows":[
                 {"variant":"probe","elements":1000,"gbPerSecond":10.5},{"variant":"probe","elements":1000000,"gbPerSecond":200},
                 {"variant":"cpu-execute","elements":1000,"gbPerSecond":100},{"variant":"cpu-execute","elements":1000000,"gbPerSecond":250}]}
                """);
        assertEquals(0, run("chart", json.toString(), "--out", png.toString()));
        byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(png), 8);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a}, head, "a PNG file");
        assertTrue(Files.size(png) > 5_000, "a drawn chart, not an empty image");
    }

    @Test
    void aMissingOrMalformedReportIsExit2AndDrawsNothing() throws Exception {
        Path png = dir.resolve("x.png");
        assertEquals(2, run("chart", dir.resolve("missing.json").toString(), "--out", png.toString()));
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "{\"rows\":[{\"variant\":\"probe\"}]}");
        assertEquals(2, run("chart", bad.toString(), "--out", png.toString()));
        assertFalse(Files.exists(png));
    }
}
