package io.nag4j.gpu.plan;

import io.nag4j.core.ir.Kernel;
import io.nag4j.core.optim.Mode;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.function.BiFunction;

/**
 * Code generators by target name, as {@code nag4j kernels --target} takes them: every
 * {@link Renderer} listed in {@code META-INF/services/io.nag4j.gpu.plan.Renderer} on the class
 * path (nag-gpu lists {@code ir}, {@code java}, {@code opencl} and {@code ptx}), plus any a
 * program {@link #register}s. Nothing here names a target. Thread-safe.
 */
public final class Renderers {
    private static final Map<String, BiFunction<Kernel, Mode, String>> RENDERERS = new LinkedHashMap<>();

    static {
        for (Renderer r : ServiceLoader.load(Renderer.class, Renderers.class.getClassLoader())) RENDERERS.putIfAbsent(key(r.target()), r::render);
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
     * @throws IllegalArgumentException if no renderer of that name is on the class path
     */
    public static String render(String target, Kernel kernel, Mode mode) {
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(mode, "mode");
        BiFunction<Kernel, Mode, String> r;
        synchronized (Renderers.class) {
            r = RENDERERS.get(key(target));
        }
        if (r == null) throw new IllegalArgumentException("unknown target '" + target + "'; known: " + targets());
        return r.apply(kernel, mode);
    }

    private static String key(String target) {
        if (target == null || target.isBlank()) throw new IllegalArgumentException("a target needs a name, one of " + targets());
        return target.strip().toLowerCase(Locale.ROOT);
    }

    /** {@code ir}: the kernel's own printout; in FAST mode after the fusion pass ({@link Mode#kernel}). */
    public static final class Ir implements Renderer {
        @Override public String target() { return "ir"; }
        @Override public String render(Kernel kernel, Mode mode) { return mode.kernel(kernel).print(); }
    }

    /** {@code java}: the loop the CPU backend generates, as JVM bytecode described in Java. */
    public static final class Java implements Renderer {
        @Override public String target() { return "java"; }
        @Override public String render(Kernel kernel, Mode mode) { return io.nag4j.core.cpu.CpuBackend.describe(mode.kernel(kernel)); }
    }
}
