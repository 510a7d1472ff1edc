package io.nag4j.bench.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nag4j.bench.cli.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code nag4j acceleration} on small condition numbers: NAG needs fewer steps, and its count grows more slowly. */
class AccelerationCommandTest {
    @TempDir
    Path dir;

    @Test
    void nagNeedsFewerStepsAndTheirCountGrowsMoreSlowly() throws Exception {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), "acceleration", "--kappas", "10,100,1000", "--dim", "30", "--out", dir.toString());
        assertEquals(0, code, err.toString());
        JsonNode doc = new ObjectMapper().readTree(dir.resolve("acceleration.json").toFile());
        JsonNode r = doc.get("results");
        assertEquals(6, r.size(), r.toString());
        for (int i = 0; i < r.size(); i += 2) {
            assertEquals("sgd", r.get(i).get("optimizer").asText());
            assertTrue(r.get(i + 1).get("steps").asLong() < r.get(i).get("steps").asLong(), "nag beats sgd at kappa " + r.get(i).get("kappa"));
        }
        double sgd = doc.get("slope_sgd").asDouble(), nag = doc.get("slope_nag").asDouble();
        assertTrue(nag < 0.7 && sgd > 0.7 && nag < sgd, "slopes sgd " + sgd + " nag " + nag);
        assertTrue(Files.size(dir.resolve("acceleration.png")) > 1000);
        assertTrue(out.toString().contains("theory 0.5"), out.toString());
    }

    @Test
    void badInputIsExit2() {
        for (String[] args : new String[][] {{"acceleration", "--kappas", "1"}, {"acceleration", "--dim", "1"}, {"acceleration", "--tol", "2"}}) {
            StringWriter out = new StringWriter(), err = new StringWriter();
            assertEquals(2, Main.run(new PrintWriter(out), new PrintWriter(err), args), String.join(" ", args) + ": " + err);
        }
    }
}
