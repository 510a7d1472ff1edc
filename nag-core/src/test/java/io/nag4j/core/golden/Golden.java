package io.nag4j.core.golden;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

/**
 * Reads the shared golden vectors ({@code ../shared/golden/} beside the repository root).
 * A missing file fails loudly: golden tests never skip.
 */
public final class Golden {
    private Golden() {}

    /** The repository root: the {@code nag4j.root} system property (set by Surefire), else walks up. */
    public static Path repoRoot() {
        String p = System.getProperty("nag4j.root");
        if (p != null && !p.isBlank()) return Path.of(p).toAbsolutePath().normalize();
        Path d = Path.of("").toAbsolutePath();
        while (d != null && !Files.exists(d.resolve("nag-core"))) d = d.getParent();
        if (d == null) throw new IllegalStateException("cannot find the nag4j repository root from " + Path.of("").toAbsolutePath());
        return d;
    }

    public static Path goldenDir() {
        return repoRoot().resolve("../shared/golden").normalize();
    }

    public static JsonNode load(String file) {
        Path f = goldenDir().resolve(file);
        if (!Files.isRegularFile(f)) {
            throw new IllegalStateException("golden file " + f + " is missing: the golden tests need ../shared/golden beside the repository");
        }
        try {
            return new ObjectMapper().readTree(f.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read golden file " + f, e);
        }
    }

    public static JsonNode nagSeed() { return load("nag_seed_golden.json"); }

    public static float hex(String h) {
        return Float.intBitsToFloat(Integer.parseUnsignedInt(h, 16));
    }

    public static float[] hex(JsonNode arr) {
        float[] out = new float[arr.size()];
        for (int i = 0; i < out.length; i++) out[i] = hex(arr.get(i).asText());
        return out;
    }

    public static float[] b64le(String s) {
        FloatBuffer fb = ByteBuffer.wrap(Base64.getDecoder().decode(s)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        float[] out = new float[fb.remaining()];
        fb.get(out);
        return out;
    }

    public static long[] shape(JsonNode arr) {
        long[] s = new long[arr.size()];
        for (int i = 0; i < s.length; i++) s[i] = arr.get(i).asLong();
        return s;
    }
}
