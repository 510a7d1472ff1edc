package io.nag4j.gpu.opencl;

import io.nag4j.core.ir.Kernel;
import io.nag4j.core.optim.Mode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Program binaries on disk, so that a second process skips the driver's compile. One file per
 * key ({@code <sha256>.clbin}); the file starts with the full key, so a hash collision or a
 * stale file reads as a miss, then the binary's SHA-256, so a corrupt file is a miss too (and is
 * removed), never a kernel the driver might accept with other bits. Files are written to a temporary name and moved into place, so a
 * reader never sees half a file. Any I/O failure is a miss, never an error: the cache only
 * saves time.
 */
public final class ProgramCache {
    private static final byte[] MAGIC = "nag4j-opencl-binary v2\n".getBytes(StandardCharsets.US_ASCII);
    /** The header's last line: the binary's SHA-256, so a corrupt entry (a flipped bit the driver would accept) reads as a miss. */
    private static final String DIGEST = "binary-sha256=";

    private final Path dir;

    /** @param dir the directory (created on first store), or null for no disk cache */
    public ProgramCache(Path dir) { this.dir = dir; }

    /**
     * {@code -Dnag4j.cache.dir=DIR} gives {@code DIR/opencl}; otherwise
     * {@code $XDG_CACHE_HOME/nag4j/opencl}, else {@code ~/.cache/nag4j/opencl}.
     */
    public static Path defaultDir() {
        String prop = System.getProperty("nag4j.cache.dir");
        if (prop != null && !prop.isBlank()) return Path.of(prop, "opencl");
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) return Path.of(xdg, "nag4j", "opencl");
        return Path.of(System.getProperty("user.home"), ".cache", "nag4j", "opencl");
    }

    public Path dir() { return dir; }

    /**
     * The cache key: IR hash, the rendered source (so a renderer change never reuses an old
     * binary), the device's compiler identity, the mode and the build options.
     */
    public static String key(Kernel kernel, String source, String deviceIdentity, Mode mode, String options) {
        return "ir=" + kernel.hash() + "\nsource=" + sha256(source) + "\ndevice=" + deviceIdentity.replace('\n', ' ')
                + "\nmode=" + mode + "\noptions=" + options + "\n";
    }

    /** The binary stored under {@code key}, if any. */
    public Optional<byte[]> load(String key) {
        if (dir == null) return Optional.empty();
        Path f = file(key);
        try {
            if (!Files.isRegularFile(f)) return Optional.empty();
            byte[] all = Files.readAllBytes(f);
            byte[] head = header(key);
            int digestLine = head.length + DIGEST.length() + 65; // 64 hex digits and a newline
            if (all.length <= digestLine || !Arrays.equals(all, 0, head.length, head, 0, head.length)) return Optional.empty();
            String digest = new String(all, head.length, DIGEST.length() + 64, StandardCharsets.US_ASCII);
            byte[] binary = Arrays.copyOfRange(all, digestLine, all.length);
            if (!digest.equals(DIGEST + sha256(binary)) || all[digestLine - 1] != '\n') {
                remove(key); // corrupt: never hand it to the driver; the next compile rewrites it
                return Optional.empty();
            }
            return Optional.of(binary);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Stores {@code binary} under {@code key} atomically; returns false (and changes nothing) on failure. */
    public boolean store(String key, byte[] binary) {
        if (dir == null) return false;
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, "write-", ".tmp");
            byte[] head = header(key), digest = (DIGEST + sha256(binary) + "\n").getBytes(StandardCharsets.US_ASCII);
            byte[] all = Arrays.copyOf(head, head.length + digest.length + binary.length);
            System.arraycopy(digest, 0, all, head.length, digest.length);
            System.arraycopy(binary, 0, all, head.length + digest.length, binary.length);
            Files.write(tmp, all);
            try {
                Files.move(tmp, file(key), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file(key), StandardCopyOption.REPLACE_EXISTING);
            }
            return true;
        } catch (IOException | RuntimeException e) {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort: a stray temp file is harmless
                }
            }
            return false;
        }
    }

    /** Removes the entry for {@code key} (a binary the driver refused). */
    public void remove(String key) {
        if (dir == null) return;
        try {
            Files.deleteIfExists(file(key));
        } catch (IOException ignored) {
            // a stale entry is re-tried and replaced next time
        }
    }

    Path file(String key) { return dir.resolve(sha256(key) + ".clbin"); }

    private static byte[] header(String key) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        byte[] h = Arrays.copyOf(MAGIC, MAGIC.length + k.length);
        System.arraycopy(k, 0, h, MAGIC.length, k.length);
        return h;
    }

    static String sha256(String s) { return sha256(s.getBytes(StandardCharsets.UTF_8)); }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
