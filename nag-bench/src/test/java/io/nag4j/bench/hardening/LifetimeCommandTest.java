package io.nag4j.bench.hardening;

import io.nag4j.bench.cli.Main;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code nag4j lifetime}'s plumbing: it runs its cycles, reports the growth, and refuses bad input (figures are measured, not asserted). */
class LifetimeCommandTest {
    static int run(StringWriter out, String... args) {
        return Main.run(new PrintWriter(out), new PrintWriter(new StringWriter()), args);
    }

    @Test
    void aShortRunReportsTheGrowthPerCycle() {
        StringWriter out = new StringWriter();
        assertEquals(0, run(out, "lifetime", "--backend", "cpu", "--cycles", "40", "--elements", "64", "--max-bytes-per-cycle", "100000000"));
        assertTrue(out.toString().contains("40 cycles of bind, 3 steps, read, close of adam on cpu") && out.toString().contains("bytes per cycle"), out.toString());
        StringWriter strict = new StringWriter();
        assertEquals(3, run(strict, "lifetime", "--backend", "cpu", "--cycles", "40", "--elements", "64", "--max-bytes-per-cycle", "-100000000"),
                "a bound below any growth fails the run");
    }

    @Test
    void badInputIsExit2() {
        assertEquals(2, run(new StringWriter(), "lifetime", "--cycles", "5"));
        assertEquals(2, run(new StringWriter(), "lifetime", "--backend", "nosuch"));
        assertEquals(2, run(new StringWriter(), "lifetime", "--elements", "1"));
    }
}
