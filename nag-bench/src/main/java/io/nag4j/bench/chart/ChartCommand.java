package io.nag4j.bench.chart;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogarithmicAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code nag4j chart}: draws a benchmark's JSON report ({@code bench-cpu --json}) as a PNG: GB/s
 * against elements (both logarithmic), one line per variant, so the probe and the backend can be
 * compared at a glance.
 */
@Command(name = "chart", mixinStandardHelpOptions = true,
        description = "Draws a bench-cpu JSON report as a PNG chart of GB/s against elements, one line per variant.")
public final class ChartCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "REPORT", description = "The JSON report (from bench-cpu --json).")
    Path report;

    @Option(names = "--out", required = true, paramLabel = "PNG", description = "Where to write the chart.")
    Path out;

    @Option(names = "--width", defaultValue = "900", description = "Width in pixels. Default: 900.")
    int width;

    @Option(names = "--height", defaultValue = "560", description = "Height in pixels. Default: 560.")
    int height;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        System.setProperty("java.awt.headless", "true");  // drawn to a file: no display needed
        if (!Files.isRegularFile(report)) throw new IllegalArgumentException("report " + report + " does not exist");
        JsonNode doc;
        try {
            doc = new ObjectMapper().readTree(report.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException("report " + report + " is not JSON: " + e.getMessage());
        }
        JsonNode rows = doc.get("rows");
        if (rows == null || !rows.isArray() || rows.isEmpty()) throw new IllegalArgumentException("report " + report + " has no rows");
        Map<String, XYSeries> series = new LinkedHashMap<>();
        for (JsonNode r : rows) {
            if (!r.hasNonNull("variant") || !r.hasNonNull("elements") || !r.hasNonNull("gbPerSecond")) {
                throw new IllegalArgumentException("report " + report + ": a row lacks variant, elements or gbPerSecond: " + r);
            }
            series.computeIfAbsent(r.get("variant").asText(), XYSeries::new)
                    .add(r.get("elements").asDouble(), r.get("gbPerSecond").asDouble());
        }
        XYSeriesCollection data = new XYSeriesCollection();
        series.values().forEach(data::addSeries);
        LogarithmicAxis x = new LogarithmicAxis("elements");
        LogarithmicAxis y = new LogarithmicAxis("GB/s (" + doc.path("bytesPerElement").asInt(20) + " bytes per element)");
        x.setAllowNegativesFlag(false);
        y.setAllowNegativesFlag(false);
        XYPlot plot = new XYPlot(data, x, y, new XYLineAndShapeRenderer(true, true));
        String title = doc.path("benchmark").asText("benchmark") + ": " + doc.path("kernel").asText("") + " on "
                + doc.path("processors").asInt() + " processors, " + doc.path("jvm").asText("");
        JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        ChartUtils.saveChartAsPNG(out.toFile(), chart, width, height);
        spec.commandLine().getOut().println("wrote " + out);
        return 0;
    }
}
