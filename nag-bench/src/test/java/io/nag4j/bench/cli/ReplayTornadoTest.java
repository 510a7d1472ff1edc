package io.nag4j.bench.cli;

import io.nag4j.tornado.TornadoTestSupport;
import org.junit.jupiter.api.Tag;

import java.util.List;

/** {@link ReplayBackendsAgreeTest} on the tornado backends: every optimizer replayed through TornadoVM gives the reference's bits. */
@Tag("tornado")
class ReplayTornadoTest extends ReplayBackendsAgreeTest {
    @Override
    protected List<String> backends() {
        TornadoTestSupport.requireOrSkip("tornado");
        TornadoTestSupport.requireOrSkip("tornado-prebuilt");
        return List.of("reference", "tornado", "tornado-prebuilt");
    }
}
