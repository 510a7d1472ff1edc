package io.nag4j.tornado;

import io.nag4j.core.ir.Eqn;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.ir.Op;
import io.nag4j.core.ir.Operand;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.plan.Renderer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Lowers an IR {@link Kernel} to a Java class that TornadoVM's own JIT compiles (target
 * {@code tornado}): a pure function of the kernel and the mode, like every renderer.
 *
 * <p>The class has one kernel method in TornadoVM's Kernel API ({@code KernelContext}, one thread
 * per element, a bounds check), over one {@code FloatArray} per kernel input (the packed
 * ParamSet), one {@code FloatArray} of scalars and the element count; and {@code addTask}, which
 * adds it to a {@code TaskGraph} with a method reference, as a TornadoVM program would. The
 * scalars array holds the rule's scalars in kernel order, then {@link #spilledConstants}: the
 * constants Java source can spell but TornadoVM's OpenCL code generator cannot (it prints a
 * float constant with {@code Float.toString}, so NaN becomes the undeclared {@code NaN}), which
 * therefore travel as data, bits intact. Finite constants are hex float literals, exact in javac
 * and printed by TornadoVM with the shortest decimal that reads back to the same float.
 *
 * <p>Java semantics where TornadoVM's would differ: comparisons test NaN first (TornadoVM compiles
 * {@code a <= b} as {@code !(b < a)}, true for NaN), MIN and MAX are compares and selects with
 * Java's NaN and signed-zero rules (OpenCL's {@code fmin}/{@code fmax} differ on both), SQRT is
 * {@code TornadoMath.sqrt} (OpenCL {@code sqrt}; correctly rounded with the build flag EXACT
 * passes). FMA has no exact lowering: TornadoVM inlines {@code Math.fma} as double arithmetic it
 * cannot compile, and its only {@code fma} comes from its FMA pass, which fuses every
 * {@code a*b+c}. So EXACT refuses FMA (the backend says so before binding); FAST writes
 * {@code a * b + c} and leaves fusing to TornadoVM.
 */
public final class TornadoKernelRenderer {
    /** Bump when the generated text changes meaning. */
    public static final int VERSION = 4;
    /** The package of generated kernel classes. */
    public static final String PACKAGE = "io.nag4j.tornado.generated";
    /** TornadoVM's {@code TaskGraph.task} takes at most 15 arguments: the context, the scalars, n and 12 inputs. */
    public static final int MAX_INPUTS = 12;

    private TornadoKernelRenderer() {}

    /** The generated class's simple name: the rule's name made an identifier, and a prefix of the IR hash. */
    public static String className(Kernel k, Mode mode) {
        StringBuilder sb = new StringBuilder("Nag4j_");
        for (char c : k.name().toCharArray()) sb.append(c < 128 && Character.isLetterOrDigit(c) ? c : '_');
        // The IR hash, the mode and the renderer version determine the text: a class file of this name is this kernel.
        String id = sha256(k.print() + "\n" + mode + "\nrenderer v" + VERSION).substring(0, 20);
        return sb.append('_').append(mode.name().toLowerCase(java.util.Locale.ROOT)).append('_').append(id).toString();
    }

    private static String sha256(String s) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** The kernel method's name, which TornadoVM also gives the OpenCL kernel: {@code nag4j_} and the rule's name. */
    public static String methodName(Kernel k) {
        StringBuilder sb = new StringBuilder("nag4j_");
        for (char c : k.name().toCharArray()) sb.append(c < 128 && Character.isLetterOrDigit(c) ? c : '_');
        return sb.toString();
    }

    /** The binary name of the generated class. */
    public static String binaryName(Kernel k, Mode mode) { return PACKAGE + "." + className(k, mode); }

    /** The non-finite constants of {@code k} (after {@link #folded}), as raw bits, in the order they follow the rule's scalars. */
    public static List<Integer> spilledConstants(Kernel k) {
        Map<Integer, Operand.Const> folded = folded(k);
        List<Operand> used = new ArrayList<>();
        for (Eqn e : k.eqns()) used.addAll(folded.containsKey(e.id()) ? List.of(folded.get(e.id())) : e.args());
        for (Kernel.Output o : k.outputs()) used.add(o.value());
        List<Integer> out = new ArrayList<>();
        for (Operand a : used) {
            if (resolve(a, folded) instanceof Operand.Const c && !Float.isFinite(c.value()) && !out.contains(c.bits())) out.add(c.bits());
        }
        return out;
    }

    /**
     * The equations whose arguments are all constants, computed here with the IR's own float
     * meaning ({@link Op#eval}, the reference's). TornadoVM's compiler folds them anyway, and
     * prints a NaN it folds as the undeclared {@code NaNF} (seen with {@code sqrt} of a negative
     * constant); folded here, a non-finite result travels as a spilled constant like any other.
     */
    static Map<Integer, Operand.Const> folded(Kernel k) {
        Map<Integer, Operand.Const> out = new HashMap<>();
        for (Eqn e : k.eqns()) {
            float[] v = new float[3];
            boolean constant = true;
            for (int i = 0; i < e.args().size(); i++) {
                if (resolve(e.args().get(i), out) instanceof Operand.Const c) v[i] = c.value();
                else constant = false;
            }
            // FMA is left to render's refusal, as unfolded.
            if (constant && e.op() != Op.FMA) out.put(e.id(), new Operand.Const(Float.floatToRawIntBits(e.op().eval(v[0], v[1], v[2]))));
        }
        return out;
    }

    private static Operand resolve(Operand o, Map<Integer, Operand.Const> folded) {
        return o instanceof Operand.Var v && folded.containsKey(v.id()) ? folded.get(v.id()) : o;
    }

    /** Floats the scalars array holds: the rule's scalars, then the spilled constants. */
    public static int scalarSlots(Kernel k) { return k.scalars().size() + spilledConstants(k).size(); }

    /**
     * The Java source of the kernel class.
     *
     * @throws IllegalArgumentException if the kernel has more than {@link #MAX_INPUTS} inputs, or
     *                                  uses FMA in EXACT mode (no exact lowering; see the class doc)
     */
    public static String render(Kernel traced, Mode mode) {
        Kernel k = mode.kernel(traced);
        if (k.inputs().size() > MAX_INPUTS) {
            throw new IllegalArgumentException("rule '" + k.name() + "' has " + k.inputs().size() + " element inputs; a TornadoVM task takes at most "
                    + MAX_INPUTS + " beside its context, scalars and size");
        }
        List<Integer> spilled = spilledConstants(k);
        Map<Integer, Operand.Const> folded = folded(k);
        String cls = className(k, mode);
        StringBuilder sb = new StringBuilder();
        sb.append("// nag4j ").append(comment(k.name())).append(", mode ").append(mode).append(", IR sha256 ").append(k.hash(), 0, 16)
                .append(", renderer v").append(VERSION).append(": a kernel for TornadoVM's JIT (its Kernel API)\n");
        sb.append("package ").append(PACKAGE).append(";\n\n");
        sb.append("import uk.ac.manchester.tornado.api.KernelContext;\n");
        sb.append("import uk.ac.manchester.tornado.api.TaskGraph;\n");
        sb.append("import uk.ac.manchester.tornado.api.math.TornadoMath;\n");
        sb.append("import uk.ac.manchester.tornado.api.types.arrays.FloatArray;\n\n");
        sb.append("public final class ").append(cls).append(" {\n");
        sb.append("    private ").append(cls).append("() {}\n\n");
        sb.append("    /** One element per thread. Inputs:");
        for (int i = 0; i < k.inputs().size(); i++) sb.append(" in").append(i).append(" = ").append(comment(k.inputs().get(i))).append(';');
        sb.append(" scalars:");
        for (int i = 0; i < k.scalars().size(); i++) sb.append(' ').append(i).append(" = ").append(comment(k.scalars().get(i))).append(';');
        for (int i = 0; i < spilled.size(); i++) {
            sb.append(' ').append(k.scalars().size() + i).append(String.format(java.util.Locale.ROOT, " = constant 0x%08x;", spilled.get(i)));
        }
        sb.append(" */\n");
        sb.append("    public static void ").append(methodName(k)).append("(KernelContext context");
        for (int i = 0; i < k.inputs().size(); i++) sb.append(", FloatArray in").append(i);
        sb.append(", FloatArray scalars, int n) {\n");
        sb.append("        int i = context.globalIdx;\n");
        sb.append("        if (i < n) {\n");
        for (int i = 0; i < k.inputs().size(); i++) sb.append("            float x").append(i).append(" = in").append(i).append(".get(i);\n");
        for (int i = 0; i < k.scalars().size(); i++) sb.append("            float s").append(i).append(" = scalars.get(").append(i).append(");\n");
        for (int i = 0; i < spilled.size(); i++) {
            sb.append("            float c").append(i).append(" = scalars.get(").append(k.scalars().size() + i).append(");\n");
        }
        for (Eqn e : k.eqns()) {
            String value = folded.containsKey(e.id()) ? operand(folded.get(e.id()), spilled) : expr(k, e.op(), e.args(), mode, spilled);
            sb.append("            float v").append(e.id()).append(" = ").append(value).append(";\n");
        }
        List<Kernel.Output> outs = k.outputs();
        // Every input was read above, so the stores may go in any order.
        for (Kernel.Output o : outs) {
            sb.append("            in").append(o.input()).append(".set(i, ").append(operand(o.value(), spilled)).append(");\n");
        }
        sb.append("        }\n    }\n\n");
        sb.append("    /** Adds {@link #").append(methodName(k)).append("} to {@code graph} as task {@code id}, over {@code inputs} in kernel order. */\n");
        sb.append("    public static TaskGraph addTask(TaskGraph graph, String id, KernelContext context, FloatArray[] inputs, FloatArray scalars, int n) {\n");
        sb.append("        return graph.task(id, ").append(cls).append("::").append(methodName(k)).append(", context");
        for (int i = 0; i < k.inputs().size(); i++) sb.append(", inputs[").append(i).append(']');
        sb.append(", scalars, n);\n    }\n}\n");
        return sb.toString();
    }

    /** One op as a Java expression over plain names; the switch is exhaustive, so a new {@link Op} fails to compile here. */
    static String expr(Kernel k, Op op, List<Operand> args, Mode mode, List<Integer> spilled) {
        String a = operand(args.get(0), spilled);
        String b = args.size() > 1 ? operand(args.get(1), spilled) : null;
        String c = args.size() > 2 ? operand(args.get(2), spilled) : null;
        return switch (op) {
            case ADD -> a + " + " + b;
            case SUB -> a + " - " + b;
            case MUL -> a + " * " + b;
            case DIV -> a + " / " + b;
            case NEG -> "-" + a;
            case SQRT -> "TornadoMath.sqrt(" + a + ")";
            case ABS -> "Math.abs(" + a + ")";
            // Java's Math.min/max: NaN if either is NaN; equal values are the same but for signed
            // zeros, where -(-a - b) is -0 unless both are +0 (min) and a + b is +0 unless both are -0 (max).
            case MIN -> "(" + a + " != " + a + " || " + b + " != " + b + ") ? " + a + " + " + b + " : " + a + " < " + b + " ? " + a
                    + " : " + b + " < " + a + " ? " + b + " : " + a + " == 0.0f ? -(-" + a + " - " + b + ") : " + a;
            case MAX -> "(" + a + " != " + a + " || " + b + " != " + b + ") ? " + a + " + " + b + " : " + a + " > " + b + " ? " + a
                    + " : " + b + " > " + a + " ? " + b + " : " + a + " == 0.0f ? " + a + " + " + b + " : " + a;
            case FMA -> throw new IllegalArgumentException("rule '" + k.name() + "' uses fma" + (mode == Mode.FAST ? " (FAST fuses its multiply-adds)" : "")
                    + ", which TornadoVM's JIT cannot compute exactly (Math.fma is inlined as double arithmetic it cannot compile; its FMA pass fuses every a*b+c)");
            case BF16, F16, BF16_SR, F16_SR, RANDOM -> throw new IllegalArgumentException("rule '" + k.name() + "' narrows to " + op.mnemonic()
                    + " (mixed precision), which the tornado JIT renderer does not lower yet; tornado-prebuilt runs nag4j's OpenCL C, which does");
            case LT -> cmp(a, "<", b);
            case LE -> cmp(a, "<=", b);
            case GT -> cmp(a, ">", b);
            case GE -> cmp(a, ">=", b);
            case EQ -> cmp(a, "==", b);
            case NE -> cmp(a, "!=", b);
            case SELECT -> a + " != 0.0f ? " + b + " : " + c;
        };
    }

    /**
     * A comparison with its NaN case spelled out: TornadoVM's OpenCL code generator drops the
     * "unordered" half of Graal's float compares, so it compiles {@code a <= b} as
     * {@code !isless(b, a)}, true when either is NaN. Inside the ordered branch every compare is
     * right; NaN is checked with {@code x != x}, which it compiles as {@code isequal}.
     */
    private static String cmp(String a, String rel, String b) {
        String unordered = rel.equals("!=") ? "1.0f" : "0.0f";
        return "(" + a + " != " + a + " || " + b + " != " + b + ") ? " + unordered + " : " + a + " " + rel + " " + b + " ? 1.0f : 0.0f";
    }

    /** A name, or a constant: a hex float literal in parentheses (so a sign never meets another), or a spilled slot. */
    static String operand(Operand o, List<Integer> spilled) {
        return switch (o) {
            case Operand.Input in -> "x" + in.index();
            case Operand.Scalar s -> "s" + s.index();
            case Operand.Const c -> Float.isFinite(c.value()) ? "(" + Float.toHexString(c.value()) + "f)" : "c" + spilled.indexOf(c.bits());
            case Operand.Var v -> "v" + v.id();
        };
    }

    /** Text safe inside a comment. */
    static String comment(String s) {
        StringBuilder sb = new StringBuilder();
        for (char c : s.toCharArray()) sb.append(c < 128 && (Character.isLetterOrDigit(c) || c == '_' || c == '-' || c == '.') ? c : '_');
        return sb.toString();
    }

    /** The {@code tornado} target, found by {@link java.util.ServiceLoader}. */
    public static final class Provider implements Renderer {
        @Override public String target() { return "tornado"; }
        @Override public String render(Kernel kernel, Mode mode) { return TornadoKernelRenderer.render(kernel, mode); }
    }
}
