package io.nag4j.tornado.vm;

import io.nag4j.core.ir.Op;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.DeviceInfo;
import io.nag4j.gpu.device.DeviceUnavailableException;
import io.nag4j.gpu.plan.Backends;
import io.nag4j.core.bound.BoundOptimizer;
import io.nag4j.gpu.plan.Exactness;
import io.nag4j.tornado.TornadoBackends;
import io.nag4j.tornado.TornadoBridge;
import uk.ac.manchester.tornado.api.TornadoBackend;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.TornadoVMBackendType;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The TornadoVM side of the tornado backends: its settings, its devices, and binding.
 *
 * <p>TornadoVM reads its numerics switches once per JVM, when its runtime starts (static finals
 * in {@code TornadoOptions}), so this class sets them before it touches TornadoVM: bail-out to
 * plain Java off always (no silent fallback, ever), and for EXACT its FMA pass, native math
 * functions and math rewrites (rsqrt) off, unless the JVM was started with
 * {@code -Dnag4j.tornado.numerics=defaults}, which leaves TornadoVM's defaults (what
 * {@code nag4j agree --tornado-defaults} measures). A switch set on the command line is left as
 * it is, and EXACT then refuses to bind if it breaks exactness. The OpenCL build flags are set
 * per execution plan ({@code withCompilerFlags}).
 */
public final class TornadoVm implements TornadoBridge {
    private static final String NUMERICS = TornadoBackends.NUMERICS_PROPERTY;

    /** TornadoVM's switches EXACT needs off, with the option that holds each. */
    private static final Map<String, String> EXACT_OFF = new LinkedHashMap<>();

    static {
        EXACT_OFF.put("tornado.enable.fma", "ENABLE_FMA");
        EXACT_OFF.put("tornado.enable.nativeFunctions", "ENABLE_NATIVE_FUNCTION");
        EXACT_OFF.put("tornado.enable.mathOptimizations", "MATH_OPTIMIZATIONS");
        EXACT_OFF.put("tornado.enable.fastMathOptimizations", "FAST_MATH_OPTIMIZATIONS");
        System.getProperties().putIfAbsent("tornado.recover.bailout", "False");
        if (!"defaults".equalsIgnoreCase(System.getProperty(NUMERICS, "exact"))) {
            for (String p : EXACT_OFF.keySet()) System.getProperties().putIfAbsent(p, "False");
        }
    }

    /** One TornadoVM device: its backend and device numbers, as {@code TornadoExecutionPlan.getDevice} takes them. */
    record Device(int backend, int device, TornadoVMBackendType type, TornadoDevice handle, DeviceInfo info, String fp32Unknown) {}

    private List<Device> devices;

    /** Needed by {@link java.util.ServiceLoader}. */
    public TornadoVm() {}

    private synchronized List<Device> all() {
        if (devices != null) return devices;
        List<Device> out = new ArrayList<>();
        List<DeviceInfo> opencl = openClDevices();
        List<TornadoBackend> backends = TornadoExecutionPlan.getTornadoDeviceMap().getAllBackends();
        for (int b = 0; b < backends.size(); b++) {
            TornadoBackend backend = backends.get(b);
            for (int d = 0; d < backend.getNumDevices(); d++) {
                TornadoDevice dev = backend.getDevice(d);
                String name = dev.getPhysicalDevice().getDeviceName();
                TornadoVMBackendType type = backend.getBackendType();
                boolean denormals = true, divSqrt = true;
                String unknown = "";
                if (type == TornadoVMBackendType.OPENCL) {
                    // TornadoVM does not report CL_DEVICE_SINGLE_FP_CONFIG; nag4j's own OpenCL driver sees the same ICD.
                    DeviceInfo same = opencl.stream().filter(i -> i.name().equals(name)).findFirst().orElse(null);
                    if (same == null) unknown = "its fp32 support is unknown (nag4j's OpenCL driver lists no device named '" + name + "')";
                    else {
                        denormals = same.fp32Denormals();
                        divSqrt = same.correctlyRoundedDivideSqrt();
                    }
                } else if (type != TornadoVMBackendType.PTX) {
                    unknown = "TornadoVM backend " + type + " is not one nag4j knows the numerics of";
                }
                DeviceInfo info = new DeviceInfo("tornado", out.size(), name, "TornadoVM " + type + " backend " + b + " device " + d
                        + " (" + dev.getPlatformName() + ")", String.valueOf(dev.getDeviceOpenCLCVersion()),
                        dev.getPhysicalDevice().getDeviceGlobalMemorySize(), dev.getPhysicalDevice().getDeviceMaxComputeUnits(), denormals, divSqrt);
                out.add(new Device(b, d, type, dev, info, unknown));
            }
        }
        devices = List.copyOf(out);
        return devices;
    }

    private static List<DeviceInfo> openClDevices() {
        var b = Backends.get("opencl");
        try {
            return b == null ? List.of() : b.devices();
        } catch (DeviceUnavailableException e) {
            return List.of();
        }
    }

    @Override
    public List<DeviceInfo> devices(String backend) {
        List<DeviceInfo> out = new ArrayList<>();
        for (Device d : all()) {
            DeviceInfo i = d.info();
            out.add(new DeviceInfo(backend, i.index(), i.name(), i.vendor(), i.version(), i.globalMemoryBytes(), i.computeUnits(),
                    i.fp32Denormals(), i.correctlyRoundedDivideSqrt()));
        }
        return List.copyOf(out);
    }

    Device device(int index, String backend) {
        List<Device> all = all();
        if (index < 0 || index >= all.size()) {
            throw new IllegalArgumentException("no TornadoVM device " + index + "; " + backend + " has " + all.size() + " (" + backend + ":0 .. "
                    + backend + ":" + (all.size() - 1) + ")");
        }
        return all.get(index);
    }

    @Override
    public Exactness exactness(DeviceInfo info, boolean prebuilt) {
        Device d = device(info.index(), info.backend());
        Exactness e = Exactness.of(info);
        String blocker = !d.fp32Unknown().isEmpty() ? d.fp32Unknown() : prebuilt ? "" : jvmNotExact();
        if (!blocker.isEmpty()) e = new Exactness(e.device(), e.deviceLacks().isEmpty() ? blocker : e.deviceLacks() + "; " + blocker, e.inexactOps());
        if (!prebuilt) {
            e = e.withInexact(Op.FMA, "TornadoVM's JIT has no exact fma (Math.fma is inlined as double code it cannot build; its FMA pass fuses every a*b+c)");
            if (d.type() == TornadoVMBackendType.PTX) e = e.withInexact(Op.DIV, "TornadoVM's PTX divides with div.full.f32, not IEEE");
        }
        return e;
    }

    /** Why this JVM's TornadoVM switches break EXACT for the JIT path, or empty. */
    static String jvmNotExact() {
        List<String> on = new ArrayList<>();
        for (Map.Entry<String, String> s : EXACT_OFF.entrySet()) if (option(s.getValue())) on.add(s.getKey() + "=True");
        if (on.isEmpty()) return "";
        return "this JVM runs TornadoVM with " + String.join(", ", on) + " (TornadoVM reads them once per JVM; start one without -D" + NUMERICS
                + "=defaults or those flags)";
    }

    /** A boolean switch of TornadoVM's as its runtime read it (the class exists once the runtime is on the module path). */
    static boolean option(String field) {
        try {
            return Class.forName("uk.ac.manchester.tornado.runtime.common.TornadoOptions").getField(field).getBoolean(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read TornadoVM's option " + field + ": " + e, e);
        }
    }

    /** Whether this JVM was started to measure TornadoVM's own numerics ({@code nag4j agree --tornado-defaults}). */
    static boolean defaultNumerics() {
        return "defaults".equalsIgnoreCase(System.getProperty(NUMERICS));
    }

    @Override
    public BoundOptimizer bind(int device, boolean prebuilt, Rule rule, Hyperparams hp, ParamSet params, OptState state, Mode mode) {
        String backend = prebuilt ? "tornado-prebuilt" : "tornado";
        Device d = device(device, backend);
        if (option("RECOVER_BAILOUT")) {
            throw new DeviceUnavailableException("this JVM runs TornadoVM with tornado.recover.bailout=True, which would run a kernel that fails to "
                    + "compile as plain Java instead: nag4j never falls back silently; start the JVM without that flag");
        }
        if (prebuilt && d.type() != TornadoVMBackendType.OPENCL) {
            throw new DeviceUnavailableException(backend + ":" + device + " is a TornadoVM " + d.type() + " device; tornado-prebuilt hands "
                    + "TornadoVM nag4j's OpenCL C only (use --backend tornado, or nag4j's own cuda backend)");
        }
        if (!prebuilt && defaultNumerics() && jvmNotExact().isEmpty()) {
            // Asked for TornadoVM's defaults after its runtime had already read EXACT's switches: measuring now would mislead.
            throw new DeviceUnavailableException(NUMERICS + "=defaults came after TornadoVM started in this JVM with EXACT's switches "
                    + "(its FMA pass off); TornadoVM reads them once: set it before anything uses TornadoVM, or start a new JVM");
        }
        DeviceInfo info = devices(backend).get(device);
        return new TornadoOptimizer(rule, hp, params, state, mode, d, prebuilt, exactness(info, prebuilt), info.spec() + " (" + info.name() + ")");
    }
}
