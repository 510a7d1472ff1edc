package io.nag4j.core.rule;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The built-in rules by name. Users' own rules need no registration: pass the {@link Rule}. */
public final class Rules {
    private static final Map<String, Rule> BUILT_IN = new LinkedHashMap<>();

    static {
        for (Rule r : List.<Rule>of(Nag.INSTANCE, Sgd.INSTANCE, Adam.INSTANCE, Momentum.INSTANCE,
                AdamW.INSTANCE, RmsProp.INSTANCE, Adagrad.INSTANCE)) BUILT_IN.put(r.name(), r);
    }

    private Rules() {}

    public static Rule byName(String name) {
        Rule r = name == null ? null : BUILT_IN.get(name.toLowerCase(java.util.Locale.ROOT));
        if (r == null) throw new IllegalArgumentException("unknown optimizer '" + name + "'; known: " + BUILT_IN.keySet());
        return r;
    }

    public static List<String> names() { return List.copyOf(BUILT_IN.keySet()); }

    public static List<Rule> all() { return List.copyOf(BUILT_IN.values()); }

    /** Every kernel of every built-in rule: one per {@link #configurations configuration}, distinct. */
    public static List<io.nag4j.core.ir.Kernel> kernels() {
        Map<String, io.nag4j.core.ir.Kernel> out = new LinkedHashMap<>();
        for (Rule r : all()) for (Hyperparams hp : configurations(r).values()) out.putIfAbsent(r.kernel(hp).print(), r.kernel(hp));
        return List.copyOf(out.values());
    }

    /**
     * One set of hyperparameters per kernel {@code rule} can run: the defaults, then the defaults
     * with each other combination of its {@link Rule#flags() flags} (a flag turned on with its
     * example value, off with 0), keyed by a label such as {@code centered=1 momentum=0.9}
     * ({@code defaults} for the first). Benchmarks report each one's bytes per element; tests run each.
     */
    public static Map<String, Hyperparams> configurations(Rule rule) {
        Map<String, Hyperparams> out = new LinkedHashMap<>();
        Hyperparams d = rule.defaults();
        out.put("defaults", d);
        List<Rule.Flag> flags = rule.flags();
        int base = rule.structure(d);
        for (int mask = 0; mask < 1 << flags.size(); mask++) {
            if (mask == base) continue;
            Hyperparams hp = d;
            StringBuilder label = new StringBuilder();
            for (int i = 0; i < flags.size(); i++) {
                Rule.Flag f = flags.get(i);
                boolean on = (mask & 1 << i) != 0;
                if (on == f.on(d)) continue;
                float v = on ? f.example() : 0f;
                hp = hp.with(f.hyperparameter(), v);
                if (!label.isEmpty()) label.append(' ');
                label.append(f.hyperparameter()).append('=').append(v == (int) v ? Integer.toString((int) v) : Float.toString(v));
            }
            if (rule.structure(hp) == mask) out.put(label.toString(), hp);
        }
        return out;
    }
}
