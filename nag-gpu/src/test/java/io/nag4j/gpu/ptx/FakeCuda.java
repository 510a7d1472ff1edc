package io.nag4j.gpu.ptx;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;


/**
 * The stand-in driver of {@code fake_libcuda.c}, compiled with gcc once per test run, so the CUDA
 * bindings run end to end on machines without a GPU. Skips (with the reason) where gcc is missing.
 * Its launches run the real PTX in {@link PtxInterpreter} ({@link PtxLaunchHook}); a launch the
 * interpreter refuses returns 719, and {@link #launchFailure()} says why.
 */
final class FakeCuda {
    private static Path library;
    private static String unavailable;

    private FakeCuda() {}

    /** The compiled stub's path, or the test is skipped. */
    static synchronized Path library() {
        if (library == null && unavailable == null) build();
        io.nag4j.core.testing.Requires.available("FAKE_CUDA", library != null ? null : "the stand-in libcuda cannot be built: " + unavailable);
        return library;
    }

    static CudaDriver driver() { return new CudaDriver(library().toString()); }

    private static void build() {
        try (InputStream src = FakeCuda.class.getResourceAsStream("fake_libcuda.c")) {
            if (src == null) { unavailable = "fake_libcuda.c is not on the test class path"; return; }
            Path dir = Files.createTempDirectory("nag4j-fake-cuda");
            dir.toFile().deleteOnExit();
            Path c = dir.resolve("fake_libcuda.c"), so = dir.resolve("libcuda-fake.so");
            Files.write(c, src.readAllBytes());
            Process p;
            try {
                p = new ProcessBuilder("gcc", "-O1", "-ffp-contract=off", "-shared", "-fPIC", "-o", so.toString(), c.toString())
                        .redirectErrorStream(true).start();
            } catch (IOException e) {
                unavailable = "gcc is not available (" + e.getMessage() + ")";
                return;
            }
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                unavailable = "gcc could not build the stub: " + log;
                return;
            }
            c.toFile().deleteOnExit();
            so.toFile().deleteOnExit();
            PtxLaunchHook.install(so);
            library = so;
        } catch (IOException e) {
            unavailable = "building the stub: " + e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            unavailable = "interrupted";
        }
    }

    /** Why the last failed launch failed (the interpreter's error), or null; clears it. */
    static Throwable launchFailure() {
        library();
        return PtxLaunchHook.takeFailure();
    }

    /**
     * For an {@code @AfterEach}: a launch that failed since the last call fails the test with the
     * interpreter's error (the CudaException the test saw says only 719).
     */
    static void assertNoLaunchFailure() {
        if (library == null) return;
        Throwable t = PtxLaunchHook.takeFailure();
        if (t != null) throw new AssertionError("a kernel launch on the stand-in libcuda failed: " + t.getMessage(), t);
    }

    /** Launches through the PTX interpreter (true, the default) or the stub's own C kernels (nag and sgd EXACT only). */
    static void interpretLaunches(boolean on) {
        library();
        PtxLaunchHook.set(on);
    }

    /** The stub's count of live allocations (device, pinned, modules, streams, events). */
    static long live() { return (long) call("fake_live", FunctionDescriptor.of(ValueLayout.JAVA_LONG)); }

    /** The stub's primary-context reference count. */
    static int ctxRefs() { return (int) call("fake_ctx_refs", FunctionDescriptor.of(ValueLayout.JAVA_INT)); }

    /** Host ranges the stub holds as registered ({@code cuMemHostRegister}, not yet unregistered). */
    static int registered() { return (int) call("fake_registered", FunctionDescriptor.of(ValueLayout.JAVA_INT)); }

    /** Makes the stub's {@code cuInit} return {@code rc} (0: succeed again). */
    static void setInitResult(int rc) {
        MethodHandle h = Linker.nativeLinker().downcallHandle(SymbolLookup.libraryLookup(library(), Arena.global())
                .find("fake_set_init_result").orElseThrow(), FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT));
        try {
            h.invoke(rc);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static Object call(String name, FunctionDescriptor fd) {
        MethodHandle h = Linker.nativeLinker().downcallHandle(
                SymbolLookup.libraryLookup(library(), Arena.global()).find(name).orElseThrow(), fd);
        try {
            return h.invoke();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }
}
