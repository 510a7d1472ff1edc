package io.nag4j.bench.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.nag4j.bench.cli.Agreement;
import io.nag4j.core.io.AtomicFiles;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogarithmicAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** What {@code bench} found, and every form it is written in: the table, the JSON, the charts and one HTML page. */
final class Report {
    /** One speed measurement, with the agreement of the same backend and optimizer beside it. */
    record Measurement(String backend, String device, String optimizer, String configuration, String workload, long elements, int tensors,
                       long bytesPerElement, double secondsPerStep, double elementsPerSecond, long bytesPerStep,
                       double bytesPerSecond, Double limitBytesPerSecond, Double limitShare, String limitProbe,
                       Double hostOverheadSeconds, Double transferShare, int stepsTimed, double bitwiseIdenticalFraction,
                       long maxUlp) {}

    /** The configuration name of FAST-mode agreement records. */
    static final String FAST = "defaults, FAST";

    /** FAST against EXACT for one backend, optimizer and workload, timed in the same run on the same data. */
    record FastVsExact(String backend, String device, String optimizer, String workload, long elements, int exactEquations,
                       int fastEquations, double exactSecondsPerStep, double fastSecondsPerStep, double speedup) {}

    /** One agreement run: a backend against the hand-written reference for one optimizer (FAST: against the evaluator on the fused kernel). */
    record AgreementRecord(String backend, String device, String optimizer, String configuration, int steps, long elements, long compared,
                           long differing, double bitwiseIdenticalFraction, long maxUlp, Agreement.Mismatch firstMismatch) {}

    /**
     * What one configuration of an optimizer streams: its flags choose the kernel, and the kernel's
     * inputs are the slots read (param, update and the state it uses), its outputs those written.
     */
    record Configuration(String optimizer, String configuration, Map<String, Float> hyperparameters, String kernel,
                         List<String> slotsStreamed, long bytesPerElement) {}

    final Map<String, Object> machine;
    final boolean quick;
    final List<AgreementRecord> agreement = new ArrayList<>();
    final List<Measurement> measurements = new ArrayList<>();
    final List<Configuration> configurations = new ArrayList<>();
    final List<FastVsExact> fastVsExact = new ArrayList<>();
    final List<String> notes = new ArrayList<>();

    Report(Map<String, Object> machine, boolean quick) {
        this.machine = machine;
        this.quick = quick;
    }

    boolean allAgree() { return agreement.stream().allMatch(a -> a.differing() == 0); }

    // ---- the table ----

    void printTable(PrintWriter out) {
        out.println("# bytes per element per optimizer configuration (flags choose the kernel; a slot it does not use is not streamed)");
        out.printf(Locale.ROOT, "%-9s %-26s %-28s %5s  %s%n", "optimizer", "configuration", "kernel", "B/el", "streams");
        for (Configuration c : configurations) {
            out.printf(Locale.ROOT, "%-9s %-26s %-28s %5d  %s%n", c.optimizer(), c.configuration(), c.kernel(), c.bytesPerElement(),
                    String.join(", ", c.slotsStreamed()));
        }
        out.println();
        out.println("# agreement with the hand-written reference (EXACT mode; \"" + FAST + "\": FAST mode against the evaluator on the fused kernel; every param and state value, bit for bit)");
        out.printf(Locale.ROOT, "%-22s %-9s %-26s %10s %12s %9s  %s%n", "backend", "optimizer", "configuration", "compared", "identical",
                "max ulp", "first mismatch");
        for (AgreementRecord a : agreement) {
            out.printf(Locale.ROOT, "%-22s %-9s %-26s %10d %11.4f%% %9d  %s%n", a.backend(), a.optimizer(), a.configuration(), a.compared(),
                    100 * a.bitwiseIdenticalFraction(), a.maxUlp(), a.firstMismatch() == null ? "-" : a.firstMismatch().describe());
        }
        out.println();
        out.println("# speed: median per step through the public API (BoundOptimizer.step), updates from the host");
        out.printf(Locale.ROOT, "%-22s %-9s %-14s %11s %5s %11s %10s %9s %10s %7s %10s %8s%n", "backend", "optimizer", "workload",
                "elements", "B/el", "time/step", "Melem/s", "GB/s", "limit GB/s", "share", "host/step", "transfer");
        for (Measurement m : measurements) {
            out.printf(Locale.ROOT, "%-22s %-9s %-14s %11d %5d %11s %10.1f %9.2f %10s %7s %10s %8s%n", m.backend(), label(m),
                    m.workload(), m.elements(), m.bytesPerElement(), time(m.secondsPerStep()), m.elementsPerSecond() / 1e6,
                    m.bytesPerSecond() / 1e9, m.limitBytesPerSecond() == null ? "-" : String.format(Locale.ROOT, "%.2f", m.limitBytesPerSecond() / 1e9),
                    m.limitShare() == null ? "-" : String.format(Locale.ROOT, "%.0f%%", 100 * m.limitShare()),
                    m.hostOverheadSeconds() == null ? "-" : time(m.hostOverheadSeconds()),
                    m.transferShare() == null ? "-" : String.format(Locale.ROOT, "%.0f%%", 100 * m.transferShare()));
        }
        if (!fastVsExact.isEmpty()) {
            out.println();
            out.println("# FAST against EXACT: the same backend, optimizer, data and timing, multiply-adds fused into fma by one IR pass");
            out.printf(Locale.ROOT, "%-22s %-9s %-14s %11s %9s %11s %11s %8s%n", "backend", "optimizer", "workload", "elements", "eqns", "EXACT/step",
                    "FAST/step", "speedup");
            for (FastVsExact f : fastVsExact) {
                out.printf(Locale.ROOT, "%-22s %-9s %-14s %11d %4d->%-3d %11s %11s %7.2fx%n", f.backend(), f.optimizer(), f.workload(), f.elements(),
                        f.exactEquations(), f.fastEquations(), time(f.exactSecondsPerStep()), time(f.fastSecondsPerStep()), f.speedup());
            }
        }
        for (String n : notes) out.println("# " + n);
        out.flush();
    }

    /** The optimizer, with its configuration when it is not the defaults ({@code rmsprop centered=1}). */
    static String label(Measurement m) {
        return m.configuration().equals("defaults") ? m.optimizer() : m.optimizer() + " " + m.configuration();
    }

    static String time(double seconds) {
        if (seconds < 1e-6) return String.format(Locale.ROOT, "%.0f ns", seconds * 1e9);
        if (seconds < 1e-3) return String.format(Locale.ROOT, "%.2f us", seconds * 1e6);
        if (seconds < 1) return String.format(Locale.ROOT, "%.2f ms", seconds * 1e3);
        return String.format(Locale.ROOT, "%.2f s", seconds);
    }

    // ---- JSON ----

    Map<String, Object> document() {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("benchmark", "nag4j bench");
        doc.put("quick", quick);
        doc.put("machine", machine);
        doc.put("all_agree", allAgree());
        doc.put("measurements", measurements);
        doc.put("agreement", agreement);
        doc.put("configurations", configurations);
        doc.put("fast_vs_exact", fastVsExact);
        doc.put("notes", notes);
        return doc;
    }

    void writeJson(Path file) throws IOException {
        ObjectMapper json = new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .enable(SerializationFeature.INDENT_OUTPUT);
        byte[] bytes = json.writeValueAsBytes(document());
        AtomicFiles.write(file, bytes);
    }

    // ---- charts ----

    /** The charts, by file name, as PNG bytes. */
    Map<String, byte[]> charts() throws IOException {
        System.setProperty("java.awt.headless", "true"); // drawn to files: no display needed
        Map<String, byte[]> out = new LinkedHashMap<>();
        String optimizer = measurements.stream().anyMatch(m -> m.optimizer().equals("nag")) ? "nag"
                : measurements.isEmpty() ? null : measurements.get(0).optimizer();
        if (optimizer != null) {
            out.put("throughput.png", png(sizeChart(optimizer + ": GB/s against elements (one tensor), per backend", "GB/s",
                    optimizer, m -> m.bytesPerSecond() / 1e9)));
            out.put("limit-share.png", png(sizeChart(optimizer + ": share of the machine's limit (one tensor), per backend", "share of the limit",
                    optimizer, m -> m.limitShare())));
        }
        DefaultCategoryDataset agree = new DefaultCategoryDataset();
        for (AgreementRecord a : agreement) {
            agree.addValue(100 * a.bitwiseIdenticalFraction(), a.backend(),
                    a.configuration().equals("defaults") ? a.optimizer() : a.optimizer() + " " + a.configuration());
        }
        JFreeChart bars = ChartFactory.createBarChart("Bitwise-identical values against the reference, per optimizer and backend",
                "optimizer", "% identical", agree, PlotOrientation.VERTICAL, true, false, false);
        ((NumberAxis) bars.getCategoryPlot().getRangeAxis()).setRange(0, 100.5);
        out.put("agreement.png", png(bars));
        return out;
    }

    private JFreeChart sizeChart(String title, String yLabel, String optimizer, java.util.function.Function<Measurement, Double> y) {
        Map<String, XYSeries> series = new LinkedHashMap<>();
        for (Measurement m : measurements) {
            Double v = y.apply(m);
            if (!m.optimizer().equals(optimizer) || !m.configuration().equals("defaults") || m.tensors() != 1 || v == null || !(v > 0)) continue;
            series.computeIfAbsent(m.backend(), XYSeries::new).add(m.elements(), v);
        }
        XYSeriesCollection data = new XYSeriesCollection();
        series.values().forEach(data::addSeries);
        LogarithmicAxis x = new LogarithmicAxis("elements");
        x.setAllowNegativesFlag(false);
        NumberAxis yAxis = new NumberAxis(yLabel);
        XYPlot plot = new XYPlot(data, x, yAxis, new XYLineAndShapeRenderer(true, true));
        return new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
    }

    private static byte[] png(JFreeChart chart) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        ChartUtils.writeChartAsPNG(b, chart, 900, 520);
        return b.toByteArray();
    }

    // ---- HTML ----

    /** One self-contained page: the machine, the charts (inline), both tables. */
    String html(Map<String, byte[]> charts) {
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>nag4j bench</title>\n<style>")
                .append("body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;font-size:13px}")
                .append("td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}td.l,th.l{text-align:left}")
                .append(".bad{background:#fdd}img{max-width:100%}</style></head><body>\n");
        h.append("<h1>nag4j bench").append(quick ? " (--quick)" : "").append("</h1>\n");
        h.append("<p>").append(allAgree() ? "EXACT mode agrees with the reference everywhere: every compared value is bitwise identical."
                : "<b>EXACT mode disagrees with the reference somewhere</b> (rows marked below).").append("</p>\n");
        h.append("<h2>Machine</h2>\n<table>");
        for (var e : machine.entrySet()) {
            h.append("<tr><th class=l>").append(esc(e.getKey())).append("</th><td class=l>").append(esc(String.valueOf(e.getValue()))).append("</td></tr>");
        }
        h.append("</table>\n<h2>Charts</h2>\n");
        for (var c : charts.entrySet()) {
            h.append("<p><img alt=\"").append(esc(c.getKey())).append("\" src=\"data:image/png;base64,")
                    .append(Base64.getEncoder().encodeToString(c.getValue())).append("\"></p>\n");
        }
        h.append("<h2>Bytes per element per configuration</h2>\n<table><tr><th class=l>optimizer</th><th class=l>configuration</th>")
                .append("<th class=l>kernel</th><th>bytes/element</th><th class=l>streams</th></tr>\n");
        for (Configuration c : configurations) {
            h.append("<tr>").append(td(c.optimizer())).append(td(c.configuration())).append(td(c.kernel())).append("<td>")
                    .append(c.bytesPerElement()).append("</td>").append(td(String.join(", ", c.slotsStreamed()))).append("</tr>\n");
        }
        h.append("</table>\n");
        h.append("<h2>Agreement</h2>\n<table><tr><th class=l>backend</th><th class=l>device</th><th class=l>optimizer</th><th class=l>configuration</th><th>steps</th>")
                .append("<th>compared</th><th>identical</th><th>max ulp</th><th class=l>first mismatch</th></tr>\n");
        for (AgreementRecord a : agreement) {
            h.append(a.differing() == 0 ? "<tr>" : "<tr class=bad>").append(td(a.backend())).append(td(a.device())).append(td(a.optimizer()))
                    .append(td(a.configuration()))
                    .append("<td>").append(a.steps()).append("</td><td>").append(a.compared()).append("</td><td>")
                    .append(String.format(Locale.ROOT, "%.4f%%", 100 * a.bitwiseIdenticalFraction())).append("</td><td>").append(a.maxUlp())
                    .append("</td>").append(td(a.firstMismatch() == null ? "" : a.firstMismatch().describe())).append("</tr>\n");
        }
        h.append("</table>\n<h2>Speed</h2>\n<table><tr><th class=l>backend</th><th class=l>optimizer</th><th class=l>workload</th><th>elements</th>")
                .append("<th>tensors</th><th>bytes/element</th><th>time/step</th><th>Melements/s</th><th>GB/s</th><th>limit GB/s</th>")
                .append("<th>share</th><th>host/step</th><th>transfer share</th><th class=l>limit measured by</th></tr>\n");
        for (Measurement m : measurements) {
            h.append("<tr>").append(td(m.backend())).append(td(label(m))).append(td(m.workload())).append("<td>").append(m.elements())
                    .append("</td><td>").append(m.tensors()).append("</td><td>").append(m.bytesPerElement()).append("</td><td>")
                    .append(time(m.secondsPerStep())).append("</td><td>").append(String.format(Locale.ROOT, "%.1f", m.elementsPerSecond() / 1e6))
                    .append("</td><td>").append(String.format(Locale.ROOT, "%.2f", m.bytesPerSecond() / 1e9)).append("</td><td>")
                    .append(m.limitBytesPerSecond() == null ? "" : String.format(Locale.ROOT, "%.2f", m.limitBytesPerSecond() / 1e9))
                    .append("</td><td>").append(m.limitShare() == null ? "" : String.format(Locale.ROOT, "%.0f%%", 100 * m.limitShare()))
                    .append("</td><td>").append(m.hostOverheadSeconds() == null ? "" : time(m.hostOverheadSeconds())).append("</td><td>")
                    .append(m.transferShare() == null ? "" : String.format(Locale.ROOT, "%.0f%%", 100 * m.transferShare())).append("</td>")
                    .append(td(m.limitProbe() == null ? "" : m.limitProbe())).append("</tr>\n");
        }
        h.append("</table>\n");
        for (String n : notes) h.append("<p>").append(esc(n)).append("</p>\n");
        h.append("</body></html>\n");
        return h.toString();
    }

    private static String td(String s) { return "<td class=l>" + esc(s) + "</td>"; }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** Writes the JSON, the charts and the HTML page; returns the files written. */
    List<Path> writeAll(Path dir, Path json) throws IOException {
        Files.createDirectories(dir);
        List<Path> written = new ArrayList<>();
        if (json.toAbsolutePath().getParent() != null) Files.createDirectories(json.toAbsolutePath().getParent());
        writeJson(json);
        written.add(json);
        Map<String, byte[]> charts = charts();
        for (var c : charts.entrySet()) {
            Path p = dir.resolve(c.getKey());
            AtomicFiles.write(p, c.getValue());
            written.add(p);
        }
        Path page = dir.resolve("report.html");
        AtomicFiles.write(page, html(charts).getBytes(StandardCharsets.UTF_8));
        written.add(page);
        return written;
    }
}
