package io.nag4j.core.ir;

import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Sym;
import io.nag4j.core.rule.Trace;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Random update rules and hostile float inputs for differential tests of any backend (shared
 * with nag-gpu through nag-core's test-jar). A rule is a random DAG of 1..40 equations over every
 * {@link Op}, with 0..3 state slots, 0..4 hyperparameters, 0..2 host values and random exact
 * constants, traced through the public DSL ({@link Trace}, {@link Sym}) like a user's rule.
 * Everything derives from one {@code long} seed, so a failure is reproduced by its seed.
 */
public final class RandomRules {
    private RandomRules() {}

    /** Values that break careless float code: NaNs, infinities, signed zeros, subnormals, extremes, ties. */
    public static final float[] SPECIALS = {
            Float.NaN, Float.intBitsToFloat(0xffc00001), Float.intBitsToFloat(0x7f800001),
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f,
            Float.MIN_VALUE, -Float.MIN_VALUE, Float.intBitsToFloat(0x007fffff), -Float.intBitsToFloat(0x00400000),
            Float.MIN_NORMAL, -Float.MIN_NORMAL, Float.MAX_VALUE, -Float.MAX_VALUE,
            1f, -1f, 0.5f, 2f, 3f, 0.1f, -0.1f, 1e-20f, 1e20f, 16777216f, 16777217f - 1f, 1f + 0x1p-23f,
            0x1p-126f * 0.75f, 0x1p127f, -0x1p-149f * 3,
    };

    /** The random rule of this seed. */
    public static Rule rule(long seed) {
        return new RandomRule(seed, 40);
    }

    /** The random rule of this seed with at most {@code maxEqns} equations (at least 1). */
    public static Rule rule(long seed, int maxEqns) {
        return new RandomRule(seed, maxEqns);
    }

    /** jqwik: random rules (shrinking is by seed only; the seed reproduces a failure). */
    public static Arbitrary<Rule> rules() {
        return Arbitraries.longs().map(RandomRules::rule);
    }

    /** One hostile float: a special value, a random bit pattern (any NaN payload, subnormal, exponent), or an ordinary number. */
    public static float hostileFloat(Random r) {
        int pick = r.nextInt(10);
        if (pick < 3) return SPECIALS[r.nextInt(SPECIALS.length)];
        if (pick < 5) return Float.intBitsToFloat(r.nextInt());
        if (pick < 6) return Float.intBitsToFloat(r.nextInt() & 0x807fffff); // subnormal or zero, either sign
        float scale = (float) Math.pow(10, r.nextInt(13) - 6);
        return (float) r.nextGaussian() * scale;
    }

    /** {@code n} hostile floats. */
    public static float[] hostileFloats(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = hostileFloat(r);
        return a;
    }

    /** A user-style rule that replays a random equation list through the tracing DSL. */
    private static final class RandomRule implements Rule {
        private final long seed;
        private final List<String> slots = new ArrayList<>();
        private final List<String> hosts = new ArrayList<>();
        private final float[] hostValues;
        private final Hyperparams defaults;
        private final List<Eqn> eqns = new ArrayList<>();
        private final List<Kernel.Output> outputs = new ArrayList<>();

        RandomRule(long seed, int maxEqns) {
            this.seed = seed;
            Random r = new Random(seed);
            int nSlots = r.nextInt(4), nHyper = r.nextInt(5), nHost = r.nextInt(3);
            for (int i = 0; i < nSlots; i++) slots.add("s" + i);
            for (int i = 0; i < nHost; i++) hosts.add("x" + i);
            Map<String, Float> hp = new LinkedHashMap<>();
            for (int i = 0; i < nHyper; i++) {
                float v = hostileFloat(r);
                hp.put("h" + i, Float.isFinite(v) ? v : 0.5f);
            }
            defaults = Hyperparams.of(hp);
            hostValues = new float[nHost];
            for (int i = 0; i < nHost; i++) {
                float v = hostileFloat(r);
                hostValues[i] = Float.isFinite(v) ? v : 1f;
            }
            int nInputs = 2 + nSlots, nScalars = nHyper + nHost;
            int nEqns = 1 + r.nextInt(Math.max(1, maxEqns));
            Op[] ops = Op.values();
            for (int e = 0; e < nEqns; e++) {
                Op op = ops[r.nextInt(ops.length)];
                List<Operand> args = new ArrayList<>();
                for (int a = 0; a < op.arity(); a++) args.add(operand(r, e, nInputs, nScalars));
                eqns.add(new Eqn(e, op, args));
            }
            // The param gets the last value (so every equation may matter); each slot a random value.
            outputs.add(new Kernel.Output(Kernel.PARAM, new Operand.Var(nEqns - 1)));
            for (int s = 0; s < nSlots; s++) outputs.add(new Kernel.Output(2 + s, operand(r, nEqns, nInputs, nScalars)));
        }

        private static Operand operand(Random r, int varsSoFar, int nInputs, int nScalars) {
            int pick = r.nextInt(20);
            if (varsSoFar > 0 && pick < 11) {
                // Mostly recent values, so chains grow deep.
                int back = Math.min(varsSoFar, 1 + (int) Math.abs(r.nextGaussian() * 3));
                return new Operand.Var(varsSoFar - back);
            }
            if (nScalars > 0 && pick < 14) return new Operand.Scalar(r.nextInt(nScalars));
            if (pick < 17) return new Operand.Input(r.nextInt(nInputs));
            return new Operand.Const(Float.floatToRawIntBits(hostileFloat(r)));
        }

        @Override public String name() { return "random_" + Long.toHexString(seed); }
        @Override public List<String> slots() { return slots; }
        @Override public Hyperparams defaults() { return defaults; }
        @Override public List<String> hostValueNames() { return hosts; }
        @Override public void hostValues(long t, Hyperparams hp, float[] out) { System.arraycopy(hostValues, 0, out, 0, out.length); }

        @Override
        public void update(Trace t) {
            List<Sym> vars = new ArrayList<>();
            for (Eqn e : eqns) {
                Sym a = sym(t, e.args().get(0), vars);
                Sym b = e.args().size() > 1 ? sym(t, e.args().get(1), vars) : null;
                Sym c = e.args().size() > 2 ? sym(t, e.args().get(2), vars) : null;
                vars.add(switch (e.op()) {
                    case ADD -> a.add(b);
                    case SUB -> a.sub(b);
                    case MUL -> a.mul(b);
                    case DIV -> a.div(b);
                    case NEG -> a.neg();
                    case SQRT -> a.sqrt();
                    case ABS -> a.abs();
                    case MIN -> a.min(b);
                    case MAX -> a.max(b);
                    case FMA -> a.fma(b, c);
                    case LT -> a.lt(b);
                    case LE -> a.le(b);
                    case GT -> a.gt(b);
                    case GE -> a.ge(b);
                    case EQ -> a.eq(b);
                    case NE -> a.ne(b);
                    case SELECT -> a.select(b, c);
                });
            }
            for (Kernel.Output o : outputs) {
                Sym v = sym(t, o.value(), vars);
                if (o.input() == Kernel.PARAM) t.setParam(v);
                else t.setSlot(slots.get(o.input() - 2), v);
            }
        }

        private Sym sym(Trace t, Operand a, List<Sym> vars) {
            return switch (a) {
                case Operand.Input i -> i.index() == Kernel.PARAM ? t.param()
                        : i.index() == Kernel.UPDATE ? t.update() : t.slot(slots.get(i.index() - 2));
                case Operand.Scalar s -> s.index() < defaults.names().size() ? t.hyper(defaults.names().get(s.index()))
                        : t.host(hosts.get(s.index() - defaults.names().size()));
                case Operand.Const c -> t.constant(c.value());
                case Operand.Var v -> vars.get(v.id());
            };
        }

        @Override
        public String toString() { return "RandomRules.rule(" + seed + "L)"; }
    }

    /** The rule's defaults, each scaled by a random factor in [0.5, 2), if the rule accepts them (else the defaults). */
    public static Hyperparams perturbedDefaults(Rule rule, java.util.random.RandomGenerator r) {
        Hyperparams hp = rule.defaults();
        try {
            // A default near the float range may scale to infinity, which Hyperparams refuses: then the defaults.
            for (String name : hp.names()) hp = hp.with(name, hp.get(name) * (float) (0.5 + 1.5 * r.nextDouble()));
            rule.validate(hp);
            return hp;
        } catch (IllegalArgumentException e) {
            return rule.defaults();
        }
    }
}
