package io.nag4j.core.ir;

/**
 * How a kernel input is stored: float32, or the bit pattern of a bfloat16 or float16 value. A
 * load widens exactly to float32; a store writes the 16-bit pattern of a value the type holds
 * (what the kernel stores there is always a narrowing's result, {@link Kernel} checks, so the
 * store is exact). Every value inside a kernel is a float32 either way.
 */
public enum Storage {
    F32(4), BF16(2), F16(2);

    private final int bytes;

    Storage(int bytes) { this.bytes = bytes; }

    /** Bytes per element. */
    public int bytes() { return bytes; }

    /** Whether {@code op} gives values this storage holds exactly (any op for F32). */
    public boolean holds(Op op) {
        return switch (this) {
            case F32 -> true;
            case BF16 -> op == Op.BF16 || op == Op.BF16_SR;
            case F16 -> op == Op.F16 || op == Op.F16_SR;
        };
    }

    /** Lower-case name, as the IR printer writes it. */
    public String mnemonic() { return name().toLowerCase(java.util.Locale.ROOT); }
}
