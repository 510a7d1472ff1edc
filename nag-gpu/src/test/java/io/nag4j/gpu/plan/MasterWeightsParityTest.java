package io.nag4j.gpu.plan;

import io.nag4j.core.bound.BoundOptimizer;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.optim.Mode;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.MasterWeights;
import io.nag4j.core.rule.Rounding;
import io.nag4j.core.ir.Evaluator;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Rules;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import io.nag4j.core.testing.Requires;
import io.nag4j.gpu.opencl.OpenClTestSupport;
import io.nag4j.gpu.ptx.PtxInterpreter;
import io.nag4j.gpu.ptx.PtxRenderer;
import io.nag4j.gpu.ptx.Ptxas;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Mixed precision (16-bit params, float32 master weights) on every backend against the
 * independent reference ({@code MasterWeightsReference}): every built-in rule, bf16 and f16,
 * params, every slot and the master, bit for bit (NaN by class) after every step; the PTX of each
 * kernel through the interpreter against the evaluator, and through ptxas where it is.
 */
public class MasterWeightsParityTest {
    static final int STEPS = 12;
    public static final List<Rounding> ROUNDINGS = List.of(Rounding.NEAREST, Rounding.stochastic(0x5eed_0000_0000_0007L), Rounding.stochastic(-1));

    public static ParamSet params(SplittableRandom r, MasterWeights mw) {
        List<Tensor> l = new ArrayList<>();
        int[] sizes = {1, 7, 33, 130};
        for (int i = 0; i < sizes.length; i++) {
            float[] v = new float[sizes[i]];
            for (int k = 0; k < v.length; k++) v[k] = mw.round((float) (r.nextGaussian() * (k % 5 == 0 ? 1e-3 : 2)));
            l.add(Tensor.of("p" + i, v));
        }
        return new ParamSet(l);
    }

    public static ParamSet updates(SplittableRandom r, ParamSet like, int step) {
        ParamSet u = like.zerosLike("");
        for (Tensor t : u) {
            for (long k = 0; k < t.size(); k++) {
                double g = r.nextGaussian();
                t.set(k, (float) (k % 11 == 3 ? g * 1e-30 : k % 17 == 5 ? g * 1e5 : g));
            }
        }
        if (step == 5) u.get(3).set(7, Float.NaN); // one NaN gradient: every backend propagates it alike
        return u;
    }

    @Test
    void everyRuleWithBf16AndF16ParamsMatchesTheReferenceOnEveryBackend() {
        List<String> backends = new ArrayList<>(List.of("cpu"));
        String why = null;
        try {
            Backends.resolve("opencl:0");
            backends.add("opencl:0");
        } catch (RuntimeException e) {
            why = "no OpenCL device: " + e.getMessage();
        }
        for (Rule base : Rules.all()) {
            for (String precision : List.of("bf16", "f16")) {
              for (Rounding rounding : ROUNDINGS) {
                MasterWeights mw = new MasterWeights(base, precision, rounding);
                Hyperparams hp = base.defaults();
                for (String b : backends) {
                    SplittableRandom r = new SplittableRandom(base.name().hashCode() * 31L + precision.hashCode());
                    try (ParamSet p = params(r, mw);
                         BoundOptimizer ref = Backends.bind("reference", mw, hp, p, null);
                         BoundOptimizer dev = Backends.bind(b, mw, hp, p, null)) {
                        for (int t = 1; t <= STEPS; t++) {
                            try (ParamSet u = updates(r, p, t)) {
                                ref.step(u);
                                dev.step(u);
                            }
                            try (ParamSet pr = ref.readParams(); ParamSet pd = dev.readParams(); OptState sr = ref.readState(); OptState sd = dev.readState()) {
                                String where = base.name() + " " + precision + " rounded " + rounding + " on " + b + " step " + t;
                                same(where + " param", pr, pd);
                                for (String slot : mw.slots()) same(where + " slot " + slot, sr.slot(slot), sd.slot(slot));
                            }
                        }
                    }
                }
              }
            }
        }
        Requires.available("OPENCL", why);
    }

    /** A 16-bit param must hold values of its type (a device stores it in 2 bytes): every backend refuses another, naming it, before anything is bound. */
    @Test
    void paramsThatAreNotValuesOfTheirTypeAreRefusedByEveryBackend() {
        List<String> backends = new ArrayList<>(List.of("cpu", "reference"));
        String why = null;
        try {
            Backends.resolve("opencl:0");
            backends.add("opencl:0");
        } catch (RuntimeException e) {
            why = "no OpenCL device: " + e.getMessage(); // the cpu and the reference still show it; CI requires the device
        }
        for (String precision : List.of("bf16", "f16")) {
            MasterWeights mw = new MasterWeights(Rules.byName("adam"), precision);
            for (String b : backends) {
                try (ParamSet p = ParamSet.of(Tensor.of("ok", 1f, 0.5f), Tensor.of("w", mw.round(3f), 0.1f))) {
                    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                            () -> Backends.bind(b, mw, mw.defaults(), p, null).close(), b);
                    org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("param 'w' element 1 = 0.1") && e.getMessage().contains("not a " + precision + " value"),
                            b + ": " + e.getMessage());
                }
            }
        }
        Requires.available("OPENCL", why);
    }

    public static void same(String where, ParamSet expected, ParamSet actual) {
        for (int i = 0; i < expected.size(); i++) {
            for (long k = 0; k < expected.get(i).size(); k++) {
                float e = expected.get(i).get(k), a = actual.get(i).get(k);
                if (!OpenClTestSupport.same(e, a)) {
                    fail(where + " '" + expected.get(i).name() + "' element " + k + ": reference " + OpenClTestSupport.show(e) + ", got " + OpenClTestSupport.show(a));
                }
            }
        }
    }

    @Test
    void thePtxOfEveryMasterWeightsKernelComputesTheEvaluatorsBits() {
        Path ptxas = Ptxas.find();
        SplittableRandom r = new SplittableRandom(11);
        for (Rule base : Rules.all()) {
            for (String precision : List.of("bf16", "f16")) {
              for (Rounding rounding : ROUNDINGS) {
                MasterWeights mw = new MasterWeights(base, precision, rounding);
                Kernel k = mw.kernel();
                int n = 300;
                long[] starts = {0, 1, 37, 38, 256}; // tensors of 1, 36, 1, 218 and 44 elements: the table's search at every edge
                float[][] data = new float[k.inputs().size()][n];
                for (float[] col : data) for (int e = 0; e < n; e++) col[e] = OpenClTestSupport.value(r, 0.1);
                for (int e = 0; e < n; e++) data[0][e] = mw.round(data[0][e]); // the param holds values of its type
                float[] scalars = mw.scalars(3, base.defaults());
                float[][] expected = copy(data), got = copy(data);
                evaluate(k, expected, scalars, starts);
                String ptx = PtxRenderer.render(k, Mode.EXACT);
                PtxInterpreter.run(ptx, Mode.EXACT, got, scalars, k.usesRandom() ? starts : null, k.storage());
                for (int i = 0; i < expected.length; i++) {
                    OpenClTestSupport.assertSameBits(expected[i], got[i], k.name() + " input " + k.inputs().get(i) + " (PTX interpreter)", data);
                }
                if (ptxas != null) for (String arch : Ptxas.ARCHS) Ptxas.assemble(ptxas, ptx, arch, k.name());
              }
            }
        }
        if (ptxas == null) Requires.available("PTXAS", "ptxas is not on the PATH");
    }

    /** The evaluator over columns holding tensors from {@code starts}: each element with its tensor and index in it. */
    static void evaluate(Kernel k, float[][] cols, float[] scalars, long[] starts) {
        float[] in = new float[cols.length], vars = new float[k.eqns().size()];
        int tensor = 0;
        for (int e = 0; e < cols[0].length; e++) {
            while (tensor + 1 < starts.length && starts[tensor + 1] <= e) tensor++;
            for (int i = 0; i < in.length; i++) in[i] = cols[i][e];
            Evaluator.evalElement(k, in, scalars, vars, tensor, e - starts[tensor]);
            for (Kernel.Output o : k.outputs()) cols[o.input()][e] = in[o.input()];
        }
    }

    static float[][] copy(float[][] a) {
        float[][] c = new float[a.length][];
        for (int i = 0; i < a.length; i++) c[i] = a[i].clone();
        return c;
    }
}
