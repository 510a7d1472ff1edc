package io.nag4j.core.example;

import io.nag4j.core.cpu.CpuBackend;
import io.nag4j.core.golden.Bits;
import io.nag4j.core.golden.Golden;
import io.nag4j.core.optim.EvaluatorExecutor;
import io.nag4j.core.optim.KernelExecutor;
import io.nag4j.core.optim.KernelOptimizer;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Sym;
import io.nag4j.core.rule.Trace;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The user-defined optimizer of {@code docs/optimizers.md} (Lion), verbatim: it runs on the
 * evaluator and on the CPU backend, and matches a hand computation bit for bit.
 */
public class UserRuleExampleTest {

    // --- begin docs example (docs/optimizers.md shows exactly these lines) ---
    /** Lion (Chen et al. 2023): m' = beta2*m + (1-beta2)*g; param -= lr*(sign(beta1*m + (1-beta1)*g) + wd*param). */
    public static final class Lion implements Rule {
        public String name() { return "lion"; }
        public List<String> slots() { return List.of("m"); }
        public Hyperparams defaults() { return Hyperparams.of("lr", 1e-4f, "beta1", 0.9f, "beta2", 0.99f, "wd", 0f); }
        public List<String> hostValueNames() { return List.of("omb1", "omb2"); }
        public void hostValues(long t, Hyperparams hp, float[] out) {
            out[0] = (float) (1.0 - hp.get("beta1"));
            out[1] = (float) (1.0 - hp.get("beta2"));
        }
        public void update(Trace x) {
            Sym g = x.update(), m = x.slot("m"), zero = x.constant(0f);
            Sym c = x.hyper("beta1").mul(m).add(x.host("omb1").mul(g));
            Sym sign = c.gt(zero).select(x.constant(1f), c.lt(zero).select(x.constant(-1f), zero));
            Sym step = sign.add(x.hyper("wd").mul(x.param()));
            x.setParam(x.param().sub(x.hyper("lr").mul(step)));
            x.setSlot("m", x.hyper("beta2").mul(m).add(x.host("omb2").mul(g)));
        }
    }
    // --- end docs example ---

    /** Lion by hand in plain float32 Java, for {@code steps} steps on one tensor. */
    static void lionByHand(float[] param, float[] m, float[][] updates, Hyperparams hp) {
        float lr = hp.get("lr"), b1 = hp.get("beta1"), b2 = hp.get("beta2"), wd = hp.get("wd");
        float omb1 = (float) (1.0 - b1), omb2 = (float) (1.0 - b2);
        for (float[] u : updates) {
            for (int i = 0; i < param.length; i++) {
                float c = b1 * m[i] + omb1 * u[i];
                float sign = c > 0 ? 1f : c < 0 ? -1f : 0f;
                param[i] = param[i] - lr * (sign + wd * param[i]);
                m[i] = b2 * m[i] + omb2 * u[i];
            }
        }
    }

    @Test
    void lionRunsOnTheEvaluatorAndTheCpuBackendAndMatchesAHandComputation() {
        Lion lion = new Lion();
        Hyperparams hp = lion.defaults().with("lr", 0.01f).with("wd", 0.1f);
        Random rnd = new Random(42);
        int n = 37, steps = 25;
        float[] theta0 = new float[n];
        for (int i = 0; i < n; i++) theta0[i] = (float) rnd.nextGaussian();
        float[][] updates = new float[steps][n];
        for (float[] u : updates) for (int i = 0; i < n; i++) u[i] = rnd.nextInt(10) == 0 ? 0f : (float) rnd.nextGaussian();
        updates[0][0] = -0f;

        float[] param = theta0.clone(), m = new float[n];
        lionByHand(param, m, updates, hp);

        for (KernelExecutor ex : List.<KernelExecutor>of(EvaluatorExecutor.INSTANCE, CpuBackend.shared())) {
            KernelOptimizer opt = new KernelOptimizer(lion, hp, ex);
            try (ParamSet p = ParamSet.of(Tensor.of("w", theta0.clone(), n)); ParamSet u = p.zerosLike(""); OptState s = opt.init(p)) {
                for (float[] step : updates) {
                    u.get(0).copyFrom(step);
                    opt.step(s, p, u);
                }
                Bits.assertSame(param, p.get(0).toArray(), "lion on " + ex.name() + " after " + steps + " steps: param");
                Bits.assertSame(m, s.slot("m").get(0).toArray(), "lion on " + ex.name() + " after " + steps + " steps: m");
            }
        }
    }

    @Test
    void lionsFirstStepMovesEachParamByLrTimesTheSign() {
        Lion lion = new Lion();
        Hyperparams hp = lion.defaults().with("lr", 0.5f);
        try (ParamSet p = ParamSet.of(Tensor.of("w", 1f, 1f, 1f)); ParamSet u = ParamSet.of(Tensor.of("w", 3f, -2f, 0f))) {
            KernelOptimizer opt = new KernelOptimizer(lion, hp, CpuBackend.shared());
            try (OptState s = opt.init(p)) {
                opt.step(s, p, u);
                assertArrayEquals(new float[] {0.5f, 1.5f, 1f}, p.get(0).toArray());
                assertEquals(1, s.step());
            }
        }
    }

    /** The docs show this example verbatim, so a user can copy it and get a tested rule. */
    @Test
    void docsShowThisExampleVerbatim() throws IOException {
        String docs = Files.readString(Golden.repoRoot().resolve("docs/optimizers.md"));
        String src = Files.readString(Golden.repoRoot().resolve(
                "nag-core/src/test/java/io/nag4j/core/example/UserRuleExampleTest.java"));
        String begin = "// --- begin docs example (docs/optimizers.md shows exactly these lines) ---\n";
        String example = src.substring(src.indexOf(begin) + begin.length(), src.indexOf("    // --- end docs example ---"));
        String unindented = example.lines().map(l -> l.startsWith("    ") ? l.substring(4) : l)
                .reduce("", (a, l) -> a + l + "\n");
        assertTrue(unindented.lines().count() < 20, "the example is under 20 lines");
        assertTrue(docs.contains(unindented), "docs/optimizers.md must contain the example verbatim:\n" + unindented);
    }
}
