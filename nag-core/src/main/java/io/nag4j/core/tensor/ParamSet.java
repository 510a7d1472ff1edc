package io.nag4j.core.tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An ordered list of uniquely named tensors: the seed's {@code theta} list (or its updates).
 * Closing a ParamSet closes its tensors.
 */
public final class ParamSet implements AutoCloseable, Iterable<Tensor> {
    private final List<Tensor> tensors;
    private final Map<String, Tensor> byName;

    public ParamSet(List<Tensor> tensors) {
        Objects.requireNonNull(tensors, "tensors");
        this.byName = new LinkedHashMap<>();
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            if (t == null) throw new IllegalArgumentException("tensor #" + i + " of the ParamSet is null");
            if (byName.putIfAbsent(t.name(), t) != null) {
                throw new IllegalArgumentException("two tensors are named '" + t.name() + "'");
            }
        }
        this.tensors = List.copyOf(tensors);
    }

    public static ParamSet of(Tensor... tensors) {
        return new ParamSet(Arrays.asList(tensors));
    }

    public int size() { return tensors.size(); }

    public Tensor get(int i) { return tensors.get(i); }

    /** The tensor of that name, or {@code null}. */
    public Tensor find(String name) { return byName.get(name); }

    /** The tensor of that name; throws naming it if absent. */
    public Tensor get(String name) {
        Tensor t = byName.get(name);
        if (t == null) throw new IllegalArgumentException("no tensor named '" + name + "'; have " + byName.keySet());
        return t;
    }

    public List<Tensor> tensors() { return tensors; }

    public List<String> names() { return List.copyOf(byName.keySet()); }

    /** Total number of elements over all tensors. */
    public long totalSize() {
        long n = 0;
        for (Tensor t : tensors) n += t.size();
        return n;
    }

    /** Zero-filled tensors of the same names and shapes, named {@code prefix + name}. */
    /**
     * Zero tensors shaped as these, each named {@code prefix + name}. With {@code ""} (same names)
     * it is the set a step's updates or a state slot must be; another prefix makes a set of
     * distinct names (a step refuses it as updates).
     */
    public ParamSet zerosLike(String prefix) {
        List<Tensor> out = new ArrayList<>(tensors.size());
        for (Tensor t : tensors) out.add(t.zerosLike(prefix + t.name()));
        return new ParamSet(out);
    }

    /** Deep copy with the same names. */
    public ParamSet copy() {
        List<Tensor> out = new ArrayList<>(tensors.size());
        for (Tensor t : tensors) out.add(t.copy(t.name()));
        return new ParamSet(out);
    }

    /**
     * Checks that {@code other} matches this set tensor by tensor (same count, same names in the
     * same order, same shapes), and that no tensor of either is closed. {@code what} names the
     * other set in the message. Names matter: two same-shape tensors in swapped order would
     * otherwise train silently wrong.
     */
    public void checkCompatible(ParamSet other, String what) {
        if (other == null) throw new IllegalArgumentException(what + " is null");
        if (other.size() != size()) {
            throw new IllegalArgumentException(what + " has " + other.size() + " tensors " + other.names()
                    + " but params have " + size() + " " + names());
        }
        for (int i = 0; i < size(); i++) {
            Tensor p = tensors.get(i), o = other.get(i);
            if (p.isClosed()) throw new IllegalArgumentException("param '" + p.name() + "' is closed");
            if (o.isClosed()) throw new IllegalArgumentException(what + " tensor '" + o.name() + "' is closed");
            if (!p.name().equals(o.name())) throw misnamed(what, i, o.name(), p.name());
            if (!p.sameShape(o)) {
                throw new IllegalArgumentException(what + " tensor '" + o.name() + "' has shape " + Arrays.toString(o.shape())
                        + " but param '" + p.name() + "' has " + Arrays.toString(p.shape()));
            }
        }
    }

    /** The error for {@code what}'s tensor {@code got} at {@code index}, where param {@code want} is. */
    public static IllegalArgumentException misnamed(String what, int index, String got, String want) {
        return new IllegalArgumentException(what + " tensor '" + got + "' is at position " + index + ", where param '" + want + "' is: "
                + what + " must have the params' names in the params' order (zerosLike(\"\") makes such a set)");
    }

    @Override
    public java.util.Iterator<Tensor> iterator() { return tensors.iterator(); }

    @Override
    public void close() {
        for (Tensor t : tensors) t.close();
    }

    @Override
    public String toString() {
        List<String> parts = new ArrayList<>();
        for (Tensor t : tensors) parts.add(t.name() + Arrays.toString(t.shape()));
        return "ParamSet" + Collections.unmodifiableList(parts);
    }
}
