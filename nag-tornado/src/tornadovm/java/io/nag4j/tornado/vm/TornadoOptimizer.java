package io.nag4j.tornado.vm;

import io.nag4j.core.ir.Kernel;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.opencl.OpenClRenderer;
import io.nag4j.core.bound.BoundOptimizer;
import io.nag4j.gpu.plan.Exactness;
import io.nag4j.gpu.plan.PackedBinding;
import io.nag4j.gpu.plan.TaskFailedException;
import io.nag4j.tornado.TornadoKernelRenderer;
import io.nag4j.tornado.TornadoOpenClRenderer;
import uk.ac.manchester.tornado.api.AccessorParameters;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.TornadoExecutionResult;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.common.Access;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.enums.TornadoVMBackendType;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.LongArray;
import uk.ac.manchester.tornado.api.types.arrays.TornadoNativeArray;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.InvocationTargetException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * An optimizer bound to a ParamSet on one TornadoVM device, through a real TornadoVM task graph:
 *
 * <pre>
 * TaskGraph(nag4j_RULE)
 *   transferToDevice FIRST_EXECUTION  param, state slots      (resident from the first step on)
 *   transferToDevice EVERY_EXECUTION  update, scalars         (the step's updates and hyperparameters: data, so a schedule never recompiles)
 *   task "step"                        the whole packed ParamSet, one thread per element
 *   transferToHost   UNDER_DEMAND     param, state slots      (read back only when asked)
 * </pre>
 *
 * one {@code ImmutableTaskGraph} in one {@code TornadoExecutionPlan}, owned by this binding. The
 * task is TornadoVM's JIT on the Java kernel {@link TornadoKernelRenderer} writes, or (prebuilt)
 * nag4j's OpenCL C with TornadoVM's calling convention. The packing, checks and step counting are
 * the ones {@link io.nag4j.gpu.plan.DeviceOptimizer} uses ({@link PackedBinding}). Binding
 * compiles, so a kernel the device cannot build fails here, naming the rule, device and reason.
 * Not thread-safe; use after close throws {@link IllegalStateException}.
 */
final class TornadoOptimizer implements BoundOptimizer {
    private static final String TASK = "step";

    private final Rule rule;
    private final Hyperparams hp;
    private final PackedBinding packed;
    private final String where;
    private final String label;
    private final FloatArray[] inputs;
    private final FloatArray scalars;
    /** Each rule slot's host array: a kernel input's, or (a slot the kernel never touches) one kept as bound. */
    private final FloatArray[] stateHost;
    private final float[] stepScalars;
    private final float[] hostScratch;
    private FloatArray zeros;
    private final TornadoExecutionPlan plan;
    private final Path prebuiltSource;
    private TornadoExecutionResult result;
    private boolean closed;

    TornadoOptimizer(Rule rule, Hyperparams hp, ParamSet params, OptState initial, Mode mode, TornadoVm.Device device, boolean prebuilt,
                     Exactness exactness, String where) {
        this.rule = rule;
        this.hp = hp;
        this.where = where;
        this.packed = new PackedBinding(rule, hp, params, initial);
        Kernel kernel = packed.kernel();
        this.label = rule.name() + " on " + where;
        // Measuring TornadoVM's own numerics (its JIT with its default switches) promises nothing: no check, its default flags.
        boolean tornadoNumerics = !prebuilt && TornadoVm.defaultNumerics();
        if (!tornadoNumerics) exactness.require(kernel, mode, label);
        if (packed.total() > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("the ParamSet has " + packed.total() + " elements; TornadoVM's arrays are int-indexed (at most "
                    + (Integer.MAX_VALUE - 64) + ")");
        }
        int n = (int) packed.total();
        int len = Math.max(1, n); // TornadoVM refuses empty arrays; an empty ParamSet never launches
        List<String> slots = kernel.slots(); // the slots the flags' kernel streams
        inputs = new FloatArray[kernel.inputs().size()];
        for (int i = 0; i < inputs.length; i++) {
            inputs[i] = new FloatArray(len);
            inputs[i].getSegment().fill((byte) 0); // a zero state at init
        }
        packed.pack(params, inputs[Kernel.PARAM].getSegment());
        // Every slot of the rule, for readState(): the kernel's on the device, the others kept on the host as bound.
        stateHost = new FloatArray[rule.slots().size()];
        for (int s = 0; s < stateHost.length; s++) {
            String slot = rule.slots().get(s);
            int k = slots.indexOf(slot);
            if (k >= 0) stateHost[s] = inputs[2 + k];
            else if (initial != null || zeros == null) stateHost[s] = zerosOrNew(len, initial != null);
            else stateHost[s] = zeros;
            if (initial != null) packed.pack(initial.slot(slot), stateHost[s].getSegment());
            else if (k >= 0 && OptState.startsAsParams(rule, slot)) {
                packed.pack(params, stateHost[s].getSegment()); // the master starts as the params
            }
        }
        scalars = new FloatArray(Math.max(1, TornadoKernelRenderer.scalarSlots(kernel)));
        stepScalars = new float[kernel.scalars().size()];
        hostScratch = new float[kernel.scalars().size() - hp.size()];
        List<Integer> spilled = TornadoKernelRenderer.spilledConstants(kernel);
        for (int c = 0; c < spilled.size(); c++) {
            // Raw bits, so a NaN keeps its payload: these are the kernel's constants, not values to compute with.
            scalars.getSegment().setAtIndex(ValueLayout.JAVA_INT, kernel.scalars().size() + c, spilled.get(c));
        }

        String graphName = "nag4j_" + TornadoKernelRenderer.className(kernel, mode).substring("Nag4j_".length());
        FloatArray[] resident = new FloatArray[1 + slots.size()];
        resident[0] = inputs[Kernel.PARAM];
        for (int s = 0; s < slots.size(); s++) resident[1 + s] = inputs[2 + s];
        TaskGraph g = new TaskGraph(graphName)
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, (Object[]) resident)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, inputs[Kernel.UPDATE], scalars);
        Path source = null;
        try {
            if (prebuilt) {
                source = Files.createTempFile("nag4j-" + rule.name().replaceAll("[^A-Za-z0-9_-]", "_") + "-", ".cl");
                Files.writeString(source, TornadoOpenClRenderer.render(kernel, mode));
                Set<Integer> written = OpenClRenderer.written(kernel);
                boolean random = kernel.usesRandom();
                AccessorParameters access = new AccessorParameters(inputs.length + (random ? 2 : 1));
                for (int i = 0; i < inputs.length; i++) access.set(i, inputs[i], written.contains(i) ? Access.READ_WRITE : Access.READ_ONLY);
                if (random) {
                    // random's tensor table [T, start_0, ..., start_{T-1}] (Kernel's class comment), sent once
                    LongArray table = LongArray.fromArray(packed.tensorTable());
                    g.transferToDevice(DataTransferMode.FIRST_EXECUTION, table);
                    access.set(inputs.length, table, Access.READ_ONLY);
                }
                access.set(inputs.length + (random ? 1 : 0), scalars, Access.READ_ONLY);
                g.prebuiltTask(TASK, TornadoOpenClRenderer.kernelName(kernel), source.toString(), access);
            } else {
                Class<?> k = JavaKernels.load(kernel, mode);
                g = (TaskGraph) k.getMethod("addTask", TaskGraph.class, String.class, KernelContext.class, FloatArray[].class, FloatArray.class, int.class)
                        .invoke(null, g, TASK, new KernelContext(), inputs, scalars, n);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the prebuilt kernel for " + label, e);
        } catch (ReflectiveOperationException e) {
            Throwable c = e instanceof InvocationTargetException ite ? ite.getCause() : e;
            throw new TaskFailedException(graphName + "." + TASK, where, "cannot add rule '" + rule.name() + "' to a TornadoVM task graph: " + c, c);
        }
        this.prebuiltSource = source;
        g.transferToHost(DataTransferMode.UNDER_DEMAND, (Object[]) resident);

        TornadoExecutionPlan p = new TornadoExecutionPlan(g.snapshot());
        try {
            p.withDevice(device.handle()).withGridScheduler(new GridScheduler(graphName + "." + TASK, new WorkerGrid1D(len)));
            if (device.type() == TornadoVMBackendType.OPENCL) {
                if (prebuilt) {
                    p.withCompilerFlags(TornadoVMBackendType.OPENCL, TornadoOpenClRenderer.buildOptions(mode, TornadoNativeArray.ARRAY_HEADER, n));
                } else if (!tornadoNumerics) {
                    // TornadoVM's default flags are -cl-mad-enable -cl-fast-relaxed-math: both modes ask for IEEE divide and sqrt, nothing else.
                    p.withCompilerFlags(TornadoVMBackendType.OPENCL, OpenClRenderer.buildOptions(mode) + " -w");
                }
            }
            // Compiles now, so a device that cannot build the kernel fails the bind; nothing runs yet.
            if (n > 0) p.withPreCompilation();
        } catch (RuntimeException e) {
            closeQuietly(p);
            deleteSource(source);
            throw new TaskFailedException(graphName + "." + TASK, where, "TornadoVM cannot compile rule '" + rule.name() + "' on " + where + ": "
                    + rootMessage(e), e);
        }
        this.plan = p;
    }

    /** A new zeroed array, or (when {@code own} is false) the one shared zero array for untouched slots. */
    private FloatArray zerosOrNew(int len, boolean own) {
        FloatArray a = new FloatArray(len);
        a.getSegment().fill((byte) 0);
        if (!own) zeros = a;
        return a;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        String m = t.getMessage() == null ? t.getClass().getName() : t.getMessage();
        return m.replaceAll("\u001b\\[[0-9;]*m", "");
    }

    @Override public String where() { return where; }

    @Override public Hyperparams hyperparams() { return hp; }

    @Override public Hyperparams lastStepHyperparams() { return packed.lastStepHyperparams(); }

    /** Elements over all tensors: the one task's size. */
    long elementCount() { return packed.total(); }

    @Override
    public synchronized void step(ParamSet updates, Hyperparams hp) {
        checkOpen();
        packed.checkUpdates(updates);
        long t = packed.nextStep(hp, where);
        float[] sc = rule.scalars(t, hp, stepScalars, hostScratch);
        if (packed.total() > 0) {
            packed.pack(updates, inputs[Kernel.UPDATE].getSegment());
            for (int i = 0; i < sc.length; i++) scalars.set(i, sc[i]);
            try {
                result = plan.execute();
            } catch (RuntimeException e) {
                throw new TaskFailedException(label, where, "TornadoVM failed to run rule '" + rule.name() + "' on " + where + ": " + rootMessage(e), e);
            }
        }
        packed.stepped(t);
    }

    @Override
    public synchronized ParamSet readParams() {
        checkOpen();
        if (result != null) result.transferToHost(inputs[Kernel.PARAM]);
        return packed.unpack(inputs[Kernel.PARAM].getSegment());
    }

    @Override
    public synchronized void readParamsInto(ParamSet dst) {
        checkOpen();
        if (result != null) result.transferToHost(inputs[Kernel.PARAM]);
        packed.unpackInto(inputs[Kernel.PARAM].getSegment(), dst);
    }

    @Override
    public synchronized void readParamInto(String name, io.nag4j.core.tensor.Tensor dst) {
        checkOpen();
        if (result != null) result.transferToHost(inputs[Kernel.PARAM]);
        packed.unpackInto(inputs[Kernel.PARAM].getSegment(), name, dst);
    }

    @Override
    public synchronized OptState readState() {
        checkOpen();
        if (result != null) for (int k = 2; k < inputs.length; k++) result.transferToHost(inputs[k]);
        return packed.unpackState(s -> stateHost[s].getSegment());
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("the tornado optimizer on " + where + " is closed");
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        closeQuietly(plan);
        deleteSource(prebuiltSource);
    }

    private static void closeQuietly(TornadoExecutionPlan p) {
        try {
            p.close();
        } catch (Exception e) {
            System.getLogger(TornadoOptimizer.class.getName()).log(System.Logger.Level.WARNING, "freeing TornadoVM device memory failed: " + e);
        }
    }

    private static void deleteSource(Path p) {
        if (p == null) return;
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a leftover temporary file, nothing more
        }
    }

    @Override
    public String toString() {
        return "TornadoOptimizer[" + rule.name() + " on " + where + ", " + packed.names().size() + " tensors, " + packed.total() + " elements, step "
                + packed.step() + "]";
    }
}
