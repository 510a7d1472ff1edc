package io.nag4j.core.ir;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * A traced elementwise update kernel: flat SSA over float32 values.
 *
 * <p>Argument layout, shared by every backend (the ABI): the element count {@code n}, then one
 * buffer per {@link #inputs() input} in order (param, update, then each state slot), then one
 * float per {@link #scalars() scalar} in order (hyperparameters, then per-step host values).
 * Each element reads all inputs and writes each {@link #outputs() output} back to the input
 * buffer of the same index; the update (input 1) is never written.
 *
 * <p>Each input has a {@link #storage() storage type}: float32, or a 16-bit type whose buffer
 * holds bit patterns (2 bytes per element), widened on load and stored from a narrowing's value
 * (exact). Host backends may hold any input as float32 (the values are the same); device
 * backends store a 16-bit input in 2 bytes.
 *
 * <p>A kernel that {@link #usesRandom() uses} {@link Op#RANDOM} also needs to know where each
 * element is: on the CPU each tensor runs as its own group (the group's number is the tensor
 * index); a device launch over a packed ParamSet takes one more buffer after the inputs',
 * {@code tensors}, 64-bit words {@code [T, start_0, ..., start_{T-1}]} (tensor {@code k} starts at
 * packed element {@code start_k}), and finds each element's tensor by binary search.
 *
 * @param name    the rule's name
 * @param inputs  element inputs: {@code "param"}, {@code "update"}, then the slot names
 * @param scalars scalar arguments: hyperparameter names, then host value names
 * @param eqns    the equations, {@code eqns.get(i).id() == i}
 * @param outputs what is written back: one per input except the update, in input order
 * @param storage how each input is stored ({@link Storage}: float32 unless said otherwise); a
 *                16-bit input is written only with a value of a narrowing to its type, or with itself
 */
public record Kernel(String name, List<String> inputs, List<String> scalars, List<Eqn> eqns, List<Output> outputs, List<Storage> storage) {
    public static final int PARAM = 0;
    public static final int UPDATE = 1;
    /**
     * The host values a kernel with stochastic rounding takes for {@link Op#RANDOM}: the seed's
     * and the step's 16-bit pieces, low first, as integer floats ({@link Philox#piece}).
     */
    public static final List<String> RANDOM_SCALARS = List.of("rng_seed0", "rng_seed1", "rng_seed2", "rng_seed3", "rng_step0", "rng_step1");

    /** Writes {@code value} to element input {@code input}. */
    public record Output(int input, Operand value) {}

    /** A kernel whose inputs are all float32. */
    public Kernel(String name, List<String> inputs, List<String> scalars, List<Eqn> eqns, List<Output> outputs) {
        this(name, inputs, scalars, eqns, outputs, java.util.Collections.nCopies(inputs.size(), Storage.F32));
    }

    public Kernel {
        inputs = List.copyOf(inputs);
        scalars = List.copyOf(scalars);
        eqns = List.copyOf(eqns);
        outputs = List.copyOf(outputs);
        storage = List.copyOf(storage);
        if (storage.size() != inputs.size()) throw new IllegalArgumentException(inputs.size() + " inputs but " + storage.size() + " storage types");
        for (int i = 0; i < eqns.size(); i++) {
            Eqn e = eqns.get(i);
            if (e.id() != i) throw new IllegalArgumentException("equation " + i + " has id " + e.id());
            for (Operand a : e.args()) checkOperand(a, i, inputs.size(), scalars.size());
            if (e.op() == Op.RANDOM && !(e.args().getFirst() instanceof Operand.Const w
                    && w.value() >= 0 && w.value() <= 3 && w.value() == Math.rint(w.value()))) {
                throw new IllegalArgumentException("equation " + i + ": random's word must be a constant 0..3, got " + e.args().getFirst());
            }
        }
        for (Output o : outputs) {
            if (o.input() < 0 || o.input() >= inputs.size() || o.input() == UPDATE) {
                throw new IllegalArgumentException("bad output target " + o.input());
            }
            checkOperand(o.value(), eqns.size(), inputs.size(), scalars.size());
            Storage st = storage.get(o.input());
            boolean exact = switch (o.value()) {
                case Operand.Var v -> st.holds(eqns.get(v.id()).op());
                case Operand.Input in -> st == Storage.F32 || storage.get(in.index()) == st;
                default -> st == Storage.F32;
            };
            if (!exact) {
                throw new IllegalArgumentException("output to " + st.mnemonic() + " input '" + inputs.get(o.input()) + "' is not a value that type holds: "
                        + o.value());
            }
        }
    }

    private static void checkOperand(Operand a, int before, int nInputs, int nScalars) {
        boolean ok = switch (a) {
            case Operand.Input in -> in.index() >= 0 && in.index() < nInputs;
            case Operand.Scalar s -> s.index() >= 0 && s.index() < nScalars;
            case Operand.Const c -> true;
            case Operand.Var v -> v.id() >= 0 && v.id() < before;
        };
        if (!ok) throw new IllegalArgumentException("operand " + a + " is out of range");
    }

    /** Whether an equation is {@link Op#RANDOM}: the launch must say where each element is (the class comment). */
    public boolean usesRandom() {
        for (Eqn e : eqns) if (e.op() == Op.RANDOM) return true;
        return false;
    }

    /** Device buffers a launch takes: one per input, and the tensor table if it {@link #usesRandom()}. */
    public int bufferCount() { return inputs.size() + (usesRandom() ? 1 : 0); }

    /** State slot names: the inputs after param and update. */
    public List<String> slots() { return inputs.subList(2, inputs.size()); }

    /** Bytes each element moves per step as stored ({@link #storage()}): every input read once, every output written once. */
    public long bytesPerElement() {
        long b = 0;
        for (Storage s : storage) b += s.bytes();
        for (Output o : outputs) b += storage.get(o.input()).bytes();
        return b;
    }

    /** How input {@code i} is stored. */
    public Storage storage(int i) { return storage.get(i); }

    /** This kernel with every input stored as float32 (for a target that holds 16-bit values in float32 buffers). */
    public Kernel withFloat32Storage() { return new Kernel(name, inputs, scalars, eqns, outputs); }

    /** One line per equation, stable and readable; used in golden tests and as the hash's input. */
    public String print() {
        StringBuilder sb = new StringBuilder();
        sb.append("kernel ").append(name).append('\n');
        sb.append("  in ");
        for (int i = 0; i < inputs.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(inputs.get(i)).append(storage.get(i) == Storage.F32 ? "" : ":" + storage.get(i).mnemonic());
        }
        sb.append('\n');
        sb.append("  scalar ").append(String.join(", ", scalars)).append('\n');
        for (Eqn e : eqns) {
            sb.append("  v").append(e.id()).append(" = ").append(e.op().mnemonic());
            for (int i = 0; i < e.args().size(); i++) sb.append(i == 0 ? " " : ", ").append(show(e.args().get(i)));
            sb.append('\n');
        }
        for (Output o : outputs) {
            sb.append("  out ").append(inputs.get(o.input())).append(" = ").append(show(o.value())).append('\n');
        }
        return sb.toString();
    }

    /** How an operand prints: inputs and scalars by name, constants as exact bits, vars as vN. */
    public String show(Operand a) {
        return switch (a) {
            case Operand.Input in -> inputs.get(in.index());
            case Operand.Scalar s -> "%" + scalars.get(s.index());
            case Operand.Const c -> String.format(Locale.ROOT, "0x%08x(%s)", c.bits(), Float.toString(c.value()));
            case Operand.Var v -> "v" + v.id();
        };
    }

    /** SHA-256 of {@link #print()}, hex: a stable cache key for compiled programs. */
    public String hash() {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(print().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    @Override
    public String toString() { return print(); }
}
