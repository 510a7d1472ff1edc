package io.nag4j.gpu.ptx;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Runs NVIDIA's {@code ptxas} on generated PTX, when it is on the PATH. Without it the tests skip
 * with the reason, unless {@code NAG4J_REQUIRE_PTXAS=1} makes that a failure.
 */
final class Ptxas {
    static final List<String> ARCHS = List.of("sm_80", "sm_90");

    private Ptxas() {}

    /** The ptxas executable on the PATH, or null. */
    static Path find() {
        String path = System.getenv("PATH");
        if (path == null) return null;
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) continue;
            Path p = Path.of(dir, "ptxas");
            if (Files.isRegularFile(p) && Files.isExecutable(p)) return p;
        }
        return null;
    }

    /** ptxas, or skip the test (fail if NAG4J_REQUIRE_PTXAS=1). */
    static Path require() {
        Path p = find();
        io.nag4j.core.testing.Requires.available("PTXAS", p == null ? "ptxas is not on the PATH" : null);
        return p;
    }

    /** Assembles {@code ptx} for {@code arch} with warnings as errors; fails with ptxas's output and the PTX. */
    static void assemble(Path ptxas, String ptx, String arch, String what) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("nag4j-ptxas");
            Path in = dir.resolve("kernel.ptx");
            Path out = dir.resolve("kernel.cubin");
            Files.writeString(in, ptx, StandardCharsets.US_ASCII);
            Process proc = new ProcessBuilder(ptxas.toString(), "--gpu-name", arch, "--warning-as-error", "-o", out.toString(), in.toString())
                    .redirectErrorStream(true).start();
            String log = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!proc.waitFor(120, TimeUnit.SECONDS)) {
                proc.destroyForcibly();
                fail("ptxas timed out on " + what + " for " + arch);
            }
            if (proc.exitValue() != 0 || !Files.isRegularFile(out)) {
                fail("ptxas --gpu-name " + arch + " rejected " + what + " (exit " + proc.exitValue() + "):\n" + log
                        + "\n--- PTX ---\n" + numbered(ptx));
            }
        } catch (IOException e) {
            throw new AssertionError("running ptxas on " + what + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        } finally {
            if (dir != null) deleteQuietly(dir);
        }
    }

    private static String numbered(String text) {
        StringBuilder sb = new StringBuilder();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) sb.append(String.format("%4d  %s%n", i + 1, lines[i]));
        return sb.toString();
    }

    private static void deleteQuietly(Path dir) {
        try (var s = Files.list(dir)) {
            for (Path p : s.toList()) Files.deleteIfExists(p);
            Files.deleteIfExists(dir);
        } catch (IOException ignored) {
            // a leftover temp file is harmless
        }
    }
}
