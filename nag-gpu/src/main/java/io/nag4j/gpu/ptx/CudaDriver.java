package io.nag4j.gpu.ptx;

import io.nag4j.gpu.device.DeviceInfo;
import io.nag4j.gpu.device.DeviceUnavailableException;
import io.nag4j.gpu.device.Driver;

import java.util.ArrayList;
import java.util.List;

/**
 * NVIDIA GPUs through the CUDA driver API ({@code libcuda.so.1}), kernels as PTX from
 * {@link PtxRenderer}. Every CUDA device that loads the EXACT PTX is bit-exact: the PTX keeps
 * denormals (no {@code .ftz}) and rounds every op to nearest ({@code .rn}, {@code div.rn},
 * {@code sqrt.rn}), so each device reports fp32 denormals and correctly rounded divide/sqrt.
 * The sm_75 PTX is JIT-compiled by the driver for the device's own architecture (sm_90 on an H100).
 */
public final class CudaDriver implements Driver {
    private final String library;

    public CudaDriver() { this(Cuda.LIBRARY); }

    /** With another library name or path (tests use a missing one). */
    CudaDriver(String library) { this.library = library; }

    @Override public String name() { return "cuda"; }

    /** The bindings after {@code cuInit}, and how many devices it found. */
    private record Init(Cuda cu, int deviceCount) {}

    private Init init() {
        Cuda cu = library.equals(Cuda.LIBRARY) ? Cuda.get() : Cuda.load(library);
        int rc = cu.cuInit();
        if (rc == Cuda.ERROR_NO_DEVICE) return new Init(cu, 0); // a driver, but no GPU: no devices
        if (rc == Cuda.ERROR_STUB_LIBRARY || rc == Cuda.ERROR_OPERATING_SYSTEM || rc == Cuda.ERROR_SYSTEM_NOT_READY || rc == Cuda.ERROR_SYSTEM_DRIVER_MISMATCH
                || rc == Cuda.ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE) {
            throw new DeviceUnavailableException("CUDA driver unusable: cuInit returned " + cu.errorName(rc)
                    + " (" + rc + "); install or update the NVIDIA driver");
        }
        cu.check(rc, "cuInit");
        return new Init(cu, cu.deviceCount());
    }

    @Override
    public List<DeviceInfo> devices() {
        Init init = init();
        List<DeviceInfo> out = new ArrayList<>(init.deviceCount());
        for (int i = 0; i < init.deviceCount(); i++) out.add(info(init.cu(), i));
        return List.copyOf(out);
    }

    static DeviceInfo info(Cuda cu, int index) {
        int dev = cu.device(index);
        int major = cu.deviceAttribute(Cuda.ATTR_COMPUTE_CAPABILITY_MAJOR, dev);
        int minor = cu.deviceAttribute(Cuda.ATTR_COMPUTE_CAPABILITY_MINOR, dev);
        int v = cu.driverVersion();
        String version = "CUDA driver API " + (v / 1000) + "." + (v % 1000) / 10 + ", sm_" + major + minor;
        return new DeviceInfo("cuda", index, cu.deviceName(dev), "NVIDIA", version, cu.deviceTotalMem(dev),
                cu.deviceAttribute(Cuda.ATTR_MULTIPROCESSOR_COUNT, dev), true, true);
    }

    @Override
    public CudaContext open(int index) {
        Init init = init();
        if (index < 0 || index >= init.deviceCount()) {
            throw new IllegalArgumentException("no CUDA device " + index + ": " + init.deviceCount() + " device(s), numbered from 0");
        }
        return new CudaContext(init.cu(), info(init.cu(), index));
    }
}
