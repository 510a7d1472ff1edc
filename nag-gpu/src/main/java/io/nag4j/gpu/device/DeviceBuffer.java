package io.nag4j.gpu.device;

/** Device memory owned by its {@link DeviceContext}; closing frees it, use after close throws. */
public interface DeviceBuffer extends AutoCloseable {
    String name();

    long byteSize();

    boolean isClosed();

    @Override
    void close();
}
