package io.nag4j.bench.hardening;

import io.nag4j.core.cpu.CpuBackend;
import io.nag4j.core.fuzz.Fuzzer;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.CompiledKernel;
import io.nag4j.gpu.device.DeviceBuffer;
import io.nag4j.gpu.device.DeviceContext;
import io.nag4j.gpu.device.DeviceUnavailableException;
import io.nag4j.gpu.opencl.OpenCl;
import io.nag4j.gpu.opencl.OpenClDriver;
import io.nag4j.gpu.plan.Drivers;
import io.nag4j.gpu.plan.Exactness;
import io.nag4j.gpu.ptx.PtxInterpreter;
import io.nag4j.gpu.ptx.PtxRenderer;
import io.nag4j.gpu.ptx.Ptxas;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The targets {@code nag4j fuzz} holds against the reference evaluator, by name: {@code cpu-scalar}
 * and {@code cpu-vector} (the CPU backend's two lowerings), {@code opencl[:N]} and {@code cuda[:N]}
 * (a device, EXACT), {@code ptx} (the PTX interpreter on the EXACT PTX) and the check {@code ptxas}
 * (the EXACT PTX assembles for every {@link Ptxas#ARCHS arch}). Each owns what it opens; close it.
 */
final class FuzzTargets implements AutoCloseable {
    static final List<String> ALL = List.of("cpu-scalar", "cpu-vector", "opencl:0", "ptx", "ptxas");

    final List<Fuzzer.Target> targets = new ArrayList<>();
    final List<Fuzzer.Check> checks = new ArrayList<>();
    private final List<AutoCloseable> owned = new ArrayList<>();

    /**
     * @throws DeviceUnavailableException naming the target when one cannot run here
     * @throws IllegalArgumentException   for an unknown name
     */
    void add(String spec) {
        String name = spec.strip().toLowerCase(java.util.Locale.ROOT);
        switch (name) {
            case "cpu-scalar" -> cpu(name, false);
            case "cpu-vector" -> {
                if (!CpuBackend.vectorAvailable()) throw new DeviceUnavailableException("fuzz target cpu-vector: jdk.incubator.vector is not in this JVM");
                cpu(name, true);
            }
            case "ptx" -> targets.add(new Fuzzer.Target() {
                @Override public String name() { return "ptx"; }
                @Override public void run(Kernel k, float[][] data, float[] scalars) { PtxInterpreter.run(PtxRenderer.render(k, Mode.EXACT), Mode.EXACT, data, scalars); }
            });
            case "ptxas" -> {
                Path ptxas = Ptxas.find();
                if (ptxas == null) throw new DeviceUnavailableException("fuzz check ptxas: ptxas is not on the PATH");
                checks.add(new Fuzzer.Check() {
                    @Override public String name() { return "ptxas"; }

                    @Override
                    public void check(Kernel k) {
                        String ptx = PtxRenderer.render(k, Mode.EXACT);
                        for (String arch : Ptxas.ARCHS) Ptxas.assemble(ptxas, ptx, arch, k.name());
                    }
                });
            }
            default -> {
                if (name.startsWith("cpu") || name.equals("evaluator")) throw new IllegalArgumentException(unknown(spec));
                Drivers.Spec s;
                try {
                    s = Drivers.parseSpec(name);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(unknown(spec));
                }
                if (!Drivers.isRegistered(s.driver())) throw new IllegalArgumentException(unknown(spec));
                // OpenCL without the on-disk program cache: thousands of throwaway kernels would fill it.
                Supplier<DeviceContext> open = s.driver().equals("opencl")
                        ? () -> new OpenClDriver(OpenCl::get, () -> null).open(s.index())
                        : () -> Drivers.get(s.driver()).open(s.index());
                targets.add(own(new DeviceTarget(s.toString(), open)));
            }
        }
    }

    private static String unknown(String spec) {
        return "unknown fuzz target '" + spec + "'; known: cpu-scalar, cpu-vector, opencl[:N], cuda[:N], ptx, ptxas";
    }

    private void cpu(String name, boolean vector) {
        CpuBackend b = own(CpuBackend.singleThread(vector));
        targets.add(Fuzzer.target(name, b));
    }

    private <T extends AutoCloseable> T own(T t) {
        owned.add(t);
        return t;
    }

    @Override
    public void close() {
        for (AutoCloseable c : owned.reversed()) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing what the fuzzer opened: nothing to lose
            }
        }
    }

    /**
     * A device through its {@link DeviceContext}: each program compiled in EXACT mode, its columns
     * copied in, one launch, copied out. The context is reopened every {@link #REOPEN} kernels, so
     * a long run does not keep thousands of compiled programs.
     */
    static final class DeviceTarget implements Fuzzer.Target, AutoCloseable {
        static final int REOPEN = 64;
        private final String name;
        private final Supplier<DeviceContext> open;
        private DeviceContext ctx;
        private int compiled;

        DeviceTarget(String name, Supplier<DeviceContext> open) {
            this.name = name;
            this.open = open;
            this.ctx = open.get();
            Exactness e = Exactness.of(ctx.info());
            if (!e.complete()) {
                ctx.close();
                throw new DeviceUnavailableException("fuzz target " + name + " cannot run EXACT kernels: " + e.summary());
            }
        }

        @Override public String name() { return name; }

        @Override
        public void run(Kernel k, float[][] data, float[] scalars) {
            if (compiled++ >= REOPEN) {
                ctx.close();
                ctx = open.get();
                compiled = 1;
            }
            CompiledKernel ck = ctx.compile(k, Mode.EXACT);
            int n = data.length == 0 ? 0 : data[0].length;
            List<DeviceBuffer> bufs = new ArrayList<>();
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment[] host = new MemorySegment[data.length];
                for (int i = 0; i < data.length; i++) {
                    host[i] = arena.allocateFrom(ValueLayout.JAVA_FLOAT, data[i]);
                    DeviceBuffer b = ctx.allocate(k.inputs().get(i), 4L * n);
                    bufs.add(b);
                    ctx.copyIn(b, 0, host[i], true);
                }
                ctx.launch(ck, n, bufs, scalars);
                ctx.finish();
                for (int i = 0; i < data.length; i++) {
                    ctx.copyOut(bufs.get(i), 0, host[i]);
                    data[i] = host[i].toArray(ValueLayout.JAVA_FLOAT);
                }
            } finally {
                for (DeviceBuffer b : bufs) b.close();
            }
        }

        @Override
        public void close() { ctx.close(); }
    }
}
