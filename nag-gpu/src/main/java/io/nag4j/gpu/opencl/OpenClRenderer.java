package io.nag4j.gpu.opencl;

import io.nag4j.core.ir.Eqn;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.ir.Op;
import io.nag4j.core.ir.Operand;
import io.nag4j.core.optim.Mode;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Set;

/**
 * Lowers an IR {@link Kernel} to OpenCL C: a pure function of the kernel and the {@link Mode}.
 *
 * <p>The generated kernel follows the kernel ABI: {@code (ulong n, one __global float* per
 * input, one float per scalar)}, one work-item per element with a bounds check. Every output is
 * computed into a local before any is stored, since an output may read an input that another
 * output overwrites.
 *
 * <p>Both modes: {@code #pragma OPENCL FP_CONTRACT OFF}, constants as exact bit patterns, no
 * {@code native_}/{@code half_} functions, MIN/MAX lowered to a helper with Java's semantics
 * (OpenCL {@code fmin}/{@code fmax} drop NaN and leave the sign of zero open), and build options
 * {@link #buildOptions(Mode)} that ask for correctly rounded divide and sqrt. Each equation is
 * its own statement, so even a compiler that contracts only within an expression has nothing to
 * fuse; the pragma keeps it so for compilers that would fuse across statements.
 *
 * <p>FAST mode is not this renderer's business: it renders {@link Mode#kernel} (the IR after
 * {@link io.nag4j.core.ir.Fusion}) exactly as EXACT renders the traced kernel, the IR's FMA
 * lowered to OpenCL's correctly rounded {@code fma()}.
 */
public final class OpenClRenderer {
    /** Part of the program cache key: bump when the generated text changes meaning. */
    public static final int VERSION = 2; // 2: FAST is the fused IR, rendered as EXACT

    private static final String PRELUDE = """
            // Java's Math.min/max: NaN if either is NaN; -0 below +0. (fmin/fmax differ on both.)
            static inline float nag4j_min(float a, float b) {
                if (isnan(a) || isnan(b)) return a + b;
                if (a == b) return as_float(as_uint(a) | as_uint(b));
                return a < b ? a : b;
            }
            static inline float nag4j_max(float a, float b) {
                if (isnan(a) || isnan(b)) return a + b;
                if (a == b) return as_float(as_uint(a) & as_uint(b));
                return a > b ? a : b;
            }
            // Rounding to bfloat16 / float16 and back (io.nag4j.core.ir.Narrowing's integer definition).
            static inline float nag4j_bf16(float x) {
                uint b = as_uint(x);
                if ((b & 0x7fffffffu) > 0x7f800000u) return as_float((b | 0x00400000u) & 0xffff0000u);
                return as_float((b + 0x7fffu + ((b >> 16) & 1u)) & 0xffff0000u);
            }
            static inline float nag4j_f16(float x) {
                uint b = as_uint(x), sign = b & 0x80000000u, a = b & 0x7fffffffu;
                if (a > 0x7f800000u) return as_float((b | 0x00400000u) & 0xffffe000u);
                if (a >= 0x477ff000u) return as_float(sign | 0x7f800000u);
                if (a >= 0x38800000u) return as_float(sign | ((a + 0xfffu + ((a >> 13) & 1u)) & 0xffffe000u));
                return as_float(sign | as_uint((as_float(a) + 0.5f) - 0.5f));
            }
            """;

    private OpenClRenderer() {}

    /** Build options for {@code clBuildProgram}, the same in both modes: correctly rounded divide and sqrt, never mad/fast/ftz flags. */
    public static String buildOptions(Mode mode) {
        return "-cl-fp32-correctly-rounded-divide-sqrt";
    }

    /** The OpenCL C function name for {@code k}: {@code nag4j_} and the rule name made a C identifier. */
    public static String kernelName(Kernel k) {
        StringBuilder sb = new StringBuilder("nag4j_");
        for (char c : k.name().toCharArray()) sb.append(isIdent(c) ? c : '_');
        return sb.toString();
    }

    /** The complete program text for {@code traced} in {@code mode}. */
    public static String render(Kernel traced, Mode mode) {
        Kernel k = mode.kernel(traced);
        StringBuilder sb = new StringBuilder(header(k, mode));
        Set<Integer> written = written(k);
        sb.append("__kernel void ").append(kernelName(k)).append("(const ulong n");
        for (int i = 0; i < k.inputs().size(); i++) {
            sb.append(",\n        __global ").append(written.contains(i) ? "" : "const ").append("float* in").append(i)
                    .append(" /* ").append(comment(k.inputs().get(i))).append(" */");
        }
        for (int i = 0; i < k.scalars().size(); i++) {
            sb.append(",\n        const float s").append(i).append(" /* ").append(comment(k.scalars().get(i))).append(" */");
        }
        sb.append(") {\n");
        sb.append("    const size_t i = get_global_id(0);\n");
        sb.append("    if (i >= n) return;\n");
        sb.append(body(k));
        sb.append("}\n");
        return sb.toString();
    }

    /**
     * What comes before the kernel function: the pragma that turns contraction off, a comment
     * naming the kernel and renderer, and the helpers the body calls. Another calling convention
     * (TornadoVM's, for its prebuilt tasks) writes its own entry around {@link #body}.
     */
    public static String header(Kernel k, Mode mode) {
        return "#pragma OPENCL FP_CONTRACT OFF\n"
                + "// nag4j " + comment(k.name()) + ", mode " + mode + ", IR sha256 " + k.hash().substring(0, 16)
                + ", renderer v" + VERSION + "\n" + PRELUDE;
    }

    /** The inputs the kernel writes back (their pointers are not {@code const}). */
    public static Set<Integer> written(Kernel k) {
        Set<Integer> written = new HashSet<>();
        for (Kernel.Output o : k.outputs()) written.add(o.input());
        return written;
    }

    /**
     * The statements of one element: with {@code i} (the element), {@code in<j>} (a
     * {@code __global float*} per input) and {@code s<j>} (a {@code float} per scalar) in scope,
     * it loads every input, computes, and stores every output.
     */
    public static String body(Kernel k) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < k.inputs().size(); i++) {
            sb.append("    const float x").append(i).append(" = in").append(i).append("[i];\n");
        }
        for (Eqn e : k.eqns()) {
            sb.append("    const float v").append(e.id()).append(" = ").append(expr(e.op(), e.args())).append(";\n");
        }
        List<Kernel.Output> outs = k.outputs();
        for (int j = 0; j < outs.size(); j++) {
            sb.append("    const float o").append(j).append(" = ").append(operand(outs.get(j).value())).append(";\n");
        }
        for (int j = 0; j < outs.size(); j++) {
            sb.append("    in").append(outs.get(j).input()).append("[i] = o").append(j).append(";\n");
        }
        return sb.toString();
    }

    /** One op as C text; the switch is exhaustive, so a new {@link Op} fails to compile here. */
    static String expr(Op op, List<Operand> args) {
        String a = operand(args.get(0));
        String b = args.size() > 1 ? operand(args.get(1)) : null;
        String c = args.size() > 2 ? operand(args.get(2)) : null;
        return switch (op) {
            case ADD -> a + " + " + b;
            case SUB -> a + " - " + b;
            case MUL -> a + " * " + b;
            case DIV -> a + " / " + b;
            case NEG -> "-" + a;
            case SQRT -> "sqrt(" + a + ")";
            case ABS -> "fabs(" + a + ")";
            case MIN -> "nag4j_min(" + a + ", " + b + ")";
            case MAX -> "nag4j_max(" + a + ", " + b + ")";
            case FMA -> "fma(" + a + ", " + b + ", " + c + ")";
            case BF16 -> "nag4j_bf16(" + a + ")";
            case F16 -> "nag4j_f16(" + a + ")";
            case LT -> cmp(a, "<", b);
            case LE -> cmp(a, "<=", b);
            case GT -> cmp(a, ">", b);
            case GE -> cmp(a, ">=", b);
            case EQ -> cmp(a, "==", b);
            case NE -> cmp(a, "!=", b);
            case SELECT -> "(" + a + " != 0.0f) ? " + b + " : " + c;
        };
    }

    private static String cmp(String a, String rel, String b) {
        return "(" + a + " " + rel + " " + b + ") ? 1.0f : 0.0f";
    }

    static String operand(Operand o) {
        return switch (o) {
            case Operand.Input in -> "x" + in.index();
            case Operand.Scalar s -> "s" + s.index();
            case Operand.Const c -> String.format(Locale.ROOT, "as_float(0x%08xu)", c.bits());
            case Operand.Var v -> "v" + v.id();
        };
    }

    private static boolean isIdent(char c) {
        return c < 128 && (Character.isLetterOrDigit(c) || c == '_');
    }

    /** Text safe inside a C comment. */
    public static String comment(String s) {
        StringBuilder sb = new StringBuilder();
        for (char c : s.toCharArray()) sb.append(isIdent(c) || c == '-' || c == '.' ? c : '_');
        return sb.toString();
    }

    /** The {@code opencl} target, found by {@link java.util.ServiceLoader}. */
    public static final class Provider implements io.nag4j.gpu.plan.Renderer {
        @Override public String target() { return "opencl"; }
        @Override public String render(Kernel kernel, Mode mode) { return OpenClRenderer.render(kernel, mode); }
    }
}
