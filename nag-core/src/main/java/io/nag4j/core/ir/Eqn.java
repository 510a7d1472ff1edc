package io.nag4j.core.ir;

import java.util.List;

/** One SSA equation: {@code v<id> = op(args)}. */
public record Eqn(int id, Op op, List<Operand> args) {
    public Eqn {
        args = List.copyOf(args);
        if (args.size() != op.arity()) {
            throw new IllegalArgumentException(op + " takes " + op.arity() + " arguments, got " + args.size());
        }
    }
}
