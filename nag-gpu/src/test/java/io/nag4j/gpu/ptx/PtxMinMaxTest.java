package io.nag4j.gpu.ptx;

import io.nag4j.core.golden.Bits;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * No GPU runs here, so the MIN/MAX lowering is checked by executing the very PTX lines the renderer
 * emits ({@link PtxRenderer#minMax}) with a tiny interpreter of the few instructions they use,
 * following the PTX ISA meaning of each, over the values where min/max differ between IEEE and Java.
 */
class PtxMinMaxTest {
    static final float[] VALUES = {0f, -0f, 1f, -1f, -3.5f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MAX_VALUE,
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, Float.intBitsToFloat(0xffc00001)};

    @Test
    void minAndMaxMatchJava() {
        int checked = 0;
        for (boolean max : new boolean[] {false, true}) {
            List<String> lines = PtxRenderer.minMax(max, "%fd", "%fa", "%fb", new PtxRenderer.Regs());
            for (float a : VALUES) {
                for (float b : VALUES) {
                    float expected = max ? Math.max(a, b) : Math.min(a, b);
                    float got = run(lines, a, b);
                    if (!Bits.same(expected, got)) {
                        fail((max ? "max" : "min") + "(" + Bits.show(a) + ", " + Bits.show(b) + "): Java " + Bits.show(expected)
                                + ", PTX lowering " + Bits.show(got) + "\n" + String.join("\n", lines));
                    }
                    checked++;
                }
            }
        }
        assertTrue(checked == 2 * VALUES.length * VALUES.length);
    }

    /** Runs the lines with %fa = a, %fb = b and returns %fd. */
    static float run(List<String> lines, float a, float b) {
        Map<String, Integer> reg = new HashMap<>();
        Map<String, Boolean> pred = new HashMap<>();
        reg.put("%fa", Float.floatToRawIntBits(a));
        reg.put("%fb", Float.floatToRawIntBits(b));
        for (String line : lines) {
            String[] parts = line.replace(";", "").split("[ ,]+");
            String op = parts[0];
            switch (op) {
                case "setp.lt.f32", "setp.gt.f32", "setp.eq.f32", "setp.nan.f32" -> {
                    float x = f(reg, parts[2]), y = f(reg, parts[3]);
                    boolean v = switch (op) {
                        case "setp.lt.f32" -> x < y;       // ordered: false with NaN
                        case "setp.gt.f32" -> x > y;
                        case "setp.eq.f32" -> x == y;
                        default -> Float.isNaN(x) || Float.isNaN(y);
                    };
                    pred.put(parts[1], v);
                }
                case "selp.f32" -> {
                    Boolean p = pred.get(parts[4]);
                    if (p == null) fail("predicate " + parts[4] + " read before set: " + line);
                    reg.put(parts[1], p ? bits(reg, parts[2]) : bits(reg, parts[3]));
                }
                case "mov.b32" -> reg.put(parts[1], bits(reg, parts[2]));
                case "or.b32" -> reg.put(parts[1], bits(reg, parts[2]) | bits(reg, parts[3]));
                case "and.b32" -> reg.put(parts[1], bits(reg, parts[2]) & bits(reg, parts[3]));
                default -> fail("the interpreter does not know '" + line + "': extend it with the instruction's PTX meaning");
            }
        }
        return Float.intBitsToFloat(bits(reg, "%fd"));
    }

    private static int bits(Map<String, Integer> reg, String operand) {
        if (operand.startsWith("0f")) return Integer.parseUnsignedInt(operand.substring(2), 16);
        Integer v = reg.get(operand);
        if (v == null) fail("register " + operand + " read before set");
        return v;
    }

    private static float f(Map<String, Integer> reg, String operand) { return Float.intBitsToFloat(bits(reg, operand)); }
}
