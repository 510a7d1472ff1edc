package io.nag4j.bench.device;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The realistic ParamSets are the models' own: counts and sizes as PyTorch reports them. */
class WorkloadsTest {
    @Test
    void bertBaseHasItsTensorsAndParameters() {
        Map<String, long[]> bert = Workloads.bertBase();
        assertEquals(199, bert.size());
        assertEquals(109_482_240L, Workloads.elements(bert), "BertModel(bert-base-uncased) parameter count");
        assertArrayEquals(new long[] {30522, 768}, bert.get("embeddings.word_embeddings.weight"));
        assertArrayEquals(new long[] {3072, 768}, bert.get("encoder.layer.11.intermediate.dense.weight"));
    }

    @Test
    void resNet50AndManySmallTensors() {
        assertEquals(161, Workloads.resnet50().size());
        assertEquals(25_557_032L, Workloads.elements(Workloads.resnet50()));
        Map<String, long[]> many = Workloads.many(10_000, 100);
        assertEquals(10_000, many.size());
        assertEquals(1_000_000L, Workloads.elements(many));
    }
}
