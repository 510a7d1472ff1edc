package io.nag4j.core.cpu;

import io.nag4j.core.ir.Eqn;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.ir.Op;
import io.nag4j.core.ir.Operand;

import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.CodeBuilder;
import java.lang.classfile.Label;
import java.lang.classfile.Instruction;
import java.lang.classfile.Opcode;
import java.lang.classfile.instruction.BranchInstruction;
import java.lang.classfile.instruction.ConstantInstruction;
import java.lang.classfile.instruction.FieldInstruction;
import java.lang.classfile.instruction.IncrementInstruction;
import java.lang.classfile.instruction.InvokeInstruction;
import java.lang.classfile.instruction.LabelTarget;
import java.lang.classfile.instruction.LoadInstruction;
import java.lang.classfile.instruction.StoreInstruction;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDescs;
import java.lang.constant.MethodTypeDesc;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import static java.lang.constant.ConstantDescs.CD_Object;
import static java.lang.constant.ConstantDescs.CD_double;
import static java.lang.constant.ConstantDescs.CD_float;
import static java.lang.constant.ConstantDescs.CD_int;
import static java.lang.constant.ConstantDescs.CD_long;
import static java.lang.constant.ConstantDescs.CD_void;

/**
 * Lowers a {@link Kernel} to JVM bytecode with the {@code java.lang.classfile} API: one hidden
 * class per kernel implementing {@link ElementLoop}. Its {@code run} method keeps every buffer
 * and scalar in a local, then loops over the elements: load each used input, compute each
 * equation in order into its own float local, store each output. No interpretation per element:
 * C2 compiles the loop like hand-written Java, hoisting bounds and liveness checks.
 *
 * <p>Every op is lowered to the bytecode that javac emits for the Java expression in
 * {@link Op#eval}, so the result is bitwise the evaluator's: float ops round to float32 on every
 * step (the JVM never fuses), {@code sqrt} goes through double (correctly rounded for a float
 * argument), comparisons use {@code fcmpg}/{@code fcmpl} so a NaN makes them false (true for
 * {@code ne}), and select tests {@code c != 0}.
 */
final class JvmLowering {
    private JvmLowering() {}

    private static final ClassDesc CD_SEGMENT = ClassDesc.of("java.lang.foreign.MemorySegment");
    private static final ClassDesc CD_LAYOUT = ClassDesc.of("java.lang.foreign.ValueLayout");
    private static final ClassDesc CD_OF_FLOAT = ClassDesc.of("java.lang.foreign.ValueLayout$OfFloat");
    private static final ClassDesc CD_MATH = ClassDesc.of("java.lang.Math");
    private static final ClassDesc CD_NARROWING = ClassDesc.of("io.nag4j.core.ir.Narrowing");
    private static final ClassDesc CD_PHILOX = ClassDesc.of("io.nag4j.core.ir.Philox");
    private static final ClassDesc CD_VECTOR_NARROWING = ClassDesc.of("io.nag4j.core.cpu.VectorNarrowing");
    private static final ClassDesc CD_FLOAT_BOX = ClassDesc.of("java.lang.Float");
    private static final ClassDesc CD_LOOP = ClassDesc.of(ElementLoop.class.getName());
    private static final MethodTypeDesc MTD_GET = MethodTypeDesc.of(CD_float, CD_OF_FLOAT, CD_long);
    private static final MethodTypeDesc MTD_SET = MethodTypeDesc.of(CD_void, CD_OF_FLOAT, CD_long, CD_float);
    private static final MethodTypeDesc MTD_F_F = MethodTypeDesc.of(CD_float, CD_float);
    private static final MethodTypeDesc MTD_FF_F = MethodTypeDesc.of(CD_float, CD_float, CD_float);
    private static final MethodTypeDesc MTD_FFF_F = MethodTypeDesc.of(CD_float, CD_float, CD_float, CD_float);
    private static final MethodTypeDesc MTD_D_D = MethodTypeDesc.of(CD_double, CD_double);
    private static final MethodTypeDesc MTD_I_F = MethodTypeDesc.of(CD_float, CD_int);
    private static final MethodTypeDesc MTD_RANDOM = MethodTypeDesc.of(CD_float, CD_int, CD_float, CD_float, CD_float, CD_float,
            CD_float, CD_float, CD_int, CD_long);
    private static final MethodTypeDesc MTD_COPY_IN = MethodTypeDesc.of(CD_void, CD_SEGMENT, CD_LAYOUT, CD_long, CD_Object, CD_int, CD_int);
    private static final MethodTypeDesc MTD_COPY_OUT = MethodTypeDesc.of(CD_void, CD_Object, CD_int, CD_SEGMENT, CD_LAYOUT, CD_long, CD_int);
    private static final MethodTypeDesc MTD_MIN_I = MethodTypeDesc.of(CD_int, CD_int, CD_int);
    static final MethodTypeDesc MTD_RUN = MethodTypeDesc.of(CD_void, CD_SEGMENT.arrayType(), CD_int,
            CD_float.arrayType(), CD_long, CD_int, CD_float.arrayType().arrayType());

    private static final ClassDesc CD_FV = ClassDesc.of("jdk.incubator.vector.FloatVector");
    private static final ClassDesc CD_VEC = ClassDesc.of("jdk.incubator.vector.Vector");
    private static final ClassDesc CD_MASK = ClassDesc.of("jdk.incubator.vector.VectorMask");
    private static final ClassDesc CD_SPECIES = ClassDesc.of("jdk.incubator.vector.VectorSpecies");
    private static final ClassDesc CD_OPS = ClassDesc.of("jdk.incubator.vector.VectorOperators");
    private static final ClassDesc CD_UNARY = ClassDesc.of("jdk.incubator.vector.VectorOperators$Unary");
    private static final ClassDesc CD_CMP = ClassDesc.of("jdk.incubator.vector.VectorOperators$Comparison");
    private static final ClassDesc CD_ORDER = ClassDesc.of("java.nio.ByteOrder");
    private static final MethodTypeDesc MTD_V_V = MethodTypeDesc.of(CD_FV, CD_VEC);
    private static final MethodTypeDesc MTD_V = MethodTypeDesc.of(CD_FV);
    private static final MethodTypeDesc MTD_V_FV = MethodTypeDesc.of(CD_FV, CD_FV);
    private static final MethodTypeDesc MTD_VV_V = MethodTypeDesc.of(CD_FV, CD_VEC, CD_VEC);
    private static final MethodTypeDesc MTD_UNARY = MethodTypeDesc.of(CD_FV, CD_UNARY);
    private static final MethodTypeDesc MTD_COMPARE = MethodTypeDesc.of(CD_MASK, CD_CMP, CD_VEC);
    private static final MethodTypeDesc MTD_BLEND = MethodTypeDesc.of(CD_FV, CD_VEC, CD_MASK);
    private static final MethodTypeDesc MTD_VLOAD = MethodTypeDesc.of(CD_FV, CD_SPECIES, CD_SEGMENT, CD_long, CD_ORDER);
    private static final MethodTypeDesc MTD_VSTORE = MethodTypeDesc.of(CD_void, CD_SEGMENT, CD_long, CD_ORDER);
    private static final MethodTypeDesc MTD_BROADCAST = MethodTypeDesc.of(CD_FV, CD_SPECIES, CD_float);

    /** Whether this JVM can run the vector lowering: started with {@code --add-modules jdk.incubator.vector}. */
    static final boolean VECTOR_AVAILABLE = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

    /**
     * Elements per tile: each tile of every used input is copied into a float[] (a bulk copy), the
     * equations run over the arrays, and the outputs are copied back. C2 vectorizes loops over
     * arrays but not (in JDK 25) over several native segments that might overlap; the staging
     * costs only cache traffic, a tile of every input fitting in L1.
     */
    static final int TILE = 1024;

    // Fixed local slots of run(segs, base, scalars, from, count).
    private static final int THIS = 0, SEGS = 1, BASE = 2, SCALARS = 3, FROM = 4, COUNT = 6, SCRATCH = 7;
    private static final int LAYOUT = 8, J = 9, T = 10, LEN = 11, OFF = 12;
    private static final int SPECIES = 14, ORDER = 15, BOUND = 16, LANES = 17, ZERO = 18, ONE = 19, FIRST_FREE = 20;

    /** Where each value of a kernel lives in the generated method's locals. */
    private record Slots(int[] segment, int[] array, int[] input, int[] scalar, int[] var, boolean[] inputUsed, boolean[] scalarUsed,
                         int[] vecInput, int[] vecScalar, int[] vecVar, Map<Integer, Integer> vecConst) {
        static Slots of(Kernel k) {
            int nIn = k.inputs().size(), nSc = k.scalars().size(), nVar = k.eqns().size();
            boolean[] inUsed = new boolean[nIn], scUsed = new boolean[nSc];
            for (Eqn e : k.eqns()) for (Operand a : e.args()) mark(a, inUsed, scUsed);
            for (Kernel.Output o : k.outputs()) {
                mark(o.value(), inUsed, scUsed);
            }
            int next = FIRST_FREE;
            int[] seg = new int[nIn], arr = new int[nIn], in = new int[nIn], sc = new int[nSc], var = new int[nVar];
            for (int i = 0; i < nIn; i++) seg[i] = next++;
            for (int i = 0; i < nIn; i++) arr[i] = next++;
            for (int i = 0; i < nSc; i++) sc[i] = next++;
            for (int i = 0; i < nIn; i++) in[i] = next++;
            for (int i = 0; i < nVar; i++) var[i] = next++;
            int[] vIn = new int[nIn], vSc = new int[nSc], vVar = new int[nVar];
            for (int i = 0; i < nIn; i++) vIn[i] = next++;
            for (int i = 0; i < nSc; i++) vSc[i] = next++;
            for (int i = 0; i < nVar; i++) vVar[i] = next++;
            Map<Integer, Integer> vConst = new LinkedHashMap<>();
            for (Eqn e : k.eqns()) for (Operand a : e.args()) if (a instanceof Operand.Const c) vConst.putIfAbsent(c.bits(), 0);
            for (Kernel.Output o : k.outputs()) if (o.value() instanceof Operand.Const c) vConst.putIfAbsent(c.bits(), 0);
            for (var e : vConst.entrySet()) e.setValue(next++);
            return new Slots(seg, arr, in, sc, var, inUsed, scUsed, vIn, vSc, vVar, vConst);
        }

        private static void mark(Operand a, boolean[] inUsed, boolean[] scUsed) {
            switch (a) {
                case Operand.Input i -> inUsed[i.index()] = true;
                case Operand.Scalar s -> scUsed[s.index()] = true;
                case Operand.Const c -> { }
                case Operand.Var v -> { }
            }
        }
    }

    /**
     * Whether the vector lowering covers every op of {@code k}: not yet stochastic rounding and
     * random (Philox's 32x32-bit products), whose kernels run the scalar loop, the same bits.
     */
    static boolean vectorizable(Kernel k) {
        for (Eqn e : k.eqns()) {
            switch (e.op()) {
                case BF16_SR, F16_SR, RANDOM -> { return false; }
                default -> { }
            }
        }
        return true;
    }

    /**
     * The class file of {@code k}'s loop, named {@code io.nag4j.core.cpu.GeneratedLoop}. With
     * {@code vector}, the loop runs on {@code FloatVector}s of the preferred species (the scalar
     * tile loop finishes the remainder); it needs {@link #VECTOR_AVAILABLE}.
     */
    static byte[] classBytes(Kernel k, boolean vector) {
        if (vector && !VECTOR_AVAILABLE) throw new IllegalStateException("jdk.incubator.vector is not in this JVM (--add-modules jdk.incubator.vector)");
        boolean lanes = vector && vectorizable(k);
        if (k.inputs().size() > 1000 || k.eqns().size() > 60_000) {
            throw new IllegalArgumentException("kernel " + k.name() + " is too large for one JVM method: "
                    + k.inputs().size() + " inputs, " + k.eqns().size() + " equations");
        }
        Slots slots = Slots.of(k);
        ClassDesc self = ClassDesc.of(JvmLowering.class.getPackageName() + ".GeneratedLoop");
        ClassHierarchyResolver resolver = ClassHierarchyResolver.defaultResolver()
                .orElse(ClassHierarchyResolver.ofClassLoading(JvmLowering.class.getClassLoader()));
        return ClassFile.of(ClassFile.ClassHierarchyResolverOption.of(resolver)).build(self, cb -> {
            cb.withFlags(ClassFile.ACC_FINAL | ClassFile.ACC_SUPER);
            cb.withSuperclass(CD_Object);
            cb.withInterfaceSymbols(CD_LOOP);
            cb.withMethodBody(ConstantDescs.INIT_NAME, ConstantDescs.MTD_void, ClassFile.ACC_PUBLIC,
                    code -> code.aload(THIS).invokespecial(CD_Object, ConstantDescs.INIT_NAME, ConstantDescs.MTD_void).return_());
            cb.withMethodBody("run", MTD_RUN, ClassFile.ACC_PUBLIC | ClassFile.ACC_FINAL, code -> run(code, k, slots, lanes));
        });
    }

    private static void run(CodeBuilder c, Kernel k, Slots s, boolean vector) {
        // Hoisted out of the loops: the layout constant, the buffers, their scratch arrays, the scalars.
        c.getstatic(CD_LAYOUT, "JAVA_FLOAT_UNALIGNED", CD_OF_FLOAT).astore(LAYOUT);
        for (int i = 0; i < k.inputs().size(); i++) {
            if (!s.inputUsed[i] && !isOutput(k, i)) continue;
            c.aload(SEGS).iload(BASE);
            intConst(c, i);
            c.iadd().aaload().astore(s.segment[i]);
            if (vector) continue; // only the tile loop uses the scratch arrays
            c.aload(SCRATCH);
            intConst(c, i);
            c.aaload().astore(s.array[i]);
        }
        for (int i = 0; i < k.scalars().size(); i++) {
            if (!s.scalarUsed[i]) continue;
            c.aload(SCALARS);
            intConst(c, i);
            c.faload().fstore(s.scalar[i]);
        }

        if (vector) {
            vectorLoop(c, k, s);
            remainderLoop(c, k, s);
            c.return_();
            return;
        }

        // for (int t = 0; t < count; t += TILE) {
        //   int len = Math.min(TILE, count - t); long off = (from + t) << 2;
        //   copy each used input's tile in; for (int j = 0; j < len; j++) {...}; copy each output's tile out }
        Label tileCond = c.newLabel(), tileEnd = c.newLabel(), cond = c.newLabel(), end = c.newLabel();
        c.iconst_0().istore(T);
        c.labelBinding(tileCond);
        c.iload(T).iload(COUNT).if_icmpge(tileEnd);
        intConst(c, TILE);
        c.iload(COUNT).iload(T).isub().invokestatic(CD_MATH, "min", MTD_MIN_I).istore(LEN);
        c.lload(FROM).iload(T).i2l().ladd().iconst_2().lshl().lstore(OFF);
        for (int i = 0; i < k.inputs().size(); i++) {
            if (!s.inputUsed[i]) continue;
            c.aload(s.segment[i]).aload(LAYOUT).lload(OFF).aload(s.array[i]).iconst_0().iload(LEN)
                    .invokestatic(CD_SEGMENT, "copy", MTD_COPY_IN, true);
        }
        c.iconst_0().istore(J);
        c.labelBinding(cond);
        c.iload(J).iload(LEN).if_icmpge(end);
        for (int i = 0; i < k.inputs().size(); i++) {
            if (!s.inputUsed[i]) continue;
            c.aload(s.array[i]).iload(J).faload().fstore(s.input[i]);
        }
        for (Eqn e : k.eqns()) {
            equation(c, e, s);
            c.fstore(s.var[e.id()]);
        }
        // Every input was read into a local above, so the outputs may overwrite the tiles in place.
        for (Kernel.Output o : k.outputs()) {
            c.aload(s.array[o.input()]).iload(J);
            push(c, o.value(), s);
            c.fastore();
        }
        c.iinc(J, 1).goto_(cond);
        c.labelBinding(end);
        for (Kernel.Output o : k.outputs()) {
            c.aload(s.array[o.input()]).iconst_0().aload(s.segment[o.input()]).aload(LAYOUT).lload(OFF).iload(LEN)
                    .invokestatic(CD_SEGMENT, "copy", MTD_COPY_OUT, true);
        }
        c.iload(T);
        intConst(c, TILE);
        c.iadd().istore(T).goto_(tileCond);
        c.labelBinding(tileEnd);
        c.return_();
    }

    /**
     * {@code for (int j = 0; j < species.loopBound(count); j += lanes)}: load each used input as a
     * vector, compute each equation lanewise, store each output; leaves {@code t} at the bound.
     * Scalars and constants are broadcast once, before the loop.
     */
    private static void vectorLoop(CodeBuilder c, Kernel k, Slots s) {
        c.getstatic(CD_FV, "SPECIES_PREFERRED", CD_SPECIES).astore(SPECIES);
        c.invokestatic(CD_ORDER, "nativeOrder", MethodTypeDesc.of(CD_ORDER)).astore(ORDER);
        c.aload(SPECIES).invokeinterface(CD_SPECIES, "length", MethodTypeDesc.of(CD_int)).istore(LANES);
        c.aload(SPECIES).iload(COUNT).invokeinterface(CD_SPECIES, "loopBound", MethodTypeDesc.of(CD_int, CD_int)).istore(BOUND);
        broadcast(c, 0);
        c.astore(ZERO);
        broadcast(c, Float.floatToRawIntBits(1f));
        c.astore(ONE);
        for (int i = 0; i < k.scalars().size(); i++) {
            if (!s.scalarUsed[i]) continue;
            c.aload(SPECIES).fload(s.scalar[i]).invokestatic(CD_FV, "broadcast", MTD_BROADCAST).astore(s.vecScalar[i]);
        }
        for (var e : s.vecConst.entrySet()) {
            broadcast(c, e.getKey());
            c.astore(e.getValue());
        }
        Label cond = c.newLabel(), end = c.newLabel();
        c.iconst_0().istore(J);
        c.labelBinding(cond);
        c.iload(J).iload(BOUND).if_icmpge(end);
        c.lload(FROM).iload(J).i2l().ladd().iconst_2().lshl().lstore(OFF);
        for (int i = 0; i < k.inputs().size(); i++) {
            if (!s.inputUsed[i]) continue;
            c.aload(SPECIES).aload(s.segment[i]).lload(OFF).aload(ORDER).invokestatic(CD_FV, "fromMemorySegment", MTD_VLOAD)
                    .astore(s.vecInput[i]);
        }
        for (Eqn e : k.eqns()) {
            vectorEquation(c, e, s);
            c.astore(s.vecVar[e.id()]);
        }
        for (Kernel.Output o : k.outputs()) {
            pushVector(c, o.value(), s);
            c.aload(s.segment[o.input()]).lload(OFF).aload(ORDER).invokevirtual(CD_FV, "intoMemorySegment", MTD_VSTORE);
        }
        c.iload(J).iload(LANES).iadd().istore(J).goto_(cond);
        c.labelBinding(end);
    }

    /**
     * The elements after the vector loop (fewer than a vector's lanes), one at a time straight from
     * the segments: {@code for (int j = bound; j < count; j++)}. Too few to be worth staging.
     */
    private static void remainderLoop(CodeBuilder c, Kernel k, Slots s) {
        Label cond = c.newLabel(), end = c.newLabel();
        c.iload(BOUND).istore(J);
        c.labelBinding(cond);
        c.iload(J).iload(COUNT).if_icmpge(end);
        c.lload(FROM).iload(J).i2l().ladd().iconst_2().lshl().lstore(OFF);
        for (int i = 0; i < k.inputs().size(); i++) {
            if (!s.inputUsed[i]) continue;
            c.aload(s.segment[i]).aload(LAYOUT).lload(OFF).invokeinterface(CD_SEGMENT, "get", MTD_GET).fstore(s.input[i]);
        }
        for (Eqn e : k.eqns()) {
            equation(c, e, s);
            c.fstore(s.var[e.id()]);
        }
        // Every input was read into a local above, so writing the outputs in order is safe.
        for (Kernel.Output o : k.outputs()) {
            c.aload(s.segment[o.input()]).aload(LAYOUT).lload(OFF);
            push(c, o.value(), s);
            c.invokeinterface(CD_SEGMENT, "set", MTD_SET);
        }
        c.iinc(J, 1).goto_(cond);
        c.labelBinding(end);
    }

    private static void broadcast(CodeBuilder c, int bits) {
        c.aload(SPECIES);
        floatConst(c, bits);
        c.invokestatic(CD_FV, "broadcast", MTD_BROADCAST);
    }

    /**
     * Leaves the equation's FloatVector on the stack. Each lanewise op is specified as the scalar
     * Java expression of {@link Op#eval} (add is {@code a + b}, min is {@code Math.min}, sqrt is
     * {@code (float) Math.sqrt}, a comparison is Java's {@code <} etc.), so lanes match bit for bit.
     */
    private static void vectorEquation(CodeBuilder c, Eqn e, Slots s) {
        var a = e.args();
        switch (e.op()) {
            case ADD -> binary(c, a, s, "add");
            case SUB -> binary(c, a, s, "sub");
            case MUL -> binary(c, a, s, "mul");
            case DIV -> binary(c, a, s, "div");
            case MIN -> binary(c, a, s, "min");
            case MAX -> binary(c, a, s, "max");
            case NEG -> { pushVector(c, a.get(0), s); c.invokevirtual(CD_FV, "neg", MTD_V); }
            case ABS -> { pushVector(c, a.get(0), s); c.invokevirtual(CD_FV, "abs", MTD_V); }
            case SQRT -> {
                pushVector(c, a.get(0), s);
                c.getstatic(CD_OPS, "SQRT", CD_UNARY).invokevirtual(CD_FV, "lanewise", MTD_UNARY);
            }
            case FMA -> {
                pushVector(c, a.get(0), s);
                pushVector(c, a.get(1), s);
                pushVector(c, a.get(2), s);
                c.invokevirtual(CD_FV, "fma", MTD_VV_V);
            }
            case LT, LE, GT, GE, EQ, NE -> {
                // zero.blend(one, a.compare(OP, b)): 1f where the comparison holds, else +0f.
                c.aload(ZERO).aload(ONE);
                pushVector(c, a.get(0), s);
                c.getstatic(CD_OPS, e.op().name(), CD_CMP);
                pushVector(c, a.get(1), s);
                c.invokevirtual(CD_FV, "compare", MTD_COMPARE).invokevirtual(CD_FV, "blend", MTD_BLEND);
            }
            case BF16 -> { pushVector(c, a.get(0), s); c.invokestatic(CD_VECTOR_NARROWING, "bf16", MTD_V_FV); }
            case F16 -> { pushVector(c, a.get(0), s); c.invokestatic(CD_VECTOR_NARROWING, "f16", MTD_V_FV); }
            case BF16_SR, F16_SR, RANDOM -> throw new IllegalStateException("a kernel with " + e.op() + " runs the scalar lowering (see vectorizable)");
            case SELECT -> {
                // b.blend(a, cond.compare(NE, zero)): NE holds for NaN, not for -0, as c != 0 in Java.
                pushVector(c, a.get(2), s);
                pushVector(c, a.get(1), s);
                pushVector(c, a.get(0), s);
                c.getstatic(CD_OPS, "NE", CD_CMP).aload(ZERO);
                c.invokevirtual(CD_FV, "compare", MTD_COMPARE).invokevirtual(CD_FV, "blend", MTD_BLEND);
            }
        }
    }

    private static void binary(CodeBuilder c, java.util.List<Operand> a, Slots s, String method) {
        pushVector(c, a.get(0), s);
        pushVector(c, a.get(1), s);
        c.invokevirtual(CD_FV, method, MTD_V_V);
    }

    private static void pushVector(CodeBuilder c, Operand a, Slots s) {
        switch (a) {
            case Operand.Input i -> c.aload(s.vecInput[i.index()]);
            case Operand.Scalar sc -> c.aload(s.vecScalar[sc.index()]);
            case Operand.Var v -> c.aload(s.vecVar[v.id()]);
            case Operand.Const k -> c.aload(s.vecConst.get(k.bits()));
        }
    }

    private static boolean isOutput(Kernel k, int input) {
        for (Kernel.Output o : k.outputs()) if (o.input() == input) return true;
        return false;
    }

    /** Leaves the equation's float result on the stack. One exhaustive switch: a new op must be lowered here. */
    private static void equation(CodeBuilder c, Eqn e, Slots s) {
        var a = e.args();
        switch (e.op()) {
            case ADD -> { push2(c, a.get(0), a.get(1), s); c.fadd(); }
            case SUB -> { push2(c, a.get(0), a.get(1), s); c.fsub(); }
            case MUL -> { push2(c, a.get(0), a.get(1), s); c.fmul(); }
            case DIV -> { push2(c, a.get(0), a.get(1), s); c.fdiv(); }
            case NEG -> { push(c, a.get(0), s); c.fneg(); }
            case SQRT -> { push(c, a.get(0), s); c.f2d().invokestatic(CD_MATH, "sqrt", MTD_D_D).d2f(); }
            case ABS -> { push(c, a.get(0), s); c.invokestatic(CD_MATH, "abs", MTD_F_F); }
            case BF16 -> { push(c, a.get(0), s); c.invokestatic(CD_NARROWING, "bf16", MTD_F_F); }
            case F16 -> { push(c, a.get(0), s); c.invokestatic(CD_NARROWING, "f16", MTD_F_F); }
            case BF16_SR -> { push2(c, a.get(0), a.get(1), s); c.invokestatic(CD_NARROWING, "bf16Stochastic", MTD_FF_F); }
            case F16_SR -> { push2(c, a.get(0), a.get(1), s); c.invokestatic(CD_NARROWING, "f16Stochastic", MTD_FF_F); }
            case RANDOM -> {
                // Philox.uniform(word, seed pieces, step pieces, tensor = base / inputs, element = from + t + j)
                intConst(c, (int) ((Operand.Const) a.get(0)).value());
                for (int j = 1; j < 7; j++) push(c, a.get(j), s);
                c.iload(BASE);
                intConst(c, s.segment().length);
                c.idiv();
                c.lload(FROM).iload(T).i2l().ladd().iload(J).i2l().ladd();
                c.invokestatic(CD_PHILOX, "uniform", MTD_RANDOM);
            }
            case MIN -> { push2(c, a.get(0), a.get(1), s); c.invokestatic(CD_MATH, "min", MTD_FF_F); }
            case MAX -> { push2(c, a.get(0), a.get(1), s); c.invokestatic(CD_MATH, "max", MTD_FF_F); }
            case FMA -> {
                push2(c, a.get(0), a.get(1), s);
                push(c, a.get(2), s);
                c.invokestatic(CD_MATH, "fma", MTD_FFF_F);
            }
            // javac's choice: fcmpg for < and <=, fcmpl for the rest, so NaN sends each to its false side.
            case LT -> compare(c, a.get(0), a.get(1), s, Opcode.FCMPG, Opcode.IFLT);
            case LE -> compare(c, a.get(0), a.get(1), s, Opcode.FCMPG, Opcode.IFLE);
            case GT -> compare(c, a.get(0), a.get(1), s, Opcode.FCMPL, Opcode.IFGT);
            case GE -> compare(c, a.get(0), a.get(1), s, Opcode.FCMPL, Opcode.IFGE);
            case EQ -> compare(c, a.get(0), a.get(1), s, Opcode.FCMPL, Opcode.IFEQ);
            case NE -> compare(c, a.get(0), a.get(1), s, Opcode.FCMPL, Opcode.IFNE);
            case SELECT -> {
                // c != 0 ? a : b; fcmpl gives -1 for NaN, which is != 0, so NaN selects a.
                Label isFalse = c.newLabel(), done = c.newLabel();
                push(c, a.get(0), s);
                c.fconst_0().fcmpl().ifeq(isFalse);
                push(c, a.get(1), s);
                c.goto_(done);
                c.labelBinding(isFalse);
                push(c, a.get(2), s);
                c.labelBinding(done);
            }
        }
    }

    private static void compare(CodeBuilder c, Operand x, Operand y, Slots s, Opcode cmp, Opcode ifTrue) {
        Label isTrue = c.newLabel(), done = c.newLabel();
        push2(c, x, y, s);
        if (cmp == Opcode.FCMPG) c.fcmpg(); else c.fcmpl();
        c.branch(ifTrue, isTrue);
        c.fconst_0().goto_(done);
        c.labelBinding(isTrue);
        c.fconst_1();
        c.labelBinding(done);
    }

    private static void push2(CodeBuilder c, Operand x, Operand y, Slots s) {
        push(c, x, s);
        push(c, y, s);
    }

    private static void push(CodeBuilder c, Operand a, Slots s) {
        switch (a) {
            case Operand.Input i -> c.fload(s.input[i.index()]);
            case Operand.Scalar sc -> c.fload(s.scalar[sc.index()]);
            case Operand.Var v -> c.fload(s.var[v.id()]);
            case Operand.Const k -> floatConst(c, k.bits());
        }
    }

    /** Pushes the float with exactly these bits (a NaN through intBitsToFloat, so no constant pool canonicalizes it). */
    private static void floatConst(CodeBuilder c, int bits) {
        float v = Float.intBitsToFloat(bits);
        if (bits == 0) c.fconst_0();
        else if (bits == Float.floatToRawIntBits(1f)) c.fconst_1();
        else if (bits == Float.floatToRawIntBits(2f)) c.fconst_2();
        else if (Float.isNaN(v)) c.ldc(c.constantPool().intEntry(bits)).invokestatic(CD_FLOAT_BOX, "intBitsToFloat", MTD_I_F);
        else c.ldc(c.constantPool().floatEntry(v));
    }

    private static void intConst(CodeBuilder c, int v) {
        if (v <= 5) c.loadConstant(v);
        else if (v <= Short.MAX_VALUE) c.sipush(v);
        else c.ldc(c.constantPool().intEntry(v));
    }

    /** Defines {@code k}'s loop as a hidden class in this package and returns an instance. */
    static ElementLoop define(Kernel k, boolean vector) {
        byte[] bytes = classBytes(k, vector);
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup().defineHiddenClass(bytes, true);
            return (ElementLoop) lookup.findConstructor(lookup.lookupClass(), MethodType.methodType(void.class)).invoke();
        } catch (Throwable t) {
            throw new IllegalStateException("could not define the JVM loop of kernel " + k.name(), t);
        }
    }

    /**
     * A readable listing of what {@link #classBytes} generates for {@code k}: the loop as Java
     * source (what the bytecode does, op for op), then the bytecode itself.
     */
    static String describe(Kernel k, boolean asked) {
        boolean vector = asked && vectorizable(k);
        Slots s = Slots.of(k);
        StringBuilder sb = new StringBuilder();
        sb.append("// CPU backend: JVM code generated for kernel ").append(k.name()).append(" (hash ")
                .append(k.hash(), 0, 16).append(")\n");
        sb.append("final class GeneratedLoop implements ElementLoop {\n");
        sb.append("  public void run(MemorySegment[] segs, int base, float[] scalars, long from, int count, float[][] scratch) {\n");
        sb.append("    ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;\n");
        for (int i = 0; i < k.inputs().size(); i++) {
            if (!s.inputUsed[i] && !isOutput(k, i)) continue;
            sb.append("    MemorySegment ").append(segName(k, i)).append(" = segs[base + ").append(i).append("];\n");
            if (!vector) sb.append("    float[] ").append(arrName(k, i)).append(" = scratch[").append(i).append("];\n");
        }
        for (int i = 0; i < k.scalars().size(); i++) {
            if (!s.scalarUsed[i]) continue;
            sb.append("    float ").append(scalarName(k, i)).append(" = scalars[").append(i).append("];\n");
        }
        if (vector) {
            sb.append("    VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;  // ").append(preferredLanes()).append(" lanes here\n");
            sb.append("    ByteOrder order = ByteOrder.nativeOrder();\n");
            sb.append("    int bound = S.loopBound(count);\n");
            for (int i = 0; i < k.scalars().size(); i++) {
                if (!s.scalarUsed[i]) continue;
                sb.append("    FloatVector V").append(scalarName(k, i)).append(" = FloatVector.broadcast(S, ").append(scalarName(k, i)).append(");\n");
            }
            sb.append("    for (int j = 0; j < bound; j += S.length()) {\n");
            sb.append("      long off = (from + j) << 2;\n");
            for (int i = 0; i < k.inputs().size(); i++) {
                if (!s.inputUsed[i]) continue;
                sb.append("      FloatVector V").append(inName(k, i)).append(" = FloatVector.fromMemorySegment(S, ").append(segName(k, i)).append(", off, order);\n");
            }
            for (Eqn e : k.eqns()) {
                sb.append("      FloatVector Vv").append(e.id()).append(" = ").append(javaVector(e, k)).append(";\n");
            }
            for (Kernel.Output o : k.outputs()) {
                sb.append("      ").append(javaVector(o.value(), k)).append(".intoMemorySegment(").append(segName(k, o.input())).append(", off, order);\n");
            }
            sb.append("    }\n");
            sb.append("    for (int j = bound; j < count; j++) {  // the remainder, fewer than S.length()\n");
            sb.append("      long off = (from + j) << 2;\n");
            for (int i = 0; i < k.inputs().size(); i++) {
                if (!s.inputUsed[i]) continue;
                sb.append("      float ").append(inName(k, i)).append(" = ").append(segName(k, i)).append(".get(F, off);\n");
            }
            for (Eqn e : k.eqns()) {
                sb.append("      float v").append(e.id()).append(" = ").append(java(e, k)).append(";\n");
            }
            for (Kernel.Output o : k.outputs()) {
                sb.append("      ").append(segName(k, o.input())).append(".set(F, off, ").append(java(o.value(), k)).append(");\n");
            }
            sb.append("    }\n  }\n}\n");
        } else {
            tileListing(k, s, sb);
        }
        sb.append("\n// bytecode of run:\n");
        var model = ClassFile.of().parse(classBytes(k, vector));
        for (var m : model.methods()) {
            if (!m.methodName().equalsString("run")) continue;
            m.code().ifPresent(code -> bytecode(code, sb));
        }
        return sb.toString();
    }

    private static void tileListing(Kernel k, Slots s, StringBuilder sb) {
        sb.append("    for (int t = 0; t < count; t += ").append(TILE).append(") {\n");
        sb.append("      int len = Math.min(").append(TILE).append(", count - t);\n");
        sb.append("      long off = (from + t) << 2;\n");
        for (int i = 0; i < k.inputs().size(); i++) {
            if (!s.inputUsed[i]) continue;
            sb.append("      MemorySegment.copy(").append(segName(k, i)).append(", F, off, ").append(arrName(k, i)).append(", 0, len);\n");
        }
        sb.append("      for (int j = 0; j < len; j++) {\n");
        for (int i = 0; i < k.inputs().size(); i++) {
            if (!s.inputUsed[i]) continue;
            sb.append("        float ").append(inName(k, i)).append(" = ").append(arrName(k, i)).append("[j];\n");
        }
        for (Eqn e : k.eqns()) {
            sb.append("        float v").append(e.id()).append(" = ").append(java(e, k)).append(";\n");
        }
        for (Kernel.Output o : k.outputs()) {
            sb.append("        ").append(arrName(k, o.input())).append("[j] = ").append(java(o.value(), k)).append(";\n");
        }
        sb.append("      }\n");
        for (Kernel.Output o : k.outputs()) {
            sb.append("      MemorySegment.copy(").append(arrName(k, o.input())).append(", 0, ").append(segName(k, o.input())).append(", F, off, len);\n");
        }
        sb.append("    }\n  }\n}\n");
    }

    /** One line per instruction, javap-like: {@code fload 19}, {@code invokeinterface MemorySegment.get(...)}. */
    private static void bytecode(java.lang.classfile.CodeModel code, StringBuilder sb) {
        java.util.Map<Label, Integer> labels = new java.util.HashMap<>();
        for (var el : code) if (el instanceof LabelTarget t) labels.putIfAbsent(t.label(), labels.size());
        for (var el : code) {
            String line = switch (el) {
                case LabelTarget t -> "L" + labels.get(t.label()) + ":";
                case BranchInstruction b -> "    " + op(b) + " L" + labels.get(b.target());
                case LoadInstruction l -> "    " + op(l).replaceAll("_\\d$", "") + " " + l.slot();
                case StoreInstruction st -> "    " + op(st).replaceAll("_\\d$", "") + " " + st.slot();
                case IncrementInstruction i -> "    iinc " + i.slot() + " " + i.constant();
                case ConstantInstruction c -> "    " + op(c) + (c.opcode().name().startsWith("LDC") || c.opcode() == Opcode.SIPUSH
                        ? " " + c.constantValue() : "");
                case FieldInstruction f -> "    " + op(f) + " " + f.owner().asSymbol().displayName() + "." + f.name().stringValue();
                case InvokeInstruction iv -> "    " + op(iv) + " " + iv.owner().asSymbol().displayName() + "."
                        + iv.name().stringValue() + iv.typeSymbol().displayDescriptor();
                case Instruction i -> "    " + op(i);
                default -> null; // line numbers, stack maps: not instructions
            };
            if (line != null) sb.append(line).append('\n');
        }
    }

    private static String op(Instruction i) { return i.opcode().name().toLowerCase(Locale.ROOT); }

    private static String java(Eqn e, Kernel k) {
        var a = e.args();
        String x = java(a.get(0), k), y = a.size() > 1 ? java(a.get(1), k) : "", z = a.size() > 2 ? java(a.get(2), k) : "";
        return switch (e.op()) {
            case ADD -> x + " + " + y;
            case SUB -> x + " - " + y;
            case MUL -> x + " * " + y;
            case DIV -> x + " / " + y;
            case NEG -> "-" + x;
            case SQRT -> "(float) Math.sqrt(" + x + ")";
            case ABS -> "Math.abs(" + x + ")";
            case MIN -> "Math.min(" + x + ", " + y + ")";
            case MAX -> "Math.max(" + x + ", " + y + ")";
            case FMA -> "Math.fma(" + x + ", " + y + ", " + z + ")";
            case BF16 -> "Narrowing.bf16(" + x + ")";
            case F16 -> "Narrowing.f16(" + x + ")";
            case BF16_SR -> "Narrowing.bf16Stochastic(" + x + ", " + y + ")";
            case F16_SR -> "Narrowing.f16Stochastic(" + x + ", " + y + ")";
            case RANDOM -> "Philox.uniform(" + (int) ((Operand.Const) a.get(0)).value() + ", "
                    + String.join(", ", a.subList(1, 7).stream().map(o -> java(o, k)).toList()) + ", base / " + k.inputs().size() + ", from + t + j)";
            case LT -> x + " < " + y + " ? 1f : 0f";
            case LE -> x + " <= " + y + " ? 1f : 0f";
            case GT -> x + " > " + y + " ? 1f : 0f";
            case GE -> x + " >= " + y + " ? 1f : 0f";
            case EQ -> x + " == " + y + " ? 1f : 0f";
            case NE -> x + " != " + y + " ? 1f : 0f";
            case SELECT -> x + " != 0f ? " + y + " : " + z;
        };
    }

    private static String javaVector(Eqn e, Kernel k) {
        var a = e.args();
        String x = javaVector(a.get(0), k), y = a.size() > 1 ? javaVector(a.get(1), k) : "", z = a.size() > 2 ? javaVector(a.get(2), k) : "";
        return switch (e.op()) {
            case ADD -> x + ".add(" + y + ")";
            case SUB -> x + ".sub(" + y + ")";
            case MUL -> x + ".mul(" + y + ")";
            case DIV -> x + ".div(" + y + ")";
            case NEG -> x + ".neg()";
            case SQRT -> x + ".lanewise(VectorOperators.SQRT)";
            case ABS -> x + ".abs()";
            case MIN -> x + ".min(" + y + ")";
            case MAX -> x + ".max(" + y + ")";
            case FMA -> x + ".fma(" + y + ", " + z + ")";
            case BF16 -> "VectorNarrowing.bf16(" + x + ")";
            case F16 -> "VectorNarrowing.f16(" + x + ")";
            case BF16_SR, F16_SR, RANDOM -> "/* scalar loop: " + e.op().mnemonic() + " */ " + x;
            case LT, LE, GT, GE, EQ, NE -> "ZERO.blend(ONE, " + x + ".compare(VectorOperators." + e.op().name() + ", " + y + "))";
            case SELECT -> z + ".blend(" + y + ", " + x + ".compare(VectorOperators.NE, ZERO))";
        };
    }

    private static String javaVector(Operand a, Kernel k) {
        return switch (a) {
            case Operand.Const c -> "FloatVector.broadcast(S, " + java(a, k) + ")";
            default -> "V" + java(a, k);
        };
    }

    /** Lanes of FloatVector.SPECIES_PREFERRED, read reflectively so this class loads without the module. */
    private static String preferredLanes() {
        try {
            Class<?> fv = Class.forName("jdk.incubator.vector.FloatVector");
            Object species = fv.getField("SPECIES_PREFERRED").get(null);
            return String.valueOf(Class.forName("jdk.incubator.vector.VectorSpecies").getMethod("length").invoke(species));
        } catch (ReflectiveOperationException | RuntimeException e) {
            return "?";
        }
    }

    private static String java(Operand a, Kernel k) {
        return switch (a) {
            case Operand.Input i -> inName(k, i.index());
            case Operand.Scalar sc -> scalarName(k, sc.index());
            case Operand.Var v -> "v" + v.id();
            case Operand.Const c -> {
                float v = c.value();
                yield Float.isNaN(v) ? String.format(Locale.ROOT, "Float.intBitsToFloat(0x%08x)", c.bits())
                        : Float.isInfinite(v) ? (v > 0 ? "Float.POSITIVE_INFINITY" : "Float.NEGATIVE_INFINITY")
                        : Float.toHexString(v) + "f /* " + v + " */";
            }
        };
    }

    private static String ident(String name) {
        StringBuilder sb = new StringBuilder();
        for (char ch : name.toCharArray()) sb.append(Character.isJavaIdentifierPart(ch) ? ch : '_');
        return sb.toString();
    }

    private static String segName(Kernel k, int i) { return ident(k.inputs().get(i)) + "Buf"; }

    private static String arrName(Kernel k, int i) { return ident(k.inputs().get(i)) + "Tile"; }

    private static String inName(Kernel k, int i) { return ident(k.inputs().get(i)); }

    private static String scalarName(Kernel k, int i) { return "h_" + ident(k.scalars().get(i)); }
}
