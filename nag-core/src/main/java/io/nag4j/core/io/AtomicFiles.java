package io.nag4j.core.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes a file atomically: the contents go to a temporary file in the same directory, which is
 * forced to disk and then renamed over the target. Readers see the old file or the new one,
 * never a partial one; if anything fails, the temporary file is deleted and the old file is left
 * as it was.
 */
public final class AtomicFiles {
    /** Writes the whole contents to a fresh channel positioned at 0. */
    @FunctionalInterface
    public interface Body {
        void write(FileChannel channel) throws IOException;
    }

    private AtomicFiles() {}

    /** Writes {@code bytes} to {@code target}, atomically (see the class comment). */
    public static void write(Path target, byte[] bytes) throws IOException {
        Objects.requireNonNull(bytes, "bytes");
        write(target, ch -> {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) ch.write(b);
        });
    }

    /** Writes {@code target} through {@code body}, atomically (see the class comment). */
    public static void write(Path target, Body body) throws IOException {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(body, "body");
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Path tmp = createTemp(dir, abs.getFileName().toString());
        boolean moved = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                body.write(ch);
                ch.force(true);
            }
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            moved = true;
        } finally {
            if (!moved) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // The original failure is what the caller needs to see.
                }
            }
        }
        forceDirectory(dir);
    }

    /** A new empty file beside the target; created with default permissions (umask), unlike createTempFile's 0600. */
    private static Path createTemp(Path dir, String name) throws IOException {
        for (int attempt = 0; ; attempt++) {
            String suffix = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
            Path tmp = dir.resolve("." + name + "." + suffix + ".tmp");
            try {
                Files.newByteChannel(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                return tmp;
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 10) throw e;
            }
        }
    }

    /** Makes the rename durable where the platform allows forcing a directory (Linux does). */
    private static void forceDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // Not every file system lets a directory be opened or forced; the rename itself is done.
        }
    }
}
