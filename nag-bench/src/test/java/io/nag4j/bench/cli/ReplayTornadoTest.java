package io.nag4j.bench.cli;

import io.nag4j.core.io.Safetensors;
import io.nag4j.core.tensor.Tensor;
import io.nag4j.tornado.TornadoTestSupport;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link ReplayBackendsAgreeTest} on the tornado backends: every optimizer replayed through TornadoVM gives the reference's bits. */
@Tag("tornado")
class ReplayTornadoTest extends ReplayBackendsAgreeTest {
    @Override
    protected List<String> backends() {
        TornadoTestSupport.requireOrSkip("tornado");
        TornadoTestSupport.requireOrSkip("tornado-prebuilt");
        return List.of("reference", "tornado", "tornado-prebuilt");
    }

    /** TornadoVM's JIT has no exact fma, so it refuses FAST's fused kernels (below); tornado-prebuilt runs them. */
    @Override
    protected List<String> fastBackends() {
        TornadoTestSupport.requireOrSkip("tornado-prebuilt");
        return List.of("reference", "tornado-prebuilt");
    }

    @Test
    void theJitRefusesFastInOneLineNamingTheFusedFma(@TempDir Path dir) throws Exception {
        TornadoTestSupport.requireOrSkip("tornado");
        Path p = dir.resolve("P.safetensors"), u = dir.resolve("U.safetensors"), o = dir.resolve("O.safetensors");
        try (Tensor w = Tensor.of("w", 1f, 2f, 3f); Tensor uw = Tensor.of("w", new float[] {0.1f, 0.2f, 0.3f}, 1, 3)) {
            Safetensors.write(p, List.of(w), Map.of());
            Safetensors.write(u, List.of(uw), Map.of());
        }
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), "replay", "--optimizer", "nag", "--params", p.toString(),
                "--updates", u.toString(), "--out", o.toString(), "--backend", "tornado", "--mode", "fast");
        assertEquals(1, code, err.toString());
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
        assertTrue(err.toString().contains("FAST mode cannot give rule 'nag' its bits") && err.toString().contains("FAST fuses multiply-adds into fma"), err.toString());
        assertFalse(Files.exists(o), "no output written");
    }
}
