package io.nag4j.gpu.opencl;

import io.nag4j.gpu.device.DeviceContext;
import io.nag4j.gpu.device.DeviceInfo;
import io.nag4j.gpu.device.DeviceUnavailableException;
import io.nag4j.gpu.device.Driver;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The OpenCL {@link Driver}: every device of every platform the ICD loader reports, numbered in
 * that order ({@code --backend opencl:N}). Compiled programs are cached in memory per context
 * and on disk under {@link ProgramCache#defaultDir()}.
 */
public final class OpenClDriver implements Driver {
    private final Supplier<OpenCl> cl;
    private final Supplier<Path> cacheDir;

    /** Binds {@code libOpenCL.so.1} on first use; caches programs under {@link ProgramCache#defaultDir()}. */
    public OpenClDriver() {
        this(OpenCl::get, ProgramCache::defaultDir);
    }

    /**
     * @param cl       the bindings (called on first use; may throw {@link DeviceUnavailableException})
     * @param cacheDir the on-disk program cache directory, or a supplier of null for none
     */
    public OpenClDriver(Supplier<OpenCl> cl, Supplier<Path> cacheDir) {
        this.cl = cl;
        this.cacheDir = cacheDir;
    }

    @Override
    public String name() { return "opencl"; }

    @Override
    public List<DeviceInfo> devices() {
        return enumerate().stream().map(OpenClDevice::info).toList();
    }

    @Override
    public DeviceContext open(int index) {
        List<OpenClDevice> all = enumerate();
        if (index < 0 || index >= all.size()) {
            throw new IllegalArgumentException("no OpenCL device " + index + "; there " + (all.size() == 1 ? "is 1 device" : "are " + all.size() + " devices")
                    + " (opencl:0" + (all.size() > 1 ? " .. opencl:" + (all.size() - 1) : "") + ")");
        }
        return new OpenClContext(cl.get(), all.get(index), new ProgramCache(cacheDir.get()));
    }

    /** One device with the native handles a context needs. */
    record OpenClDevice(DeviceInfo info, MemorySegment platform, MemorySegment device, String platformName,
                        String driverVersion, boolean openCl2) {
        /** What identifies the compiler that built a binary: part of the program cache key. */
        String identity() {
            return platformName + "|" + info.name() + "|" + info.vendor() + "|" + info.version() + "|" + driverVersion;
        }
    }

    List<OpenClDevice> enumerate() {
        OpenCl api = cl.get();
        List<MemorySegment> platforms = api.platforms();
        if (platforms.isEmpty()) {
            throw new DeviceUnavailableException("no OpenCL platform: the ICD loader found none (install one, e.g. "
                    + "apt-get install pocl-opencl-icd, and check /etc/OpenCL/vendors)");
        }
        List<OpenClDevice> out = new ArrayList<>();
        for (MemorySegment p : platforms) {
            String platformName = api.platformString(p, OpenCl.CL_PLATFORM_NAME);
            boolean cl2 = openCl2(api.platformString(p, OpenCl.CL_PLATFORM_VERSION));
            for (MemorySegment d : api.devices(p)) {
                long fp = api.deviceLong(d, OpenCl.CL_DEVICE_SINGLE_FP_CONFIG, 8);
                DeviceInfo info = new DeviceInfo("opencl", out.size(),
                        api.deviceString(d, OpenCl.CL_DEVICE_NAME),
                        api.deviceString(d, OpenCl.CL_DEVICE_VENDOR),
                        api.deviceString(d, OpenCl.CL_DEVICE_VERSION),
                        api.deviceLong(d, OpenCl.CL_DEVICE_GLOBAL_MEM_SIZE, 8),
                        (int) api.deviceLong(d, OpenCl.CL_DEVICE_MAX_COMPUTE_UNITS, 4),
                        (fp & OpenCl.CL_FP_DENORM) != 0,
                        (fp & OpenCl.CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0);
                out.add(new OpenClDevice(info, p, d, platformName, api.deviceString(d, OpenCl.CL_DRIVER_VERSION), cl2));
            }
        }
        if (out.isEmpty()) throw new DeviceUnavailableException("OpenCL platforms " + platforms.size() + " found, but no device");
        return out;
    }

    /** Whether a platform version string ("OpenCL 3.0 ...") is 2.0 or newer. */
    static boolean openCl2(String version) {
        String[] w = version.split("\\s+");
        if (w.length < 2) return false;
        try {
            return Integer.parseInt(w[1].substring(0, w[1].indexOf('.'))) >= 2;
        } catch (RuntimeException e) {
            return false;
        }
    }
}
