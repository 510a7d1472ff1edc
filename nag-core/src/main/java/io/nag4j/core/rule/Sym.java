package io.nag4j.core.rule;

import io.nag4j.core.ir.Op;
import io.nag4j.core.ir.Operand;

/**
 * A symbolic float32 value during tracing. Each method appends one equation to the trace and
 * returns its result, in the order the Java code runs: what you write is the op order.
 * Float arguments become exact constants.
 */
public final class Sym {
    final Trace trace;
    final Operand operand;

    Sym(Trace trace, Operand operand) {
        this.trace = trace;
        this.operand = operand;
    }

    public Operand operand() { return operand; }

    public Sym add(Sym o) { return trace.emit(Op.ADD, this, o); }
    public Sym sub(Sym o) { return trace.emit(Op.SUB, this, o); }
    public Sym mul(Sym o) { return trace.emit(Op.MUL, this, o); }
    public Sym div(Sym o) { return trace.emit(Op.DIV, this, o); }
    public Sym min(Sym o) { return trace.emit(Op.MIN, this, o); }
    public Sym max(Sym o) { return trace.emit(Op.MAX, this, o); }
    public Sym add(float c) { return add(trace.constant(c)); }
    public Sym sub(float c) { return sub(trace.constant(c)); }
    public Sym mul(float c) { return mul(trace.constant(c)); }
    public Sym div(float c) { return div(trace.constant(c)); }
    public Sym neg() { return trace.emit(Op.NEG, this); }
    public Sym sqrt() { return trace.emit(Op.SQRT, this); }
    public Sym abs() { return trace.emit(Op.ABS, this); }
    /** Rounded to the nearest bfloat16 (as a float32): mixed precision's store. */
    public Sym bf16() { return trace.emit(Op.BF16, this); }
    /** Rounded to the nearest float16 (as a float32). */
    public Sym f16() { return trace.emit(Op.F16, this); }
    /** Rounded stochastically to bfloat16 with the uniform {@code u} in [0, 1) ({@link Op#BF16_SR}). */
    public Sym bf16Stochastic(Sym u) { return trace.emit(Op.BF16_SR, this, u); }
    /** Rounded stochastically to float16 with the uniform {@code u} in [0, 1) ({@link Op#F16_SR}). */
    public Sym f16Stochastic(Sym u) { return trace.emit(Op.F16_SR, this, u); }
    /** {@code this * b + c} with one rounding. Only where the rule really means a fused op. */
    public Sym fma(Sym b, Sym c) { return trace.emit(Op.FMA, this, b, c); }
    public Sym lt(Sym o) { return trace.emit(Op.LT, this, o); }
    public Sym le(Sym o) { return trace.emit(Op.LE, this, o); }
    public Sym gt(Sym o) { return trace.emit(Op.GT, this, o); }
    public Sym ge(Sym o) { return trace.emit(Op.GE, this, o); }
    public Sym eq(Sym o) { return trace.emit(Op.EQ, this, o); }
    public Sym ne(Sym o) { return trace.emit(Op.NE, this, o); }
    public Sym gt(float c) { return gt(trace.constant(c)); }
    /** {@code this != 0 ? ifTrue : ifFalse}; both sides are computed (it is a select, not a branch). */
    public Sym select(Sym ifTrue, Sym ifFalse) { return trace.emit(Op.SELECT, this, ifTrue, ifFalse); }

    @Override
    public String toString() { return "Sym[" + operand + "]"; }
}
