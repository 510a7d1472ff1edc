package io.nag4j.bench.hardening;

import io.nag4j.bench.cli.Main;
import io.nag4j.bench.cli.ReplayBackendsAgreeTestAccess;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code nag4j soak}, CI-sized: saved and restored into fresh bindings, bit-identical to an uninterrupted run. */
class SoakCommandTest {
    @Test
    void aShortSoakWithRestoresEndsBitIdentical() {
        List<String> backends = new ArrayList<>(List.of("reference"));
        ReplayBackendsAgreeTestAccess.openClOrSkipSoft(backends); // opencl:0 where there is one (required in CI)
        backends.add("cpu");
        for (String b : backends) {
            StringWriter out = new StringWriter(), err = new StringWriter();
            int code = Main.run(new PrintWriter(out), new PrintWriter(err), "soak", "--backend", b, "--against", "cpu", "--optimizer", "rmsprop",
                    "--steps", "300", "--every", "40", "--elements", "5003");
            assertEquals(0, code, out + " " + err);
            assertTrue(out.toString().contains("saved and restored 7 times") && out.toString().contains("bit-identical at the end"), out.toString());
        }
    }
}
