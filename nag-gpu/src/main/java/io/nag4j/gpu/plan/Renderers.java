package io.nag4j.gpu.plan;

import io.nag4j.core.ir.Kernel;
import io.nag4j.gpu.Mode;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiFunction;

/**
 * Code generators by target name, as {@code nag4j kernels --target} takes them: a renderer is a
 * pure function from a kernel and a mode to source text. {@code ir} (the kernel's own printout) is
 * built in; the others ({@code java}, {@code opencl}, {@code ptx}) are registered by the modules
 * that implement them. Thread-safe.
 */
public final class Renderers {
    /** Targets nag4j has or plans, whether or not this build registered them. */
    public static final List<String> KNOWN_TARGETS = List.of("ir", "java", "opencl", "ptx");

    private static final Map<String, BiFunction<Kernel, Mode, String>> RENDERERS = new LinkedHashMap<>();

    static {
        RENDERERS.put("ir", (k, m) -> k.print());
        RENDERERS.put("java", (k, m) -> io.nag4j.core.cpu.CpuBackend.describe(k));
        RENDERERS.put("opencl", io.nag4j.gpu.opencl.OpenClRenderer::render);
        RENDERERS.put("ptx", io.nag4j.gpu.ptx.PtxRenderer::render);
    }

    private Renderers() {}

    /** Registers (or replaces) the renderer of {@code target}. */
    public static synchronized void register(String target, BiFunction<Kernel, Mode, String> renderer) {
        Objects.requireNonNull(renderer, "renderer");
        RENDERERS.put(key(target), renderer);
    }

    /** Forgets a target's renderer (tests use it); true if there was one. */
    public static synchronized boolean unregister(String target) {
        return RENDERERS.remove(key(target)) != null;
    }

    /** Targets with a renderer in this build. */
    public static synchronized List<String> targets() { return List.copyOf(RENDERERS.keySet()); }

    public static synchronized boolean has(String target) { return RENDERERS.containsKey(key(target)); }

    /**
     * The source {@code target}'s renderer makes of {@code kernel} in {@code mode}.
     *
     * @throws IllegalArgumentException if the target is unknown or has no renderer in this build
     */
    public static String render(String target, Kernel kernel, Mode mode) {
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(mode, "mode");
        String t = key(target);
        BiFunction<Kernel, Mode, String> r;
        synchronized (Renderers.class) {
            r = RENDERERS.get(t);
        }
        if (r == null) {
            if (KNOWN_TARGETS.contains(t)) {
                throw new IllegalArgumentException("target '" + t + "' has no renderer in this build; available: " + targets());
            }
            throw new IllegalArgumentException("unknown target '" + target + "'; known: " + KNOWN_TARGETS);
        }
        return r.apply(kernel, mode);
    }

    private static String key(String target) {
        if (target == null || target.isBlank()) throw new IllegalArgumentException("a target needs a name, one of " + KNOWN_TARGETS);
        return target.strip().toLowerCase(Locale.ROOT);
    }
}
