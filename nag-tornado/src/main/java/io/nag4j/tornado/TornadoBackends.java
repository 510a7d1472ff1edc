package io.nag4j.tornado;

import io.nag4j.core.optim.OptState;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.DeviceInfo;
import io.nag4j.gpu.device.DeviceUnavailableException;
import io.nag4j.gpu.plan.Backend;
import io.nag4j.core.bound.BoundOptimizer;
import io.nag4j.gpu.plan.Exactness;

import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * The two TornadoVM backends, registered as {@link Backend} services:
 * {@code tornado[:N]} (TornadoVM's JIT compiles the Java kernel {@link TornadoKernelRenderer}
 * writes from the IR) and {@code tornado-prebuilt[:N]} (nag4j's own OpenCL C handed to
 * TornadoVM's {@code prebuiltTask}). N indexes TornadoVM's devices as {@code nag4j devices} lists
 * them. Where TornadoVM cannot run here, both are listed and say why.
 */
public final class TornadoBackends {
    /**
     * The system property choosing TornadoVM's JVM-wide numerics, read once when TornadoVM starts:
     * {@code exact} (the default: its FMA pass, native functions and math rewrites off) or
     * {@code defaults} (TornadoVM as it ships; {@code nag4j agree --tornado-defaults} sets it).
     */
    public static final String NUMERICS_PROPERTY = "nag4j.tornado.numerics";

    private TornadoBackends() {}

    private static final String NOT_STARTED_WITH_FLAGS = "this JVM was not started with TornadoVM's flags (./nag4j adds them when "
            + "TORNADOVM_HOME is set and a tornado backend is asked for; your own program needs java @ARGFILE, see docs/tornado.md): ";

    /** The bridge, or why there is none; decided once per JVM. */
    private static final class Bridge {
        static final TornadoBridge BRIDGE;
        static final String WHY_NOT;

        static {
            TornadoBridge b = null;
            String why = null;
            if (System.getenv("TORNADOVM_HOME") == null) {
                why = "TORNADOVM_HOME is not set: point it at a TornadoVM 5.2 SDK (see docs/tornado.md)";
            } else if (System.getProperty("tornado.load.api.implementation") == null) {
                // TornadoVM's argfile names its runtime classes in properties; without them its API fails on first use.
                why = NOT_STARTED_WITH_FLAGS + "tornado.load.api.implementation is not set";
            } else {
                try {
                    b = ServiceLoader.load(TornadoBridge.class, TornadoBackends.class.getClassLoader()).findFirst().orElse(null);
                    if (b == null) {
                        why = "this nag4j was built without TornadoVM support (TORNADOVM_HOME was not set when it was built): rebuild it with TORNADOVM_HOME set";
                    }
                } catch (ServiceConfigurationError | LinkageError e) {
                    why = NOT_STARTED_WITH_FLAGS + rootMessage(e);
                }
            }
            BRIDGE = b;
            WHY_NOT = why;
        }

        static TornadoBridge get() {
            if (BRIDGE == null) throw new DeviceUnavailableException(WHY_NOT);
            return BRIDGE;
        }
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }

    private abstract static class Base implements Backend {
        private final boolean prebuilt;

        Base(boolean prebuilt) { this.prebuilt = prebuilt; }

        @Override
        public List<DeviceInfo> devices() {
            try {
                return Bridge.get().devices(name());
            } catch (DeviceUnavailableException e) {
                throw e;
            } catch (RuntimeException | LinkageError e) {
                throw new DeviceUnavailableException("TornadoVM cannot start: " + rootMessage(e), e);
            }
        }

        @Override
        public Exactness exactness(DeviceInfo device) { return Bridge.get().exactness(device, prebuilt); }

        @Override
        public BoundOptimizer bind(int device, Rule rule, Hyperparams hp, ParamSet params, OptState state, Mode mode) {
            return Bridge.get().bind(device, prebuilt, rule, hp, params, state, mode);
        }
    }

    /** {@code tornado}: TornadoVM's own compiler makes the device code from nag4j's Java kernel. */
    public static final class Jit extends Base {
        public Jit() { super(false); }
        @Override public String name() { return "tornado"; }
        @Override public String describe() { return "TornadoVM's JIT compiling nag4j's Java kernel, in TornadoVM task graphs"; }
    }

    /** {@code tornado-prebuilt}: nag4j's own OpenCL C run as a TornadoVM prebuilt task. */
    public static final class Prebuilt extends Base {
        public Prebuilt() { super(true); }
        @Override public String name() { return "tornado-prebuilt"; }
        @Override public String describe() { return "nag4j's own OpenCL C as a TornadoVM prebuilt task, in TornadoVM task graphs"; }
    }
}
