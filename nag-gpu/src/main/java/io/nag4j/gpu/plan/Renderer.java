package io.nag4j.gpu.plan;

import io.nag4j.core.ir.Kernel;
import io.nag4j.core.optim.Mode;

/**
 * A code generator: the plug-in point for a target language. A renderer is a pure function from
 * a traced {@link Kernel} and a {@link Mode} to source text; it knows nothing of devices. Found
 * with {@link java.util.ServiceLoader} (list the class in
 * {@code META-INF/services/io.nag4j.gpu.plan.Renderer}); {@code nag4j kernels --target NAME}
 * prints what it makes. Render, compile and load stay separate steps: a driver compiles the text
 * (and caches the binary), a context loads the entry point.
 */
public interface Renderer {
    /** The target's name as {@code --target} takes it, lower-case: {@code opencl}, {@code ptx}, ... */
    String target();

    /** The source text for {@code kernel} in {@code mode}. */
    String render(Kernel kernel, Mode mode);
}
