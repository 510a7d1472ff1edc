package io.nag4j.bench.cpu;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.nag4j.core.cpu.CpuBackend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.File;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code nag4j bench-cpu}: the CPU backend's NAG step against a plain-Java probe, in one run. */
@Command(name = "bench-cpu", mixinStandardHelpOptions = true,
        description = "Time NAG steps on the CPU: a plain float[] loop over all cores (the probe), the same loop "
                + "on one thread, and the generated-code CPU backend; prints ns/step and GB/s.")
public final class CpuBenchCommand implements Callable<Integer> {
    @Option(names = "--sizes", description = "Comma-separated element counts (1000, 1e6, 64M = 64*2^20). Default: ${DEFAULT-VALUE}.",
            defaultValue = "1e3,1e4,1e5,1e6,1e7,64M")
    String sizes;

    @Option(names = "--seconds", description = "Seconds per variant and size, a third of it warm-up. Default: ${DEFAULT-VALUE}.",
            defaultValue = "3")
    double seconds;

    @Option(names = "--threads", description = "Threads of the probe. Default: all processors.")
    Integer threads;

    @Option(names = "--json", description = "Also write the results as JSON to this file.")
    File json;

    @Override
    public Integer call() throws IOException {
        long[] n = CpuBench.parseSizes(sizes);
        int t = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        System.out.println("# NAG step, 20 bytes/element; CPU backend: " + CpuBackend.shared().threads()
                + " threads, parallel from " + CpuBackend.shared().parallelBytes() + " bytes; "
                + Runtime.getRuntime().availableProcessors() + " processors; " + System.getProperty("java.vm.name")
                + " " + System.getProperty("java.vm.version"));
        System.out.println(CpuBench.header());
        List<CpuBench.Row> rows = new CpuBench(seconds, t, System.out).run(n);
        if (json != null) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("benchmark", "bench-cpu");
            doc.put("kernel", "nag");
            doc.put("bytesPerElement", 20);
            doc.put("processors", Runtime.getRuntime().availableProcessors());
            doc.put("backendThreads", CpuBackend.shared().threads());
            doc.put("backendParallelBytes", CpuBackend.shared().parallelBytes());
            doc.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version"));
            doc.put("secondsPerMeasurement", seconds);
            doc.put("rows", rows);
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json, doc);
            System.out.println("# wrote " + json);
        }
        return 0;
    }
}
