package io.nag4j.bench.hardening;

import io.nag4j.bench.cli.Main;
import io.nag4j.bench.cli.ReplayBackendsAgreeTestAccess;
import io.nag4j.core.testing.Requires;
import io.nag4j.gpu.plan.Drivers;
import io.nag4j.gpu.plan.FakeDriver;
import io.nag4j.gpu.ptx.Ptxas;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code nag4j fuzz}: a short run on every target agrees; a device that gets bits wrong is caught
 * with the smallest failing program and a command that reproduces it; bad arguments are exit 2.
 * (The CI-sized run, 2000 programs, is a step of {@code .ci/run}.)
 */
class FuzzCommandTest {
    record Run(int code, String out, String err) {}

    static Run fuzz(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        String[] all = new String[args.length + 1];
        all[0] = "fuzz";
        System.arraycopy(args, 0, all, 1, args.length);
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), all);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void aShortRunAgreesOnEveryTarget() {
        List<String> targets = new ArrayList<>(List.of("cpu-scalar", "cpu-vector", "ptx"));
        if (ReplayBackendsAgreeTestAccess.openClMissing() == null) targets.add("opencl:0");
        else Requires.available("OPENCL", ReplayBackendsAgreeTestAccess.openClMissing());
        if (Ptxas.find() != null) targets.add("ptxas");
        else Requires.available("PTXAS", "ptxas is not on the PATH");
        Run r = fuzz("--programs", "96", "--seed", "77", "--targets", String.join(",", targets));
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("96 programs in 3 batches") && r.out().contains("identical"), r.out());
        for (String t : targets) assertTrue(r.out().contains(t), t + " ran: " + r.out());
    }

    @Test
    void aDeviceThatGetsBitsWrongIsCaughtAndShrunk() {
        Drivers.register("wrongbits", () -> FakeDriver.exact().corruptFromLaunch(1));
        try {
            Run r = fuzz("--programs", "64", "--seed", "3", "--targets", "cpu-scalar,wrongbits:0");
            assertEquals(3, r.code(), r.out() + r.err());
            assertTrue(r.out().contains("wrongbits:0 disagrees on program seed 3 "), r.out());
            assertTrue(r.out().contains("smallest failing program (0 equations, 1 element)"), r.out());
            assertTrue(r.out().contains("reproduce: ./nag4j fuzz --programs 1 --seed 3 --elements "), r.out());
        } finally {
            Drivers.unregister("wrongbits");
        }
    }

    @Test
    void badArgumentsAreExit2WithOneLine() {
        for (String[] args : List.of(new String[] {"--programs", "0"}, new String[] {"--targets", "cpu-scalar,nope"},
                new String[] {"--batch", "0"}, new String[] {"--elements", "-1"}, new String[] {"--targets", "opencl:x"})) {
            Run r = fuzz(args);
            assertEquals(2, r.code(), String.join(" ", args) + ": " + r.out() + r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
        }
    }
}
