package io.nag4j.gpu.plan;

import io.nag4j.core.ir.Kernel;
import io.nag4j.core.ir.Narrowing;
import io.nag4j.core.ir.Storage;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.optim.StepChecks;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.function.IntFunction;

/**
 * What every device binding shares, whatever runtime moves its data: the packed layout of its
 * ParamSet (tensor {@code i} at element {@link #offset(int)} of one buffer per kernel input, so
 * one launch over {@link #total()} elements steps every tensor), the checks a step makes before
 * anything changes, and the step counter. Not thread-safe, like the bindings that hold it.
 */
public final class PackedBinding {
    private final Rule rule;
    private final Hyperparams boundHp;
    private final int structure;
    private final Kernel kernel;
    private final List<String> names;
    private final long[][] shapes;
    private final long[] offsets;
    private final long total;
    private long step;
    private ParamSet lastChecked;
    private ParamSet lastUnpacked;
    private Hyperparams lastCheckedHp;
    private Hyperparams lastStepHp;

    /**
     * Checks {@code hp}, {@code params} and {@code initial} (a resumed state, or null) as a bind
     * must, before anything is allocated.
     *
     * @throws IllegalArgumentException naming the culprit
     */
    public PackedBinding(Rule rule, Hyperparams hp, ParamSet params, OptState initial) {
        this.rule = rule;
        StepChecks.checkHyperparams(rule, hp);
        this.boundHp = hp;
        this.lastStepHp = hp;
        this.structure = rule.structure(hp);
        this.kernel = rule.kernel(hp);
        if (params == null) throw new IllegalArgumentException("params are null");
        params.checkCompatible(params, "params");
        if (rule instanceof io.nag4j.core.rule.MasterWeights mw) StepChecks.checkSixteenBitParams(mw, params); // stored in 2 bytes on the device
        if (initial != null) StepChecks.checkState(rule, initial, params, hp);
        this.names = params.names();
        int count = params.size();
        this.shapes = new long[count][];
        this.offsets = new long[count];
        long n = 0;
        for (int i = 0; i < count; i++) {
            shapes[i] = params.get(i).shape();
            offsets[i] = n;
            n = Math.addExact(n, params.get(i).size());
        }
        this.total = n;
        this.step = initial == null ? 0 : initial.step();
    }

    /** The kernel traced for the bound hyperparameters' flags: its slots are the ones a step streams. */
    public Kernel kernel() { return kernel; }

    /** Elements over all tensors: the one launch's size. */
    public long total() { return total; }

    /** Where tensor {@code i} starts in the packed buffers, in elements. */
    public long offset(int i) { return offsets[i]; }

    /**
     * The tensor table a kernel that uses {@code random} takes ({@link Kernel}'s class comment):
     * {@code [T, start_0, ..., start_{T-1}]}, so each packed element finds its tensor and index.
     */
    public long[] tensorTable() {
        long[] table = new long[offsets.length + 1];
        table[0] = offsets.length;
        System.arraycopy(offsets, 0, table, 1, offsets.length);
        return table;
    }

    public List<String> names() { return names; }

    /** Steps taken so far (the state's step counter). */
    public long step() { return step; }

    /** Copies each tensor of {@code set} (shaped as bound) to its offset in {@code dst}. */
    public void pack(ParamSet set, MemorySegment dst) {
        for (int i = 0; i < offsets.length; i++) {
            Tensor t = set.get(i);
            MemorySegment.copy(t.segment(), 0, dst, offsets[i] * Float.BYTES, t.byteSize());
        }
    }

    /**
     * As {@link #pack(ParamSet, MemorySegment)}, each value stored as {@code storage}: its 16-bit
     * pattern for BF16 or F16 (exact: a 16-bit param holds values of its type, checked at bind).
     */
    public void pack(ParamSet set, MemorySegment dst, Storage storage) {
        if (storage == Storage.F32) {
            pack(set, dst);
            return;
        }
        for (int i = 0; i < offsets.length; i++) {
            Tensor t = set.get(i);
            for (long e = 0; e < t.size(); e++) {
                float x = t.get(e);
                dst.setAtIndex(ValueLayout.JAVA_SHORT, offsets[i] + e, storage == Storage.BF16 ? Narrowing.bf16Pattern(x) : Narrowing.f16Pattern(x));
            }
        }
    }

    /** Element {@code e} of packed {@code src} stored as {@code storage}, widened (exact). */
    private static float load(MemorySegment src, long e, Storage storage) {
        return switch (storage) {
            case F32 -> src.getAtIndex(ValueLayout.JAVA_FLOAT, e);
            case BF16 -> Narrowing.fromBf16Bits(src.getAtIndex(ValueLayout.JAVA_SHORT, e));
            case F16 -> Narrowing.fromF16Bits(src.getAtIndex(ValueLayout.JAVA_SHORT, e));
        };
    }

    /** Tensor {@code i}'s range of {@code src} (stored as {@code storage}) into {@code t}. */
    private void copyOut(MemorySegment src, int i, Tensor t, Storage storage) {
        if (storage == Storage.F32) {
            MemorySegment.copy(src, offsets[i] * Float.BYTES, t.segment(), 0, t.byteSize());
            return;
        }
        for (long e = 0; e < t.size(); e++) t.set(e, load(src, offsets[i] + e, storage));
    }

    /** As {@link #unpack(MemorySegment)} from values stored as {@code storage}. */
    public ParamSet unpack(MemorySegment src, Storage storage) {
        List<Tensor> out = new ArrayList<>(names.size());
        try {
            for (int i = 0; i < offsets.length; i++) {
                Tensor t = Tensor.zeros(names.get(i), shapes[i]);
                out.add(t);
                copyOut(src, i, t, storage);
            }
        } catch (RuntimeException e) {
            out.forEach(Tensor::close);
            throw e;
        }
        return new ParamSet(out);
    }

    /** New tensors, named and shaped as bound, copied from their offsets in {@code src}; the caller closes them. */
    public ParamSet unpack(MemorySegment src) { return unpack(src, Storage.F32); }

    /**
     * Copies each tensor's range of {@code src} into {@code dst}'s tensors (the bound names and
     * shapes, checked first): {@code readParamsInto}, allocation-free for the same {@code dst} again.
     */
    public void unpackInto(MemorySegment src, ParamSet dst) { unpackInto(src, dst, Storage.F32); }

    /** As {@link #unpackInto(MemorySegment, ParamSet)} from values stored as {@code storage}. */
    public void unpackInto(MemorySegment src, ParamSet dst, Storage storage) {
        if (dst != lastUnpacked) {
            if (dst == null) throw new IllegalArgumentException("the destination is null");
            if (dst.size() != names.size()) {
                throw new IllegalArgumentException("the destination has " + dst.size() + " tensors " + dst.names() + " but params have " + names.size() + " " + names);
            }
            for (int i = 0; i < offsets.length; i++) {
                Tensor t = dst.get(i);
                if (!t.name().equals(names.get(i))) throw ParamSet.misnamed("the destination", i, t.name(), names.get(i));
                if (!Arrays.equals(shapes[i], t.shape())) {
                    throw new IllegalArgumentException("the destination tensor '" + t.name() + "' has shape " + Arrays.toString(t.shape())
                            + " but param '" + names.get(i) + "' has " + Arrays.toString(shapes[i]));
                }
            }
            lastUnpacked = dst;
        }
        for (int i = 0; i < offsets.length; i++) {
            Tensor t = dst.get(i);
            if (t.isClosed()) throw new IllegalArgumentException("the destination tensor '" + t.name() + "' is closed");
        }
        for (int i = 0; i < offsets.length; i++) copyOut(src, i, dst.get(i), storage);
    }

    /** Copies param {@code name}'s range of {@code src} into {@code dst} (its shape). */
    public void unpackInto(MemorySegment src, String name, Tensor dst) { unpackInto(src, name, dst, Storage.F32); }

    /** As {@link #unpackInto(MemorySegment, String, Tensor)} from values stored as {@code storage}. */
    public void unpackInto(MemorySegment src, String name, Tensor dst, Storage storage) {
        int i = names.indexOf(name);
        if (i < 0) throw new IllegalArgumentException("no param '" + name + "'; params are " + names);
        if (dst == null || !Arrays.equals(shapes[i], dst.shape())) {
            throw new IllegalArgumentException("the destination for param '" + name + "' must have its shape " + Arrays.toString(shapes[i])
                    + (dst == null ? ", got null" : ", has " + Arrays.toString(dst.shape())));
        }
        copyOut(src, i, dst, storage);
    }

    /** The state: slot {@code s} unpacked from {@code slot.apply(s)}, with the step counter; the caller closes it. */
    public OptState unpackState(IntFunction<MemorySegment> slot) {
        LinkedHashMap<String, ParamSet> slots = new LinkedHashMap<>();
        try {
            for (int s = 0; s < rule.slots().size(); s++) slots.put(rule.slots().get(s), unpack(slot.apply(s)));
        } catch (RuntimeException e) {
            slots.values().forEach(ParamSet::close);
            throw e;
        }
        return new OptState(rule.name(), slots, step);
    }

    /**
     * Checks a step's hyperparameters and that the counter can grow; returns the step about to be
     * taken (1 for the first). Changes nothing: {@link #stepped} counts it once it ran.
     */
    public long nextStep(Hyperparams hp, String where) {
        // Hyperparams are immutable: the same object passed again (the usual case) needs no second check.
        if (hp != lastCheckedHp) {
            StepChecks.checkHyperparams(rule, boundHp, hp);
            StepChecks.checkStructure(rule, structure, hp, where);
            lastCheckedHp = hp;
        }
        if (step == Long.MAX_VALUE) throw new IllegalArgumentException("step counter is at its maximum");
        return step + 1;
    }

    /** Counts step {@code t} (from {@link #nextStep}) as taken. */
    public void stepped(long t) {
        step = t;
        lastStepHp = lastCheckedHp;
    }

    /** The hyperparameters of the last step taken (the bound ones before any step): what a checkpoint stores. */
    public Hyperparams lastStepHyperparams() { return lastStepHp; }

    /** As {@link ParamSet#checkCompatible}, without allocating when the same updates come again. */
    public void checkUpdates(ParamSet updates) {
        if (updates == null) throw new IllegalArgumentException("updates is null");
        if (updates == lastChecked) {
            // A ParamSet's tensors and their shapes never change; only closing can.
            for (int i = 0; i < offsets.length; i++) {
                if (updates.get(i).isClosed()) throw new IllegalArgumentException("updates tensor '" + updates.get(i).name() + "' is closed");
            }
            return;
        }
        if (updates.size() != names.size()) {
            throw new IllegalArgumentException("updates has " + updates.size() + " tensors " + updates.names()
                    + " but params have " + names.size() + " " + names);
        }
        for (int i = 0; i < offsets.length; i++) {
            Tensor u = updates.get(i);
            if (u.isClosed()) throw new IllegalArgumentException("updates tensor '" + u.name() + "' is closed");
            if (!u.name().equals(names.get(i))) throw ParamSet.misnamed("updates", i, u.name(), names.get(i));
            if (!Arrays.equals(shapes[i], u.shape())) {
                throw new IllegalArgumentException("updates tensor '" + u.name() + "' has shape " + Arrays.toString(u.shape())
                        + " but param '" + names.get(i) + "' has " + Arrays.toString(shapes[i]));
            }
        }
        lastChecked = updates;
    }
}
