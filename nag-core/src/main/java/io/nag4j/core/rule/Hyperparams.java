package io.nag4j.core.rule;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An ordered, immutable map of hyperparameter name to float32 value. Every value is finite;
 * {@link #with} refuses unknown names, so a typo is an error, not a silent default.
 */
public final class Hyperparams {
    private final LinkedHashMap<String, Float> values;
    /** The values in name order, for {@link #copyTo} (immutable, so computed once). */
    private final float[] array;
    private final String[] nameArray;

    private Hyperparams(LinkedHashMap<String, Float> values) {
        this.values = values;
        this.array = new float[values.size()];
        this.nameArray = values.keySet().toArray(new String[0]);
        int i = 0;
        for (float v : values.values()) array[i++] = v;
    }

    /** Hyperparameters with these names and defaults, in this order. */
    public static Hyperparams of(Map<String, Float> defaults) {
        LinkedHashMap<String, Float> m = new LinkedHashMap<>();
        defaults.forEach((k, v) -> m.put(k, checkFinite(k, v)));
        return new Hyperparams(m);
    }

    /** Convenience: {@code of("eta", 0.01f, "mu", 0.9f)}. */
    public static Hyperparams of(Object... nameValuePairs) {
        LinkedHashMap<String, Float> m = new LinkedHashMap<>();
        for (int i = 0; i < nameValuePairs.length; i += 2) {
            String k = (String) nameValuePairs[i];
            m.put(k, checkFinite(k, ((Number) nameValuePairs[i + 1]).floatValue()));
        }
        return new Hyperparams(m);
    }

    /** A copy with one value replaced; the name must already exist. */
    public Hyperparams with(String name, float value) {
        Objects.requireNonNull(name, "hyperparameter name");
        if (!values.containsKey(name)) {
            throw new IllegalArgumentException("unknown hyperparameter '" + name + "'; known: " + values.keySet());
        }
        LinkedHashMap<String, Float> m = new LinkedHashMap<>(values);
        m.put(name, checkFinite(name, value));
        return new Hyperparams(m);
    }

    /** A copy with {@code name=text} applied, {@code text} parsed by {@link #parse}. */
    public Hyperparams with(String name, String text) {
        return with(name, parse(name, text));
    }

    public float get(String name) {
        Float v = values.get(name);
        if (v == null) throw new IllegalArgumentException("unknown hyperparameter '" + name + "'; known: " + values.keySet());
        return v;
    }

    public List<String> names() { return List.copyOf(values.keySet()); }

    public Map<String, Float> asMap() { return Collections.unmodifiableMap(values); }

    /** Values in name order. */
    public float[] toArray() { return array.clone(); }

    /** Number of hyperparameters. */
    public int size() { return array.length; }

    /** Copies the values in name order to the start of {@code out}; returns how many. Allocates nothing. */
    public int copyTo(float[] out) {
        System.arraycopy(array, 0, out, 0, array.length);
        return array.length;
    }

    /** Checks that {@code other} has exactly these names (the optimizer's), in any order. */
    public void checkSameNames(Hyperparams other, String optimizer) {
        if (other == null) throw new IllegalArgumentException("hyperparameters for " + optimizer + " are null");
        // The usual case (a schedule's copy made by with()) has the same names in the same order: compared without allocating.
        if (java.util.Arrays.equals(other.nameArray, nameArray)) return;
        if (!other.values.keySet().equals(values.keySet())) {
            throw new IllegalArgumentException(optimizer + " takes hyperparameters " + values.keySet() + ", got " + other.values.keySet());
        }
    }

    /**
     * Parses a hyperparameter to the nearest float32: decimal ({@code 0.01}) or Java hex-float
     * ({@code 0x1.47ae14p-7}). Non-finite or unparsable values are refused, naming the parameter.
     */
    public static float parse(String name, String text) {
        if (text == null || text.isBlank()) throw new IllegalArgumentException("hyperparameter '" + name + "' has no value");
        String s = text.strip();
        float v;
        try {
            // Float.parseFloat rounds decimal and hex input directly to the nearest float32.
            v = Float.parseFloat(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("hyperparameter '" + name + "': '" + text + "' is not a number");
        }
        if (Float.isInfinite(v) && !s.toLowerCase(java.util.Locale.ROOT).contains("inf")) {
            throw new IllegalArgumentException("hyperparameter '" + name + "' = " + s + " overflows float32 (the largest finite value is "
                    + Float.MAX_VALUE + ")");
        }
        return checkFinite(name, v);
    }

    static float checkFinite(String name, Float v) {
        if (v == null) throw new IllegalArgumentException("hyperparameter '" + name + "' is null");
        if (!Float.isFinite(v)) throw new IllegalArgumentException("hyperparameter '" + name + "' must be finite, got " + v);
        return v;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Hyperparams h)) return false;
        if (!h.values.keySet().equals(values.keySet())) return false;
        for (var e : values.entrySet()) {
            if (Float.floatToRawIntBits(e.getValue()) != Float.floatToRawIntBits(h.values.get(e.getKey()))) return false;
        }
        return true;
    }

    @Override
    public int hashCode() { return values.keySet().hashCode(); }

    @Override
    public String toString() { return values.toString(); }
}
