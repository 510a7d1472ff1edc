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
}
