package io.nag4j.gpu.opencl;

import io.nag4j.core.ir.Kernel;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Rules;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.CompiledKernel;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.SplittableRandom;
import java.util.stream.Stream;

import static io.nag4j.gpu.opencl.OpenClTestSupport.show;
import static io.nag4j.gpu.opencl.OpenClTestSupport.values;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * FAST mode against EXACT (the CPU oracle), one step at a time from identical inputs, on
 * random ordinary data: every output within the bound docs/numerics.md states. Prints the
 * measured maximum (the figure in that document).
 */
class OpenClFastModeTest extends OpenClContextTest {
    /**
     * The stated per-step bound (docs/numerics.md, "OpenCL FAST"): |FAST - EXACT| is at most this
     * many ulp of S, the largest magnitude among the element's inputs, scalars and intermediate values.
     */
    static final double BOUND_ULPS_OF_S = 4;


    static Stream<Rule> builtInRules() { return Rules.all().stream(); }

    @ParameterizedTest(name = "{0}")
    @MethodSource("builtInRules")
    void fastStaysWithinItsStatedBound(Rule rule) {
        Kernel k = rule.kernel();
        CompiledKernel ck = ctx.compile(k, Mode.FAST);
        int n = 4099, steps = 50;
        SplittableRandom r = new SplittableRandom(42 + rule.name().hashCode());
        long maxUlp = 0, differing = 0, total = 0;
        double worst = 0;
        float[] in = new float[k.inputs().size()];
        float[] vars = new float[k.eqns().size()];
        try (var run = new OpenClTestSupport.Runner(ctx, ck, n)) {
            for (int t = 1; t <= steps; t++) {
                float[][] cpu = new float[k.inputs().size()][];
                for (int i = 0; i < cpu.length; i++) cpu[i] = values(r, n, 0);
                // State slots as an optimizer leaves them where it matters: second moments and
                // accumulators (under a sqrt) are never negative.
                for (int i = 2; i < cpu.length; i++) for (int e = 0; e < n; e++) cpu[i][e] = Math.abs(cpu[i][e]);
                for (int i = 0; i < cpu.length; i++) run.write(i, cpu[i]);
                float[] scalars = rule.scalars(t, rule.defaults());
                float[][] fast = new float[cpu.length][];
                run.launch(scalars);
                for (Kernel.Output o : k.outputs()) fast[o.input()] = run.read(o.input());
                for (int e = 0; e < n; e++) {
                    float s = 0;
                    for (int i = 0; i < in.length; i++) s = maxMag(s, in[i] = cpu[i][e]);
                    for (float x : scalars) s = maxMag(s, x);
                    io.nag4j.core.ir.Evaluator.evalElement(k, in, scalars, vars);
                    for (float v : vars) s = maxMag(s, v);
                    for (Kernel.Output o : k.outputs()) {
                        float exact = in[o.input()], got = fast[o.input()][e];
                        long d = ulpDistance(exact, got);
                        total++;
                        if (d != 0) differing++;
                        maxUlp = Math.max(maxUlp, d);
                        // Same bits (NaN by class) is within any bound; S ignores NaN intermediates.
                        double ofS = d == 0 ? 0 : Math.abs((double) exact - got) / Math.ulp(s);
                        worst = Math.max(worst, ofS);
                        if (!(ofS <= BOUND_ULPS_OF_S)) {
                            fail(rule.name() + " FAST step " + t + " " + k.inputs().get(o.input()) + " element " + e
                                    + ": exact " + show(exact) + ", fast " + show(got) + " (" + d + " ulp, " + ofS
                                    + " ulp of S=" + show(s) + ")");
                        }
                    }
                }
            }
        }
        System.out.printf("OpenCL FAST %s on %s: max |FAST-EXACT| = %.3f ulp(S), max %d ulp of the result; %d of %d outputs differ%n",
                rule.name(), ctx.info().name(), worst, maxUlp, differing, total);
    }

    /** The larger magnitude, ignoring NaN (a NaN intermediate says nothing of the scale). */
    static float maxMag(float s, float v) { return Float.isNaN(v) ? s : Math.max(s, Math.abs(v)); }

    /** Distance in representable floats; 0 for two NaNs, Long.MAX_VALUE for NaN against a number. */
    static long ulpDistance(float a, float b) {
        if (Float.isNaN(a) || Float.isNaN(b)) return Float.isNaN(a) && Float.isNaN(b) ? 0 : Long.MAX_VALUE;
        return Math.abs(ordered(a) - ordered(b));
    }

    private static long ordered(float f) {
        int bits = Float.floatToRawIntBits(f);
        return bits < 0 ? (long) Integer.MIN_VALUE - bits : bits;
    }
}
