package io.nag4j.core.rule;

import io.nag4j.core.cpu.CpuBackend;
import io.nag4j.core.golden.Bits;
import io.nag4j.core.optim.EvaluatorExecutor;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.ir.Operand;
import io.nag4j.core.optim.KernelExecutor;
import io.nag4j.core.optim.KernelOptimizer;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.optim.Optimizer;
import io.nag4j.core.reference.ReferenceOptimizer;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The optimizer family's rules: op order, host values, validation, and reference == kernel under a schedule. */
class FamilyRulesTest {
    /** Hyperparameters that are 0/1 switches. */
    static final Set<String> SWITCHES = Set.of("nesterov", "centered");

    static List<String> family() {
        return Rules.names().stream().filter(n -> !n.equals("nag") && !n.equals("sgd")).toList();
    }

    @Test
    void familyIsRegistered() {
        assertTrue(Rules.names().containsAll(List.of("adam", "momentum", "adamw", "rmsprop", "adagrad")), Rules.names().toString());
    }

    @Test
    void adamTracesToTheContractsOpOrder() {
        assertEquals("""
                kernel adam
                  in param, update, g1, g2
                  scalar eta, beta1, beta2, eps, omb1, omb2, c1, c2
                  v0 = mul %beta1, g1
                  v1 = mul %omb1, update
                  v2 = add v0, v1
                  v3 = mul update, update
                  v4 = mul %beta2, g2
                  v5 = mul %omb2, v3
                  v6 = add v4, v5
                  v7 = div v2, %c1
                  v8 = mul %eta, v7
                  v9 = div v6, %c2
                  v10 = sqrt v9
                  v11 = add v10, %eps
                  v12 = div v8, v11
                  v13 = sub param, v12
                  out param = v13
                  out g1 = v2
                  out g2 = v6
                """, Adam.INSTANCE.kernel().print());
    }

    @Test
    void momentumTracesToTheContractsOpOrder() {
        Hyperparams hp = Momentum.INSTANCE.defaults().with("momentum", 0.9f).with("nesterov", 1f);
        assertEquals("""
                kernel momentum_momentum_nesterov
                  in param, update, buf
                  scalar lr, momentum, dampening, weight_decay, nesterov, wd_on, first, omd
                  v0 = mul %weight_decay, param
                  v1 = add update, v0
                  v2 = select %wd_on, v1, update
                  v3 = mul %momentum, buf
                  v4 = mul %omd, v2
                  v5 = add v3, v4
                  v6 = select %first, v2, v5
                  v7 = mul %momentum, v6
                  v8 = add v2, v7
                  v9 = mul %lr, v8
                  v10 = sub param, v9
                  out param = v10
                  out buf = v6
                """, Momentum.INSTANCE.kernel(hp).print());
        assertEquals("""
                kernel momentum
                  in param, update
                  scalar lr, momentum, dampening, weight_decay, nesterov, wd_on, first, omd
                  v0 = mul %weight_decay, param
                  v1 = add update, v0
                  v2 = select %wd_on, v1, update
                  v3 = mul %lr, v2
                  v4 = sub param, v3
                  out param = v4
                """, Momentum.INSTANCE.kernel().print());
    }

    @Test
    void adamwTracesToItsDocumentedOpOrder() {
        assertEquals("""
                kernel adamw
                  in param, update, exp_avg, exp_avg_sq
                  scalar lr, beta1, beta2, eps, weight_decay, decay, omb1, lerp_small, omw1, omb2, step_size, bc2_sqrt
                  v0 = mul param, %decay
                  v1 = sub update, exp_avg
                  v2 = mul %omb1, v1
                  v3 = add exp_avg, v2
                  v4 = mul v1, %omw1
                  v5 = sub update, v4
                  v6 = select %lerp_small, v3, v5
                  v7 = mul exp_avg_sq, %beta2
                  v8 = mul %omb2, update
                  v9 = mul v8, update
                  v10 = add v7, v9
                  v11 = sqrt v10
                  v12 = div v11, %bc2_sqrt
                  v13 = add v12, %eps
                  v14 = mul %step_size, v6
                  v15 = div v14, v13
                  v16 = sub v0, v15
                  out param = v16
                  out exp_avg = v6
                  out exp_avg_sq = v10
                """, AdamW.INSTANCE.kernel().print());
    }

    @Test
    void rmspropTracesToItsDocumentedOpOrder() {
        Hyperparams hp = RmsProp.INSTANCE.defaults().with("centered", 1f).with("momentum", 0.9f);
        assertEquals("""
                kernel rmsprop_centered_momentum
                  in param, update, square_avg, grad_avg, momentum_buffer
                  scalar lr, alpha, eps, weight_decay, momentum, centered, wd_on, oma, lerp_small, omw
                  v0 = mul %weight_decay, param
                  v1 = add update, v0
                  v2 = select %wd_on, v1, update
                  v3 = mul square_avg, %alpha
                  v4 = mul %oma, v2
                  v5 = mul v4, v2
                  v6 = add v3, v5
                  v7 = sub v2, grad_avg
                  v8 = mul %oma, v7
                  v9 = add grad_avg, v8
                  v10 = mul v7, %omw
                  v11 = sub v2, v10
                  v12 = select %lerp_small, v9, v11
                  v13 = neg v12
                  v14 = mul v13, v12
                  v15 = add v6, v14
                  v16 = sqrt v15
                  v17 = add v16, %eps
                  v18 = mul momentum_buffer, %momentum
                  v19 = div v2, v17
                  v20 = add v18, v19
                  v21 = mul %lr, v20
                  v22 = sub param, v21
                  out param = v22
                  out square_avg = v6
                  out grad_avg = v12
                  out momentum_buffer = v20
                """, RmsProp.INSTANCE.kernel(hp).print());
        assertEquals("""
                kernel rmsprop
                  in param, update, square_avg
                  scalar lr, alpha, eps, weight_decay, momentum, centered, wd_on, oma, lerp_small, omw
                  v0 = mul %weight_decay, param
                  v1 = add update, v0
                  v2 = select %wd_on, v1, update
                  v3 = mul square_avg, %alpha
                  v4 = mul %oma, v2
                  v5 = mul v4, v2
                  v6 = add v3, v5
                  v7 = sqrt v6
                  v8 = add v7, %eps
                  v9 = mul %lr, v2
                  v10 = div v9, v8
                  v11 = sub param, v10
                  out param = v11
                  out square_avg = v6
                """, RmsProp.INSTANCE.kernel().print());
    }

    @Test
    void adagradTracesToItsDocumentedOpOrder() {
        assertEquals("""
                kernel adagrad
                  in param, update, sum
                  scalar lr, lr_decay, weight_decay, initial_accumulator_value, eps, wd_on, first, clr
                  v0 = mul %weight_decay, param
                  v1 = add update, v0
                  v2 = select %wd_on, v1, update
                  v3 = select %first, %initial_accumulator_value, sum
                  v4 = mul v2, v2
                  v5 = add v3, v4
                  v6 = sqrt v5
                  v7 = add v6, %eps
                  v8 = mul %clr, v2
                  v9 = div v8, v7
                  v10 = sub param, v9
                  out param = v10
                  out sum = v5
                """, Adagrad.INSTANCE.kernel().print());
    }

    @ParameterizedTest
    @MethodSource("family")
    void hyperparametersAreKernelArgumentsNotLiterals(String name) {
        Rule r = Rules.byName(name);
        var k = r.kernel();
        assertEquals(concat(r.defaults().names(), r.hostValueNames()), k.scalars(), name + " scalars");
        for (var e : k.eqns()) {
            for (Operand a : e.args()) assertTrue(!(a instanceof Operand.Const), name + " has a literal in " + e);
        }
    }

    private static float[] host(Rule rule, long t, Hyperparams hp) {
        float[] out = new float[rule.hostValueNames().size()];
        rule.hostValues(t, hp, out);
        return out;
    }

    /** Each configuration streams only the slots it uses: the bytes per element {@code bench} reports. */
    @Test
    void flagsDecideWhichSlotsAKernelStreams() {
        record Case(Rule rule, String hp, String kernel, List<String> inputs, long bytes) {}
        List<Case> cases = List.of(
                new Case(RmsProp.INSTANCE, "", "rmsprop", List.of("param", "update", "square_avg"), 20),
                new Case(RmsProp.INSTANCE, "weight_decay=0.1", "rmsprop", List.of("param", "update", "square_avg"), 20),
                new Case(RmsProp.INSTANCE, "momentum=0.9", "rmsprop_momentum", List.of("param", "update", "square_avg", "momentum_buffer"), 28),
                new Case(RmsProp.INSTANCE, "centered=1", "rmsprop_centered", List.of("param", "update", "square_avg", "grad_avg"), 28),
                new Case(RmsProp.INSTANCE, "centered=1,momentum=0.9", "rmsprop_centered_momentum",
                        List.of("param", "update", "square_avg", "grad_avg", "momentum_buffer"), 36),
                new Case(Momentum.INSTANCE, "", "momentum", List.of("param", "update"), 12),
                new Case(Momentum.INSTANCE, "nesterov=1", "momentum_nesterov", List.of("param", "update"), 12),
                new Case(Momentum.INSTANCE, "momentum=0.9", "momentum_momentum", List.of("param", "update", "buf"), 20),
                new Case(Momentum.INSTANCE, "momentum=-0.5", "momentum_momentum", List.of("param", "update", "buf"), 20),
                new Case(Momentum.INSTANCE, "momentum=0.9,nesterov=1", "momentum_momentum_nesterov", List.of("param", "update", "buf"), 20));
        for (Case c : cases) {
            Hyperparams hp = c.rule().defaults();
            for (String kv : c.hp().isEmpty() ? new String[0] : c.hp().split(",")) hp = hp.with(kv.split("=")[0], kv.split("=")[1]);
            Kernel k = c.rule().kernel(hp);
            assertEquals(c.kernel(), k.name(), c.toString());
            assertEquals(c.inputs(), k.inputs(), c.toString());
            assertEquals(c.bytes(), k.bytesPerElement(), c.toString());
        }
        // RMSprop's "momentum > 0" is PyTorch's test: a negative momentum is off.
        assertEquals("rmsprop", RmsProp.INSTANCE.kernel(RmsProp.INSTANCE.defaults().with("momentum", -0.5f)).name());
    }

    @Test
    void adamHostValuesAreRoundedOnceFromDouble() {
        Hyperparams hp = Adam.INSTANCE.defaults();
        float[] h = host(Adam.INSTANCE, 3, hp);
        double b1 = 0.9f, b2 = 0.999f;
        assertArrayEquals(new float[] {(float) (1 - b1), (float) (1 - b2), (float) (1 - b1 * b1 * b1), (float) (1 - StrictMath.pow(b2, 3))}, h);
        // At t = 1 the bias correction equals 1 - beta1 rounded once (not 1f - 0.9f in float).
        assertEquals(Float.floatToRawIntBits((float) (1 - b1)), Float.floatToRawIntBits(host(Adam.INSTANCE, 1, hp)[2]));
    }

    @Test
    void momentumHostValuesMarkTheFirstStep() {
        Hyperparams hp = Momentum.INSTANCE.defaults().with("dampening", 0.1f);
        assertArrayEquals(new float[] {0f, 1f, (float) (1 - (double) 0.1f)}, host(Momentum.INSTANCE, 1, hp));
        assertArrayEquals(new float[] {0f, 0f, (float) (1 - (double) 0.1f)}, host(Momentum.INSTANCE, 2, hp));
    }

    @Test
    void nesterovMustBeZeroOrOne() {
        Hyperparams bad = Momentum.INSTANCE.defaults().with("nesterov", 0.5f);
        var e = assertThrows(IllegalArgumentException.class,
                () -> new KernelOptimizer(Momentum.INSTANCE, bad, EvaluatorExecutor.INSTANCE));
        assertTrue(e.getMessage().contains("nesterov") && e.getMessage().contains("0.5"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ReferenceOptimizer.forRule("momentum", bad));
        // Other values PyTorch would refuse (negative lr, nesterov without momentum) are accepted.
        new KernelOptimizer(Momentum.INSTANCE, Momentum.INSTANCE.defaults().with("lr", -1f).with("nesterov", 1f), EvaluatorExecutor.INSTANCE);
    }

    @Test
    void aRefusedScheduleStepChangesNothing() {
        try (ParamSet p = ParamSet.of(Tensor.of("w", 1f, 2f)); ParamSet u = ParamSet.of(Tensor.of("w", 3f, 4f))) {
            Optimizer opt = new KernelOptimizer(Momentum.INSTANCE, Momentum.INSTANCE.defaults(), EvaluatorExecutor.INSTANCE);
            try (OptState s = opt.init(p)) {
                assertThrows(IllegalArgumentException.class, () -> opt.step(s, p, u, opt.hyperparams().with("nesterov", 2f)));
                assertArrayEquals(new float[] {1f, 2f}, p.get(0).toArray());
                assertEquals(0, s.step());
            }
        }
    }

    static List<Object[]> familyOnExecutors() {
        return family().stream().flatMap(n -> java.util.stream.Stream.of(
                new Object[] {n, "evaluator"}, new Object[] {n, "cpu"})).toList();
    }

    /**
     * The hand-written reference and the traced kernel agree bit for bit over 300 steps on random
     * data with special values, while every hyperparameter changes at every step (a schedule).
     */
    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("familyOnExecutors")
    void referenceEqualsTracedKernelUnderASchedule(String name, String executor) {
        Rule rule = Rules.byName(name);
        KernelExecutor ex = executor.equals("cpu") ? CpuBackend.shared() : EvaluatorExecutor.INSTANCE;
        Random rnd = new Random(name.hashCode() * 31L + 7);
        long[][] shapes = {{1}, {7}, {5, 13}};
        float[] specials = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, 1e-40f, Float.MIN_NORMAL, Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, Float.NaN, Float.MAX_VALUE};
        Optimizer ref = ReferenceOptimizer.forRule(name, rule.defaults());
        Optimizer ker = new KernelOptimizer(rule, rule.defaults(), ex);
        try (ParamSet p1 = randomParams(rnd, shapes, specials); ParamSet p2 = p1.copy(); ParamSet u = p1.zerosLike("");
             OptState s1 = ref.init(p1); OptState s2 = ker.init(p2)) {
            for (int step = 1; step <= 300; step++) {
                Hyperparams hp = scheduled(rule.defaults(), rnd);
                for (Tensor t : u) {
                    for (long i = 0; i < t.size(); i++) {
                        t.set(i, rnd.nextInt(50) == 0 ? specials[rnd.nextInt(specials.length)] : (float) rnd.nextGaussian());
                    }
                }
                ref.step(s1, p1, u, hp);
                ker.step(s2, p2, u, hp);
                for (int i = 0; i < p1.size(); i++) {
                    String where = name + " on " + executor + " step " + step + " hp " + hp;
                    Bits.assertSame(p1.get(i), p2.get(i), where + " param");
                    for (String slot : rule.slots()) Bits.assertSame(s1.slot(slot).get(i), s2.slot(slot).get(i), where + " slot " + slot);
                }
            }
        }
    }

    private static ParamSet randomParams(Random rnd, long[][] shapes, float[] specials) {
        List<Tensor> ts = new java.util.ArrayList<>();
        for (int k = 0; k < shapes.length; k++) {
            Tensor t = Tensor.zeros("w" + k, shapes[k]);
            for (long i = 0; i < t.size(); i++) t.set(i, (float) rnd.nextGaussian());
            ts.add(t);
        }
        Tensor last = ts.get(ts.size() - 1);
        for (int i = 0; i < specials.length; i++) last.set(i, specials[i]);
        return new ParamSet(ts);
    }

    /** Each hyperparameter moves at every step: switches flip at random, the others vary within 10% (or 0..0.1). */
    static Hyperparams scheduled(Hyperparams defaults, Random rnd) {
        Hyperparams hp = defaults;
        for (String n : defaults.names()) {
            float v = defaults.get(n);
            // Zero defaults (momentum, weight decay) are often 0 again, so flags flip both ways mid-run.
            float x = SWITCHES.contains(n) ? rnd.nextInt(2)
                    : v == 0f ? (rnd.nextInt(3) == 0 ? 0f : 0.1f * rnd.nextFloat()) : v * (1f - 0.1f * rnd.nextFloat());
            hp = hp.with(n, x);
        }
        return hp;
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new java.util.ArrayList<>(a);
        out.addAll(b);
        return out;
    }
}
