package io.nag4j.core.rule;

/** PyTorch element ops shared by the rules that follow PyTorch, written unfused in the DSL. */
final class TorchOps {
    private TorchOps() {}

    /**
     * {@code torch.lerp(start, end, w)} as ATen's scalar kernel writes it: {@code start + w*(end-start)}
     * when {@code |w| < 0.5} (host value {@code small} = 1), else {@code end - (end-start)*omw} with
     * {@code omw = 1 - w} from the host. Both sides are computed; a select picks one. (ATen's
     * vectorized CPU kernel fuses this into an FMA; nag4j rounds every op.)
     */
    static Sym lerp(Sym start, Sym end, Sym w, Sym small, Sym omw) {
        Sym d = end.sub(start);
        Sym lo = start.add(w.mul(d));
        Sym hi = end.sub(d.mul(omw));
        return small.select(lo, hi);
    }
}
