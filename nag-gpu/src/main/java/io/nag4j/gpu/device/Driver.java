package io.nag4j.gpu.device;

import java.util.List;

/**
 * One backend kind (OpenCL, CUDA) behind the driver-neutral face the task-graph runtime uses.
 * A driver knows nothing of optimizers: it compiles {@link io.nag4j.core.ir.Kernel}s through its
 * renderer, moves bytes and launches.
 */
public interface Driver {
    /** {@code opencl} or {@code cuda}. */
    String name();

    /**
     * The devices this driver sees, numbered as {@code --backend name:N}.
     *
     * @throws DeviceUnavailableException if the native library or platform is missing (the reason says which)
     */
    List<DeviceInfo> devices();

    /** Opens a context (and queue/stream) on device {@code index}; the caller closes it. */
    DeviceContext open(int index);
}
