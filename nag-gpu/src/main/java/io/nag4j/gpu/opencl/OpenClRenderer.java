package io.nag4j.gpu.opencl;

import io.nag4j.core.ir.Eqn;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.ir.Op;
import io.nag4j.core.ir.Operand;
import io.nag4j.core.ir.Storage;
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
    public static final int VERSION = 4; // 2: FAST is the fused IR, rendered as EXACT; 3: stochastic rounding, random; 4: 16-bit inputs

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
            // Stochastic rounding with the uniform u (io.nag4j.core.ir.Narrowing's bf16Stochastic, f16Stochastic).
            static inline float nag4j_bf16_sr(float x, float u) {
                uint b = as_uint(x);
                if ((b & 0x7fffffffu) > 0x7f800000u) return as_float((b | 0x00400000u) & 0xffff0000u);
                float frac = (float)(b & 0xffffu) * as_float(0x37800000u);
                uint lo = b & 0xffff0000u;
                return as_float((frac > 0.0f && u < frac) ? lo + 0x10000u : lo);
            }
            static inline float nag4j_f16_sr(float x, float u) {
                uint b = as_uint(x), sign = b & 0x80000000u, a = b & 0x7fffffffu;
                if (a > 0x7f800000u) return as_float((b | 0x00400000u) & 0xffffe000u);
                if (a >= 0x47800000u) return as_float(sign | 0x7f800000u);
                if (a >= 0x38800000u) {
                    float frac = (float)(a & 0x1fffu) * as_float(0x39000000u);
                    uint m = a & 0xffffe000u;
                    if (frac > 0.0f && u < frac) m += 0x2000u;
                    return as_float(sign | (m >= 0x47800000u ? 0x7f800000u : m));
                }
                float y = as_float(a) * as_float(0x4b800000u);
                float f = floor(y);
                float frac = y - f;
                if (frac > 0.0f && u < frac) f += 1.0f;
                return as_float(sign | as_uint(f * as_float(0x33800000u)));
            }
            // 16-bit inputs: the bit patterns widened exactly on load, a value of the type stored as its pattern.
            static inline float nag4j_load_bf16(ushort h) { return as_float((uint)h << 16); }
            static inline ushort nag4j_store_bf16(float x) { return (ushort)(as_uint(x) >> 16); }
            static inline float nag4j_load_f16(ushort h) {
                uint s = ((uint)h & 0x8000u) << 16, e = ((uint)h >> 10) & 0x1fu, m = (uint)h & 0x3ffu;
                if (e == 0x1fu) return as_float(s | 0x7f800000u | (m << 13));
                if (e == 0u) return as_float(s | as_uint((float)m * as_float(0x33800000u)));
                return as_float(s | ((e + 112u) << 23) | (m << 13));
            }
            static inline ushort nag4j_store_f16(float x) {
                uint b = as_uint(x), s = (b >> 16) & 0x8000u, a = b & 0x7fffffffu;
                if (a >= 0x7f800000u) return (ushort)(s | 0x7c00u | ((a >> 13) & 0x3ffu));
                if (a >= 0x38800000u) return (ushort)(s | ((a - 0x38000000u) >> 13));
                return (ushort)(s | (uint)(as_float(a) * as_float(0x4b800000u)));
            }
            // Philox-4x32-10 word `word` of counter (element, element >> 32, tensor, step), key seed, as (w >> 8) * 2^-24
            // (io.nag4j.core.ir.Philox). The seed and step come as 16-bit pieces in integer floats.
            static inline float nag4j_random(uint word, float s0, float s1, float s2, float s3, float t0, float t1,
                                             uint tensor, ulong element) {
                uint k0 = (uint)s0 | ((uint)s1 << 16), k1 = (uint)s2 | ((uint)s3 << 16);
                uint c0 = (uint)element, c1 = (uint)(element >> 32), c2 = tensor, c3 = (uint)t0 | ((uint)t1 << 16);
                #pragma unroll
                for (int r = 0; r < 10; r++) {
                    // the 64-bit products, whose halves are mul_hi's and the low product's
                    ulong p0 = (ulong)0xD2511F53u * c0, p1 = (ulong)0xCD9E8D57u * c2;
                    uint n0 = (uint)(p1 >> 32) ^ c1 ^ k0, n2 = (uint)(p0 >> 32) ^ c3 ^ k1;
                    c1 = (uint)p1; c3 = (uint)p0; c0 = n0; c2 = n2;
                    k0 += 0x9E3779B9u; k1 += 0xBB67AE85u; // the key of the next round (unused after the last)
                }
                uint w = word == 0u ? c0 : word == 1u ? c1 : word == 2u ? c2 : c3;
                return (float)(w >> 8) * as_float(0x33800000u);
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
            sb.append(",\n        __global ").append(written.contains(i) ? "" : "const ").append(k.storage(i) == Storage.F32 ? "float" : "ushort").append("* in").append(i)
                    .append(" /* ").append(comment(k.inputs().get(i))).append(" */");
        }
        if (k.usesRandom()) sb.append(",\n        __global const ulong* tensors /* [T, start_0 .. start_T-1] */");
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
     * {@code __global float*} per input, {@code ushort*} for a 16-bit one), {@code s<j>} (a {@code float} per scalar) and, if the
     * kernel {@link Kernel#usesRandom() uses random}, {@code tensors} (the table) in scope,
     * it loads every input, computes, and stores every output.
     */
    public static String body(Kernel k) {
        StringBuilder sb = new StringBuilder();
        if (k.usesRandom()) {
            // The element's tensor: the last k with start_k <= i (binary search of the table); its index within it.
            // The same trip count in every work-item (it depends on T only), so vectorizing compilers keep the lanes together.
            sb.append("    const uint count = (uint)tensors[0];\n");
            sb.append("    uint lo = 0u;\n");
            sb.append("    for (uint b = 1u << (31u - clz(count)); b > 0u; b >>= 1) if (lo + b < count && tensors[1 + lo + b] <= i) lo += b;\n");
            sb.append("    const uint tensor = lo;\n");
            sb.append("    const ulong element = i - tensors[1 + lo];\n");
        }
        for (int i = 0; i < k.inputs().size(); i++) {
            String load = switch (k.storage(i)) {
                case F32 -> "in" + i + "[i]";
                case BF16 -> "nag4j_load_bf16(in" + i + "[i])";
                case F16 -> "nag4j_load_f16(in" + i + "[i])";
            };
            sb.append("    const float x").append(i).append(" = ").append(load).append(";\n");
        }
        for (Eqn e : k.eqns()) {
            sb.append("    const float v").append(e.id()).append(" = ").append(expr(e.op(), e.args())).append(";\n");
        }
        List<Kernel.Output> outs = k.outputs();
        for (int j = 0; j < outs.size(); j++) {
            sb.append("    const float o").append(j).append(" = ").append(operand(outs.get(j).value())).append(";\n");
        }
        for (int j = 0; j < outs.size(); j++) {
            int in = outs.get(j).input();
            String store = switch (k.storage(in)) {
                case F32 -> "o" + j;
                case BF16 -> "nag4j_store_bf16(o" + j + ")";
                case F16 -> "nag4j_store_f16(o" + j + ")";
            };
            sb.append("    in").append(in).append("[i] = ").append(store).append(";\n");
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
            case BF16_SR -> "nag4j_bf16_sr(" + a + ", " + b + ")";
            case F16_SR -> "nag4j_f16_sr(" + a + ", " + b + ")";
            case RANDOM -> "nag4j_random(" + (int) ((Operand.Const) args.get(0)).value() + "u, "
                    + String.join(", ", args.subList(1, 7).stream().map(OpenClRenderer::operand).toList()) + ", tensor, element)";
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
