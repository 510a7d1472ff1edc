package io.nag4j.core.fuzz;

import io.nag4j.core.ir.Eqn;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.ir.Op;
import io.nag4j.core.ir.Operand;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Sym;
import io.nag4j.core.rule.Trace;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * The one generator of random IR programs and hostile float data, for every differential test
 * and for {@code nag4j fuzz}. Everything derives from one {@code long} seed, so a program, its
 * rule and its data are reproduced by their seed alone.
 *
 * <p>A program has param, update and 0..3 state slots, 0..4 scalars and 1..{@code maxEqns}
 * equations over every {@link Op}; operands are mostly recent results (so chains grow deep), else
 * inputs, scalars or exact constants drawn from {@link #SPECIALS} and random bit patterns. Param
 * and each slot get an output: mostly a late result, sometimes another input (so an output reads
 * what another overwrites), a scalar or a constant.
 */
public final class RandomPrograms {
    private RandomPrograms() {}

    /** The default largest program, in equations. */
    public static final int MAX_EQNS = 40;

    /** Values that break careless float code: NaNs, infinities, signed zeros, subnormals, extremes, ties. */
    public static final float[] SPECIALS = {
            Float.NaN, Float.intBitsToFloat(0xffc00001), Float.intBitsToFloat(0x7f800001),
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f,
            Float.MIN_VALUE, -Float.MIN_VALUE, Float.intBitsToFloat(0x007fffff), -Float.intBitsToFloat(0x00400000),
            Float.MIN_NORMAL, -Float.MIN_NORMAL, Float.MAX_VALUE, -Float.MAX_VALUE,
            1f, -1f, 0.5f, 2f, 3f, 0.1f, -0.1f, 0.01f, 0.9f, 1e-8f, 1e-20f, 1e20f, 16777216f, 16777215f, 1f + 0x1p-23f,
            0x1p-126f * 0.75f, 0x1p127f, -0x1p-149f * 3,
    };

    /** The ops programs are drawn from: every op but {@link Op#RANDOM}, whose value depends on where the element is. */
    public static final Op[] DRAWN = java.util.Arrays.stream(Op.values()).filter(o -> o != Op.RANDOM).toArray(Op[]::new);

    /** The program of this seed, of at most {@link #MAX_EQNS} equations. */
    public static Kernel program(long seed) {
        return program(seed, MAX_EQNS);
    }

    /** The program of this seed with 1 to {@code maxEqns} equations. */
    public static Kernel program(long seed, int maxEqns) {
        SplittableRandom r = new SplittableRandom(seed);
        List<String> inputs = new ArrayList<>(List.of("param", "update"));
        for (int s = r.nextInt(4); s > 0; s--) inputs.add("s" + (inputs.size() - 2));
        List<String> scalars = new ArrayList<>();
        for (int s = r.nextInt(5); s > 0; s--) scalars.add("h" + scalars.size());
        Op[] ops = DRAWN;
        int nEqns = 1 + r.nextInt(Math.max(1, maxEqns));
        List<Eqn> eqns = new ArrayList<>();
        for (int id = 0; id < nEqns; id++) {
            Op op = ops[r.nextInt(ops.length)];
            List<Operand> args = new ArrayList<>();
            for (int a = 0; a < op.arity(); a++) args.add(operand(r, id, inputs.size(), scalars.size()));
            eqns.add(new Eqn(id, op, args));
        }
        List<Kernel.Output> outputs = new ArrayList<>();
        for (int in = 0; in < inputs.size(); in++) {
            if (in == Kernel.UPDATE) continue;
            int pick = r.nextInt(16);
            Operand v = pick < 12 ? new Operand.Var(nEqns - 1 - r.nextInt(Math.min(nEqns, 3)))
                    : pick < 14 ? new Operand.Input(r.nextInt(inputs.size()))
                    : operand(r, nEqns, inputs.size(), scalars.size());
            outputs.add(new Kernel.Output(in, v));
        }
        return new Kernel("fuzz_" + Long.toUnsignedString(seed, 16), inputs, scalars, eqns, outputs);
    }

    private static Operand operand(RandomGenerator r, int varsSoFar, int nInputs, int nScalars) {
        while (true) {
            int pick = r.nextInt(20);
            if (pick < 10) {
                if (varsSoFar == 0) continue;
                // Mostly recent values, so chains grow deep; sometimes any earlier one.
                int back = pick < 8 ? Math.min(varsSoFar, 1 + (int) Math.abs(r.nextGaussian() * 3)) : 1 + r.nextInt(varsSoFar);
                return new Operand.Var(varsSoFar - back);
            }
            if (pick < 13) {
                if (nScalars == 0) continue;
                return new Operand.Scalar(r.nextInt(nScalars));
            }
            if (pick < 17) return new Operand.Input(r.nextInt(nInputs));
            return new Operand.Const(Float.floatToRawIntBits(hostileFloat(r)));
        }
    }

    /** The data of program {@code k} for {@code n} elements from {@code seed}: one hostile array per input. */
    public static float[][] inputs(Kernel k, int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed ^ 0x5DEECE66DL);
        float[][] in = new float[k.inputs().size()][];
        for (int i = 0; i < in.length; i++) in[i] = hostileFloats(r, n);
        return in;
    }

    /** The scalars of program {@code k} from {@code seed}: hostile values. */
    public static float[] scalars(Kernel k, long seed) {
        return hostileFloats(new SplittableRandom(seed ^ 0x9E3779B97F4A7C15L), k.scalars().size());
    }

    /** One hostile float: a special value, a random bit pattern (any NaN payload, subnormal, exponent), or an ordinary number. */
    public static float hostileFloat(RandomGenerator r) {
        int pick = r.nextInt(10);
        if (pick < 3) return SPECIALS[r.nextInt(SPECIALS.length)];
        if (pick < 5) return Float.intBitsToFloat(r.nextInt());
        if (pick < 6) return Float.intBitsToFloat(r.nextInt() & 0x807fffff); // subnormal or zero, either sign
        float scale = (float) Math.pow(10, r.nextInt(13) - 6);
        return (float) r.nextGaussian() * scale;
    }

    /** {@code n} hostile floats. */
    public static float[] hostileFloats(RandomGenerator r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = hostileFloat(r);
        return a;
    }

    /** The rule of this seed: {@link #program(long)} written as a user's rule through the tracing DSL. */
    public static Rule rule(long seed) {
        return rule(seed, MAX_EQNS);
    }

    /**
     * The program of this seed written as a user's rule and traced through the public DSL
     * ({@link Trace}, {@link Sym}): inputs after param and update are state slots, the first scalars
     * hyperparameters (finite hostile defaults), the rest host values. Its {@code kernel()} is what
     * tracing makes of the program (common subexpressions shared, unused slots dropped).
     */
    public static Rule rule(long seed, int maxEqns) {
        return new ProgramRule(seed, program(seed, maxEqns));
    }

    /** The rule's defaults, each scaled by a random factor in [0.5, 2), if the rule accepts them (else the defaults). */
    public static Hyperparams perturbedDefaults(Rule rule, RandomGenerator r) {
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

    /** A user-style rule that replays a program's equations through the tracing DSL. */
    private static final class ProgramRule implements Rule {
        private final long seed;
        private final Kernel program;
        private final List<String> slots;
        private final List<String> hosts = new ArrayList<>();
        private final float[] hostValues;
        private final Hyperparams defaults;

        ProgramRule(long seed, Kernel program) {
            this.seed = seed;
            this.program = program;
            this.slots = program.slots();
            SplittableRandom r = new SplittableRandom(~seed);
            int nScalars = program.scalars().size(), nHyper = nScalars == 0 ? 0 : r.nextInt(nScalars + 1);
            Map<String, Float> hp = new LinkedHashMap<>();
            for (int i = 0; i < nHyper; i++) {
                float v = hostileFloat(r);
                hp.put(program.scalars().get(i), Float.isFinite(v) ? v : 0.5f);
            }
            defaults = Hyperparams.of(hp);
            hostValues = new float[nScalars - nHyper];
            for (int i = 0; i < hostValues.length; i++) {
                hosts.add(program.scalars().get(nHyper + i));
                float v = hostileFloat(r);
                hostValues[i] = Float.isFinite(v) ? v : 1f;
            }
        }

        @Override public String name() { return "random_" + Long.toUnsignedString(seed, 16); }
        @Override public List<String> slots() { return slots; }
        @Override public Hyperparams defaults() { return defaults; }
        @Override public List<String> hostValueNames() { return hosts; }
        @Override public void hostValues(long t, Hyperparams hp, float[] out) { System.arraycopy(hostValues, 0, out, 0, out.length); }

        @Override
        public void update(Trace t) {
            List<Sym> vars = new ArrayList<>();
            for (Eqn e : program.eqns()) {
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
                    case BF16 -> a.bf16();
                    case F16 -> a.f16();
                    case BF16_SR -> a.bf16Stochastic(b);
                    case F16_SR -> a.f16Stochastic(b);
                    case RANDOM -> throw new IllegalArgumentException("random programs draw no random op");
                });
            }
            for (Kernel.Output o : program.outputs()) {
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
        public String toString() { return "RandomPrograms.rule(" + seed + "L)"; }
    }
}
