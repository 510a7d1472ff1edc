package io.nag4j.gpu.plan;

import io.nag4j.core.ir.Eqn;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.ir.Op;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.DeviceInfo;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What EXACT mode can promise for a target on one device, and the one policy that refuses a
 * kernel it cannot promise: {@link #require}. A device that flushes subnormals can give no
 * kernel exact bits; a device or target that rounds some ops differently from
 * {@link Op#eval} (a divide that is not correctly rounded, a compiler with no
 * exact fma) can still run kernels that do not use those ops.
 *
 * @param device      the device as messages name it, e.g. {@code opencl:0 (pthread-...)}
 * @param deviceLacks why no kernel can be exact here (a clause: "the device flushes ..."), or empty
 * @param inexactOps  ops this target on this device cannot round as {@code Op.eval} does, each with why
 */
public record Exactness(String device, String deviceLacks, Map<Op, String> inexactOps) {
    public Exactness {
        inexactOps = Collections.unmodifiableMap(inexactOps.isEmpty() ? new EnumMap<>(Op.class) : new EnumMap<>(inexactOps));
    }

    /** From what a driver says of its device: subnormals kept, divide and sqrt correctly rounded. */
    public static Exactness of(DeviceInfo info) {
        String lacks = info.fp32Denormals() ? "" : "the device flushes fp32 denormals to zero";
        Exactness e = new Exactness(info.spec() + " (" + info.name() + ")", lacks, Map.of());
        if (!info.correctlyRoundedDivideSqrt()) {
            e = e.withInexact(Op.DIV, "fp32 divide not correctly rounded")
                    .withInexact(Op.SQRT, "fp32 sqrt not correctly rounded");
        }
        return e;
    }

    /** The same, with {@code op} also inexact for {@code why} (a target's own limit). */
    public Exactness withInexact(Op op, String why) {
        EnumMap<Op, String> m = new EnumMap<>(Op.class);
        m.putAll(inexactOps);
        m.merge(op, why, (a, b) -> a + "; " + b);
        return new Exactness(device, deviceLacks, m);
    }

    /** Whether every kernel can be exact here. */
    public boolean complete() { return deviceLacks.isEmpty() && inexactOps.isEmpty(); }

    /** For listings: {@code yes}, {@code no (why)}, or {@code yes, except kernels with div (why)}. */
    public String summary() {
        if (!deviceLacks.isEmpty()) return "no (" + deviceLacks + ")";
        if (inexactOps.isEmpty()) return "yes";
        return "yes, except kernels with " + inexactOps.entrySet().stream()
                .map(e -> e.getKey().mnemonic() + " (" + e.getValue() + ")").collect(Collectors.joining(", "));
    }

    /** Why {@code kernel} cannot be exact here; empty when it can. */
    public List<String> reasons(Kernel kernel) {
        List<String> out = new ArrayList<>();
        if (!deviceLacks.isEmpty()) out.add(deviceLacks);
        Set<Op> used = new LinkedHashSet<>();
        for (Eqn e : kernel.eqns()) if (inexactOps.containsKey(e.op())) used.add(e.op());
        for (Op op : used) out.add("it uses " + op.mnemonic() + ": " + inexactOps.get(op));
        return out;
    }

    /**
     * Refuses to run {@code traced} in {@code mode} where its bits cannot be promised: both modes
     * promise the evaluator's bits on {@link Mode#kernel} (FAST's being the fused kernel, whose
     * FMAs a device must round once). No fallback, ever: the caller fails.
     *
     * @param task where it was asked, for the message ({@code graph.task} or a backend name)
     * @throws NotBitExactException naming the rule, the mode, the device and every reason
     */
    public void require(Kernel traced, Mode mode, String task) {
        Kernel kernel = mode.kernel(traced);
        List<String> why = reasons(kernel);
        if (why.isEmpty()) return;
        throw new NotBitExactException(task, device, task + ": " + mode + " mode cannot give rule '" + kernel.name() + "' its bits on " + device
                + ": " + String.join("; ", why) + (kernel != traced && !why.equals(reasons(traced)) ? " (FAST fuses multiply-adds into fma)" : "")
                + "; no fallback: choose another device");
    }
}
