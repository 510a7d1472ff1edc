package io.nag4j.gpu.device;

/** No usable device: the native library, platform or device is missing. The message says which. */
public class DeviceUnavailableException extends RuntimeException {
    public DeviceUnavailableException(String message) { super(message); }

    public DeviceUnavailableException(String message, Throwable cause) { super(message, cause); }
}
