package io.nag4j.gpu.device;

import io.nag4j.core.ir.Kernel;
import io.nag4j.core.optim.Mode;

/** A kernel compiled for one device, owned by its {@link DeviceContext}. */
public interface CompiledKernel {
    Kernel kernel();

    Mode mode();

    /** The generated source (OpenCL C or PTX). */
    String source();

    /** Wall time the driver's compile took in this process; 0 if it came from the in-memory cache. */
    long compileNanos();

    /** Whether the driver's binary came from a cache (in memory or on disk) instead of a compile. */
    boolean cached();

    /** What the driver's compiler said on success (CUDA: the JIT's info log, registers and spills); empty if nothing. */
    default String compileLog() { return ""; }
}
