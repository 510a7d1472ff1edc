package io.nag4j.core.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;

import static jdk.incubator.vector.VectorOperators.GE;
import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.LSHR;

/**
 * {@link io.nag4j.core.ir.Narrowing}'s integer definitions of bf16 and f16, line for line, on the
 * lanes of a {@code FloatVector} (their bits as an {@code IntVector}), for {@link JvmLowering}'s
 * vector loops: the same bits as the scalar definition, every lane. Loaded only where the JVM has
 * {@code jdk.incubator.vector} (the generated loops call it; nothing else names it).
 */
final class VectorNarrowing {
    private VectorNarrowing() {}

    /** {@code Narrowing.bf16} per lane. */
    static FloatVector bf16(FloatVector x) {
        IntVector b = x.reinterpretAsInts();
        VectorMask<Integer> nan = b.and(0x7fffffff).compare(GT, 0x7f800000); // non-negative: a signed compare is the unsigned one
        IntVector rounded = b.add(0x7fff).add(b.lanewise(LSHR, 16).and(1));
        return rounded.blend(b.or(0x00400000), nan).and(0xffff0000).reinterpretAsFloats();
    }

    /** {@code Narrowing.f16} per lane: each case computed, then chosen in the definition's order. */
    static FloatVector f16(FloatVector x) {
        IntVector b = x.reinterpretAsInts(), sign = b.and(0x80000000), a = b.and(0x7fffffff);
        IntVector normal = a.add(0xfff).add(a.lanewise(LSHR, 13).and(1)).and(0xffffe000);
        IntVector subnormal = a.reinterpretAsFloats().add(0.5f).sub(0.5f).reinterpretAsInts();
        IntVector r = subnormal.blend(normal, a.compare(GE, 0x38800000));
        r = r.blend(0x7f800000, a.compare(GE, 0x477ff000)).or(sign);
        return r.blend(b.or(0x00400000).and(0xffffe000), a.compare(GT, 0x7f800000)).reinterpretAsFloats();
    }
}
