package io.nag4j.tornado;

import io.nag4j.core.ir.Kernel;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.opencl.OpenClRenderer;
import io.nag4j.gpu.plan.Renderer;

import java.util.Set;

/**
 * nag4j's own OpenCL C ({@link OpenClRenderer}'s header and element body, unchanged) behind
 * TornadoVM's calling convention, for {@code TaskGraph.prebuiltTask} (target
 * {@code tornado-opencl}): TornadoVM's runtime moves the data, nag4j's code computes.
 *
 * <p>The convention: four leading arguments TornadoVM passes to every kernel (its kernel
 * context, constant and local regions, atomics), then one {@code __global uchar*} per array,
 * pointing at the array's header ({@code NAG4J_HEADER} bytes, 16 with compressed oops) before
 * the data. The arrays are the kernel inputs in order, for a kernel that uses random its tensor
 * table (a {@code LongArray}, {@link io.nag4j.core.ir.Kernel}'s class comment), then the scalars
 * array (the rule's scalars in kernel order). The element count is {@code NAG4J_N}. Both are {@code -D} build options
 * ({@link #buildOptions}), so one source serves every binding.
 */
public final class TornadoOpenClRenderer {
    private TornadoOpenClRenderer() {}

    /** The entry point's name. */
    public static String kernelName(Kernel k) { return OpenClRenderer.kernelName(k); }

    /** Build options: OpenCL's for {@code mode}, then the array header size and the element count. */
    public static String buildOptions(Mode mode, long headerBytes, long n) {
        return OpenClRenderer.buildOptions(mode) + " -w -DNAG4J_HEADER=" + headerBytes + " -DNAG4J_N=" + n + "UL";
    }

    public static String render(Kernel traced, Mode mode) {
        Kernel k = mode.kernel(traced).withFloat32Storage(); // TornadoVM's arrays hold a 16-bit param as float32 values
        StringBuilder sb = new StringBuilder(OpenClRenderer.header(k, mode));
        sb.append("// TornadoVM calling convention (prebuiltTask): build with -DNAG4J_HEADER=<array header bytes> -DNAG4J_N=<elements>\n");
        sb.append("__kernel void ").append(kernelName(k)).append("(__global long *_kernel_context, __constant uchar *_constant_region,\n")
                .append("        __local uchar *_local_region, __global int *_atomics");
        for (int i = 0; i < k.inputs().size(); i++) {
            sb.append(",\n        __global uchar *a").append(i).append(" /* ").append(OpenClRenderer.comment(k.inputs().get(i))).append(" */");
        }
        if (k.usesRandom()) sb.append(",\n        __global uchar *a_tensors /* random's tensor table, a LongArray */");
        sb.append(",\n        __global uchar *a_scalars) {\n");
        Set<Integer> written = OpenClRenderer.written(k);
        for (int i = 0; i < k.inputs().size(); i++) {
            String q = written.contains(i) ? "" : "const ";
            sb.append("    __global ").append(q).append("float* in").append(i).append(" = (__global ").append(q).append("float*) (a").append(i)
                    .append(" + NAG4J_HEADER);\n");
        }
        sb.append("    __global const float* scalars = (__global const float*) (a_scalars + NAG4J_HEADER);\n");
        if (k.usesRandom()) sb.append("    __global const ulong* tensors = (__global const ulong*) (a_tensors + NAG4J_HEADER);\n");
        for (int i = 0; i < k.scalars().size(); i++) {
            sb.append("    const float s").append(i).append(" = scalars[").append(i).append("]; /* ")
                    .append(OpenClRenderer.comment(k.scalars().get(i))).append(" */\n");
        }
        sb.append("    const size_t i = get_global_id(0);\n");
        sb.append("    if (i >= NAG4J_N) return;\n");
        sb.append(OpenClRenderer.body(k));
        sb.append("}\n");
        return sb.toString();
    }

    /** The {@code tornado-opencl} target, found by {@link java.util.ServiceLoader}. */
    public static final class Provider implements Renderer {
        @Override public String target() { return "tornado-opencl"; }
        @Override public String render(Kernel kernel, Mode mode) { return TornadoOpenClRenderer.render(kernel, mode); }
    }
}
