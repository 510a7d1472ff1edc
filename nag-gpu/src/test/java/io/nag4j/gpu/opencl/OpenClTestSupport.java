package io.nag4j.gpu.opencl;

import io.nag4j.core.ir.Evaluator;
import io.nag4j.core.ir.Kernel;
import io.nag4j.gpu.device.CompiledKernel;
import io.nag4j.gpu.device.DeviceBuffer;
import io.nag4j.gpu.device.DeviceContext;
import io.nag4j.gpu.device.DeviceUnavailableException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Shared pieces of the OpenCL tests: a driver that skips the test with a visible reason when no
 * platform exists (and fails instead when {@code NAG4J_REQUIRE_OPENCL=1}, as in CI), a device
 * runner over plain arrays, the CPU oracle, and random data with special values.
 */
public final class OpenClTestSupport {
    private OpenClTestSupport() {}

    /** Whether CI demands OpenCL ({@code NAG4J_REQUIRE_OPENCL=1}): then a missing platform fails. */
    public static boolean required() { return io.nag4j.core.testing.Requires.required("OPENCL"); }

    /** A driver with a working device whose disk cache is {@code cacheDir}; skips (or fails in CI) otherwise. */
    public static OpenClDriver driverOrSkip(Path cacheDir) {
        OpenClDriver d = new OpenClDriver(OpenCl::get, () -> cacheDir);
        try {
            d.devices();
        } catch (DeviceUnavailableException e) {
            io.nag4j.core.testing.Requires.available("OPENCL", "OpenCL is unavailable: " + e.getMessage());
        }
        return d;
    }

    /** As {@link #driverOrSkip(Path)} with a fresh temporary cache directory. */
    public static OpenClDriver driverOrSkip() {
        try {
            return driverOrSkip(Files.createTempDirectory("nag4j-ocl-cache"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs one compiled kernel over {@code n} elements held in one device buffer per input. */
    public static final class Runner implements AutoCloseable {
        final DeviceContext ctx;
        final CompiledKernel ck;
        final int n;
        final List<DeviceBuffer> bufs = new ArrayList<>();

        public Runner(DeviceContext ctx, CompiledKernel ck, int n) {
            this.ctx = ctx;
            this.ck = ck;
            this.n = n;
            for (String in : ck.kernel().inputs()) bufs.add(ctx.allocate(in, Math.max(1, n) * 4L));
        }

        public void write(int input, float[] data) {
            ctx.copyIn(bufs.get(input), 0, MemorySegment.ofArray(data), true);
        }

        public float[] read(int input) {
            float[] out = new float[n];
            ctx.copyOut(bufs.get(input), 0, MemorySegment.ofArray(out));
            return out;
        }

        public void launch(float[] scalars) {
            ctx.launch(ck, n, bufs, scalars);
            ctx.finish();
        }

        @Override
        public void close() {
            for (DeviceBuffer b : bufs) b.close();
        }
    }

    /** The CPU oracle: {@link Evaluator#evalElement} over every element, in place (one tensor, index 0, for random). */
    public static void evaluate(Kernel k, float[][] inputs, float[] scalars) {
        float[] in = new float[inputs.length];
        float[] vars = new float[k.eqns().size()];
        for (int e = 0; e < inputs[0].length; e++) {
            for (int i = 0; i < in.length; i++) in[i] = inputs[i][e];
            Evaluator.evalElement(k, in, scalars, vars, 0, e);
            for (Kernel.Output o : k.outputs()) inputs[o.input()][e] = in[o.input()];
        }
    }

    /** Bitwise equality, NaN by class. */
    public static boolean same(float a, float b) {
        return Float.floatToRawIntBits(a) == Float.floatToRawIntBits(b) || (Float.isNaN(a) && Float.isNaN(b));
    }

    /** Fails naming context, element, both values and the element's inputs if any element differs. */
    public static void assertSameBits(float[] expected, float[] actual, String context, float[][] inputsBefore) {
        for (int e = 0; e < expected.length; e++) {
            if (!same(expected[e], actual[e])) {
                int bad = 0;
                for (int j = e; j < expected.length; j++) if (!same(expected[j], actual[j])) bad++;
                StringBuilder in = new StringBuilder();
                if (inputsBefore != null) for (float[] x : inputsBefore) in.append(' ').append(show(x[e]));
                fail(context + ": " + bad + " of " + expected.length + " elements differ; first is element " + e
                        + ": expected " + show(expected[e]) + ", got " + show(actual[e]) + "; inputs were" + in);
            }
        }
    }

    public static String show(float v) {
        return String.format("%08x(%s)", Float.floatToRawIntBits(v), v);
    }

    /**
     * A random float: mostly ordinary values of varied magnitude, with a share {@code special}
     * of NaN, infinities, signed zeros, subnormals, extremes and raw random bits.
     */
    public static float value(SplittableRandom r, double special) {
        if (r.nextDouble() >= special) {
            float m = (float) (r.nextDouble() * 2 - 1);
            return m * (float) Math.pow(2, r.nextInt(-8, 9));
        }
        return switch (r.nextInt(12)) {
            case 0 -> Float.NaN;
            case 1 -> Float.POSITIVE_INFINITY;
            case 2 -> Float.NEGATIVE_INFINITY;
            case 3 -> 0f;
            case 4 -> -0f;
            case 5 -> Float.intBitsToFloat(r.nextInt(1, 0x00800000)); // positive subnormal
            case 6 -> -Float.intBitsToFloat(r.nextInt(1, 0x00800000));
            case 7 -> Float.MIN_VALUE * (r.nextBoolean() ? 1 : -1);
            case 8 -> Float.MAX_VALUE * (r.nextBoolean() ? 1 : -1);
            case 9 -> Float.MIN_NORMAL * (r.nextBoolean() ? 1 : -1);
            case 10 -> 1f;
            default -> Float.intBitsToFloat(r.nextInt());
        };
    }

    public static float[] values(SplittableRandom r, int n, double special) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = value(r, special);
        return a;
    }
}
