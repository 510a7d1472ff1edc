package io.nag4j.gpu.ptx;

import io.nag4j.gpu.device.Listing;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs NVIDIA's {@code ptxas} (the CUDA toolkit's PTX assembler) on generated PTX, so that a machine
 * without a GPU still proves every PTX nag4j writes is accepted, warnings as errors, for the
 * architectures nag4j targets. Tests and {@code nag4j fuzz} use it when it is on the PATH.
 */
public final class Ptxas {
    /** The architectures every generated PTX must assemble for: Ampere and Hopper. */
    public static final List<String> ARCHS = List.of("sm_80", "sm_90");

    /** ptxas refused a PTX, or could not be run: the message holds its output and the numbered PTX. */
    public static final class PtxasException extends RuntimeException {
        PtxasException(String message) { super(message); }
        PtxasException(String message, Throwable cause) { super(message, cause); }
    }

    private Ptxas() {}

    /** The ptxas executable on the PATH, or null. */
    public static Path find() {
        String path = System.getenv("PATH");
        if (path == null) return null;
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) continue;
            Path p = Path.of(dir, "ptxas");
            if (Files.isRegularFile(p) && Files.isExecutable(p)) return p;
        }
        return null;
    }

    /**
     * Assembles {@code ptx} for {@code arch} with warnings as errors.
     *
     * @throws PtxasException naming {@code what}, with ptxas's output and the numbered PTX, if it refuses
     */
    public static void assemble(Path ptxas, String ptx, String arch, String what) {
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
                throw new PtxasException("ptxas timed out on " + what + " for " + arch);
            }
            if (proc.exitValue() != 0 || !Files.isRegularFile(out)) {
                throw new PtxasException("ptxas --gpu-name " + arch + " rejected " + what + " (exit " + proc.exitValue() + "):\n" + log
                        + "\n--- PTX ---\n" + Listing.numbered(ptx));
            }
        } catch (IOException e) {
            throw new PtxasException("running ptxas on " + what + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PtxasException("interrupted while ptxas ran on " + what, e);
        } finally {
            if (dir != null) deleteQuietly(dir);
        }
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
