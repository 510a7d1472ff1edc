package io.nag4j.gpu.plan;

import io.nag4j.core.bound.BoundOptimizer;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.DeviceBuffer;
import io.nag4j.gpu.device.Driver;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * An optimizer bound to a ParamSet on one device: the user's entry point.
 *
 * <pre>{@code
 * try (DeviceOptimizer opt = DeviceOptimizer.bind(Nag.INSTANCE, Nag.INSTANCE.defaults(), params, driver, 0, Mode.EXACT)) {
 *     for (...) opt.step(updates);                 // sends only the updates; one launch
 *     try (ParamSet now = opt.readParams(); OptState st = opt.readState()) { save(now, st); }
 * }
 * }</pre>
 *
 * <p>The whole ParamSet is packed: one device buffer per kernel input (param, update, each state
 * slot the kernel streams), every tensor at its offset in it. The kernel is traced for the bound
 * hyperparameters' {@link Rule#flags() flags}, which are then fixed: a step that would change
 * one is refused, naming it; a slot the kernel does not use stays on the host as bound. The kernel is elementwise and all tensors share the
 * hyperparameters, so one launch over the total element count steps every tensor. The step is a
 * {@link TaskGraph} run by an {@link ExecutionPlan}: params and state are copied in on the first
 * execution only (FIRST_EXECUTION) and stay on the device; the updates, packed into one reusable
 * host staging segment, are copied in on every execution (EVERY_EXECUTION); params and state come
 * back only when read (UNDER_DEMAND). The hyperparameters and host values of each step are the
 * kernel's scalar arguments, so a schedule never recompiles.
 *
 * <p>Binding opens the device and compiles the kernel, so a device that cannot run the rule as
 * asked (EXACT on a device that is not bit-exact) fails here, with {@link TaskFailedException}.
 * A step checks everything before it changes anything. Not thread-safe; closing frees the
 * device memory, and any use afterwards throws {@link IllegalStateException}.
 */
public final class DeviceOptimizer implements BoundOptimizer {
    static final String PARAM = "param";
    static final String UPDATE = "update";
    static final String STATE = "state.";
    /** The device buffer of random's tensor table, for kernels that round stochastically. */
    static final String TENSORS = "tensors";
    private static final long PAGE = 4096;

    private final Rule rule;
    private final Hyperparams hp;
    private final PackedBinding packed;
    private final long total;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment paramsHost;
    private final MemorySegment updatesHost;
    private final MemorySegment[] slotsHost;
    private final ExecutionPlan plan;
    private final String where;

    /** The state slots the kernel streams (the flags' choice); the others stay in {@link #slotsHost} as they were. */
    private final List<String> deviceSlots;
    /** Each step's scalars, rewritten in place: the plan reads them at launch. */
    private final float[] scalars;
    /** How the param buffer stores values: float32, or a 16-bit param's pattern (mixed precision). */
    private final io.nag4j.core.ir.Storage paramStorage;
    private final float[] hostScratch;
    private ExecutionResult result;
    private boolean closed;
    private MemorySegment zeros;

    /** Binds {@code rule} to a copy of {@code params} on device {@code deviceIndex} of {@code driver}, state zero. */
    public static DeviceOptimizer bind(Rule rule, Hyperparams hp, ParamSet params, Driver driver, int deviceIndex, Mode mode) {
        return bind(rule, hp, params, driver, deviceIndex, mode, null);
    }

    /**
     * As {@link #bind(Rule, Hyperparams, ParamSet, Driver, int, Mode)}, resuming from
     * {@code initial} (a checkpoint) if it is not null. The caller keeps ownership of
     * {@code params} and {@code initial}: both are copied.
     *
     * @throws IllegalArgumentException   if the hyperparameters, params or state are unusable (the message names the culprit)
     * @throws TaskFailedException        if the device cannot run the rule's kernel in {@code mode}
     * @throws io.nag4j.gpu.device.DeviceUnavailableException if the device cannot be opened
     */
    public static DeviceOptimizer bind(Rule rule, Hyperparams hp, ParamSet params, Driver driver, int deviceIndex, Mode mode,
                                       OptState initial) {
        Objects.requireNonNull(rule, "rule");
        Objects.requireNonNull(driver, "driver");
        Objects.requireNonNull(mode, "mode");
        return new DeviceOptimizer(rule, hp, new PackedBinding(rule, hp, params, initial), params, driver, deviceIndex, mode, initial);
    }

    private DeviceOptimizer(Rule rule, Hyperparams hp, PackedBinding packed, ParamSet params, Driver driver, int deviceIndex, Mode mode,
                            OptState initial) {
        this.rule = rule;
        this.hp = hp;
        this.packed = packed;
        this.total = packed.total();
        Kernel kernel = packed.kernel();
        List<String> slots = rule.slots();
        this.deviceSlots = kernel.slots();
        this.paramStorage = kernel.storage(Kernel.PARAM);
        checkFits(driver, deviceIndex, packed.total(), kernel, rule);
        this.scalars = new float[kernel.scalars().size()];
        this.hostScratch = new float[kernel.scalars().size() - hp.size()];
        ExecutionPlan p = null;
        try {
            paramsHost = hostSegment(Tensor.ALIGNMENT, paramStorage.bytes()); // a 16-bit param: 2 bytes per element
            updatesHost = hostSegment(PAGE); // page-locked by CUDA (copied every step): whole pages of its own
            slotsHost = new MemorySegment[slots.size()];
            packed.pack(params, paramsHost, paramStorage);
            TaskGraph g = new TaskGraph(rule.name())
                    .transferToDevice(TransferMode.FIRST_EXECUTION, PARAM, paramsHost)
                    .transferToDevice(TransferMode.EVERY_EXECUTION, UPDATE, updatesHost);
            List<String> args = new ArrayList<>(List.of(PARAM, UPDATE));
            for (int s = 0; s < slots.size(); s++) {
                String slot = slots.get(s);
                boolean used = deviceSlots.contains(slot);
                // A slot the kernel never touches stays on the host as it was (zero, or the checkpoint's).
                if (!used && initial == null) continue;
                slotsHost[s] = hostSegment(); // zero: the state at init
                if (initial != null) packed.pack(initial.slot(slot), slotsHost[s]);
                else if (OptState.startsAsParams(rule, slot)) packed.pack(params, slotsHost[s]); // the master starts as the params
                if (!used) continue;
                g.transferToDevice(TransferMode.FIRST_EXECUTION, STATE + slot, slotsHost[s]);
                args.add(STATE + slot);
            }
            if (kernel.usesRandom()) {
                long[] t = packed.tensorTable(); // where each packed element is, for random's counter
                MemorySegment table = arena.allocate(8L * t.length, 64);
                MemorySegment.copy(t, 0, table, ValueLayout.JAVA_LONG, 0, t.length);
                g.transferToDevice(TransferMode.FIRST_EXECUTION, TENSORS, table);
                args.add(TENSORS);
            }
            g.task("step", kernel, mode, total, args, () -> scalars);
            g.transferToHost(TransferMode.UNDER_DEMAND, PARAM, paramsHost);
            for (String slot : deviceSlots) g.transferToHost(TransferMode.UNDER_DEMAND, STATE + slot, slotsHost[slots.indexOf(slot)]);
            p = new ExecutionPlan(g.snapshot());
            p.withDevice(driver, deviceIndex).withWarmUp(); // opens and compiles now: a device that cannot run it fails the bind
            this.plan = p;
        } catch (RuntimeException | Error e) {
            if (p != null) p.close();
            arena.close();
            throw e;
        }
        this.where = plan.device().spec() + " (" + plan.device().name() + ")";
    }

    /**
     * Refuses, before anything is allocated, a binding whose buffers (one per kernel input) need
     * more memory than the device has: a clear error naming both, instead of an allocation failure
     * half-way through the bind.
     */
    private static void checkFits(Driver driver, int deviceIndex, long elements, Kernel kernel, Rule rule) {
        List<io.nag4j.gpu.device.DeviceInfo> devices = driver.devices();
        if (deviceIndex < 0 || deviceIndex >= devices.size()) return; // opening the device reports it
        io.nag4j.gpu.device.DeviceInfo d = devices.get(deviceIndex);
        long perElement = 0;
        for (io.nag4j.core.ir.Storage st : kernel.storage()) perElement += st.bytes();
        long need;
        try {
            need = Math.multiplyExact(elements, perElement);
        } catch (ArithmeticException e) {
            need = Long.MAX_VALUE;
        }
        if (d.globalMemoryBytes() > 0 && need > d.globalMemoryBytes()) {
            throw new IllegalArgumentException(rule.name() + " over " + elements + " elements needs " + kernel.inputs().size() + " device buffers of "
                    + perElement + " bytes per element in all (" + need + " bytes), more than " + d.spec() + " (" + d.name() + ") has: "
                    + d.globalMemoryBytes() + " bytes");
        }
    }

    private MemorySegment hostSegment() { return hostSegment(Tensor.ALIGNMENT); }

    /** Zeros the size of a slot, for a slot the kernel never touched and no checkpoint filled. */
    private MemorySegment zeros() {
        if (zeros == null) zeros = hostSegment();
        return zeros;
    }

    private MemorySegment hostSegment(long alignment) { return hostSegment(alignment, Float.BYTES); }

    private MemorySegment hostSegment(long alignment, int elementBytes) {
        long bytes = total * elementBytes;
        long size = (Math.max(Float.BYTES, bytes) + alignment - 1) / alignment * alignment;
        return arena.allocate(size, alignment).asSlice(0, bytes);
    }

    @Override
    public String where() { return where; }

    @Override
    public Hyperparams hyperparams() { return hp; }

    @Override
    public Hyperparams lastStepHyperparams() { return packed.lastStepHyperparams(); }

    /**
     * One step: checks {@code updates} (same count and shapes as the params) and {@code hp},
     * packs the updates and copies them to the device in one copy, launches once, and counts
     * the step. A failed check changes nothing.
     */
    @Override
    public synchronized void step(ParamSet updates, Hyperparams hp) {
        checkOpen();
        packed.checkUpdates(updates);
        long t = packed.nextStep(hp, where);
        packed.pack(updates, updatesHost);
        rule.scalars(t, hp, scalars, hostScratch);
        result = plan.execute();
        packed.stepped(t);
    }

    /**
     * One step with updates already on the device, packed as the params are (see
     * {@link #offset(int)}), in a buffer from {@link #allocateDeviceUpdates()}.
     */
    public synchronized void step(DeviceBuffer updatesOnDevice, Hyperparams hp) {
        checkOpen();
        Objects.requireNonNull(updatesOnDevice, "device updates");
        long t = packed.nextStep(hp, where);
        rule.scalars(t, hp, scalars, hostScratch);
        result = plan.executeWith(UPDATE, updatesOnDevice);
        packed.stepped(t);
    }

    /** A device buffer for packed updates, owned by this optimizer, for {@link #step(DeviceBuffer, Hyperparams)}. */
    public DeviceBuffer allocateDeviceUpdates() {
        checkOpen();
        return plan.allocate("device-updates", Math.max(Float.BYTES, total * Float.BYTES));
    }

    /** Packs {@code updates} into {@code dst} (from {@link #allocateDeviceUpdates()}), a blocking copy. */
    public synchronized void copyToDevice(ParamSet updates, DeviceBuffer dst) {
        checkOpen();
        packed.checkUpdates(updates);
        packed.pack(updates, updatesHost);
        plan.copyToDevice(dst, 0, updatesHost);
    }

    /** Host copies of the current params, named as bound; the caller closes them. */
    @Override
    public synchronized ParamSet readParams() {
        checkOpen();
        if (result != null) result.transferToHost(PARAM);
        return packed.unpack(paramsHost, paramStorage);
    }

    /** Copies the current params into {@code dst} (names and shapes as bound): one device read, no allocation. */
    @Override
    public synchronized void readParamsInto(ParamSet dst) {
        checkOpen();
        if (result != null) result.transferToHost(PARAM);
        packed.unpackInto(paramsHost, dst, paramStorage);
    }

    @Override
    public synchronized void readParamInto(String name, Tensor dst) {
        checkOpen();
        if (result != null) result.transferToHost(PARAM);
        packed.unpackInto(paramsHost, name, dst, paramStorage);
    }

    /** Host copy of the current state (slots named like the params, the step count); the caller closes it. */
    @Override
    public synchronized OptState readState() {
        checkOpen();
        if (result != null) for (String name : deviceSlots) result.transferToHost(STATE + name);
        return packed.unpackState(s -> slotsHost[s] != null ? slotsHost[s] : zeros());
    }

    /** Steps taken (the state's step counter). */
    public long step() { return packed.step(); }

    /** Elements over all tensors: the one launch's size. */
    public long elementCount() { return total; }

    /** Where tensor {@code i} starts in the packed buffers, in elements. */
    public long offset(int i) { return packed.offset(i); }

    /** Turns the plan's device-event profiler on or off. */
    public DeviceOptimizer withProfiler(boolean on) {
        checkOpen();
        plan.withProfiler(on);
        return this;
    }

    /** Times of the last step (see {@link ExecutionPlan#profile()}). */
    public Profile profile() {
        checkOpen();
        return plan.profile();
    }

    /** Times summed over every step, the compile at bind included. */
    public Profile totalProfile() {
        checkOpen();
        return plan.totalProfile();
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("the device optimizer on " + where + " is closed");
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        try {
            plan.close();
        } finally {
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "DeviceOptimizer[" + rule.name() + " on " + where + ", " + packed.names().size() + " tensors, " + total + " elements, step " + packed.step() + "]";
    }
}
