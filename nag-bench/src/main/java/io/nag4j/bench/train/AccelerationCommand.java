package io.nag4j.bench.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.nag4j.core.cpu.CpuBackend;
import io.nag4j.core.io.AtomicFiles;
import io.nag4j.core.optim.KernelOptimizer;
import io.nag4j.core.optim.OptState;
import io.nag4j.core.rule.Hyperparams;
import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Rules;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
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
import picocli.CommandLine.Spec;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code nag4j acceleration}: NAG's acceleration measured against the theory. On quadratics
 * {@code f(x) = 1/2 sum lambda_i x_i^2} with eigenvalues spread geometrically over [1, kappa], the
 * steps nag4j's {@code sgd} (gradient descent) and {@code nag} need to bring f to a fixed fraction
 * of its start, each with its step size (and NAG its momentum) tuned by a grid search. Theory:
 * gradient descent with its best constant step needs about (kappa/2) ln(1/tol) steps, Nesterov's
 * method about sqrt(kappa) ln(1/tol): counts growing like kappa and like sqrt(kappa).
 */
@Command(name = "acceleration", mixinStandardHelpOptions = true,
        description = "Steps SGD and NAG need on quadratics of condition number 10..1e4 (tuned step sizes), against the theory: a table, JSON and a chart.")
public final class AccelerationCommand implements Callable<Integer> {
    @Option(names = "--kappas", defaultValue = "10,30,100,300,1000,3000,10000", split = ",", paramLabel = "K,...", description = "Condition numbers. Default: 10 to 1e4.")
    List<Double> kappas;

    @Option(names = "--dim", defaultValue = "100", paramLabel = "D", description = "Dimension of the quadratic. Default: 100.")
    int dim;

    @Option(names = "--tol", defaultValue = "1e-6", paramLabel = "T", description = "Stop when f(x) <= T * f(x0). Default: 1e-6.")
    double tol;

    @Option(names = "--out", defaultValue = "acceleration-out", paramLabel = "DIR", description = "Where acceleration.png and acceleration.json go.")
    Path out;

    @Spec
    CommandSpec spec;

    record Result(double kappa, String optimizer, long steps, Map<String, Float> hyperparameters, double theorySteps) {}

    @Override
    public Integer call() throws IOException {
        if (dim < 2) throw new IllegalArgumentException("--dim must be at least 2, got " + dim);
        if (!(tol > 0 && tol < 1)) throw new IllegalArgumentException("--tol must be in (0, 1), got " + tol);
        for (double k : kappas) if (!(k > 1)) throw new IllegalArgumentException("a condition number must be above 1, got " + k);
        PrintWriter pw = spec.commandLine().getOut();
        List<Result> results = new ArrayList<>();
        double log = Math.log(1 / tol);
        pw.printf(Locale.ROOT, "%8s %12s %12s %14s %14s %10s%n", "kappa", "sgd steps", "nag steps", "theory sgd", "theory nag", "sgd/nag");
        for (double kappa : kappas) {
            float[] lambda = new float[dim];
            for (int i = 0; i < dim; i++) lambda[i] = (float) Math.pow(kappa, (double) i / (dim - 1));
            long cap = (long) (4 * kappa * log) + 1000;
            // Gradient descent: the step size over a grid around the best constant one, 2/(L+mu).
            Result best = null;
            for (double f = 0.5; f <= 1.0001; f += 0.05) {
                float eta = (float) (f * 2 / (kappa + 1));
                long n = steps(Rules.byName("sgd"), Hyperparams.of("eta", eta), lambda, cap);
                if (best == null || n < best.steps()) best = new Result(kappa, "sgd", n, Map.of("eta", eta), kappa / 2 * log);
            }
            Result sgd = best;
            // NAG as the seed writes it: the step size around 1/L, the momentum around (sqrt k - 1)/(sqrt k + 1).
            best = null;
            double q = Math.sqrt(kappa);
            for (double fe : new double[] {0.5, 0.75, 1.0, 1.25, 1.5}) {
                for (double fm : new double[] {0.6, 0.8, 0.9, 0.95, 1.0, 1.05, 1.1}) {
                    float eta = (float) (fe / kappa);
                    float mu = (float) Math.min(0.9999, fm * (q - 1) / (q + 1));
                    long n = steps(Rules.byName("nag"), Hyperparams.of("eta", eta, "mu", mu), lambda, best == null ? cap : best.steps());
                    if (best == null || n < best.steps()) best = new Result(kappa, "nag", n, Map.of("eta", eta, "mu", mu), q * log);
                }
            }
            Result nag = best;
            results.add(sgd);
            results.add(nag);
            pw.printf(Locale.ROOT, "%8.0f %12d %12d %14.0f %14.0f %10.1f%n", kappa, sgd.steps(), nag.steps(), sgd.theorySteps(), nag.theorySteps(),
                    (double) sgd.steps() / nag.steps());
            pw.flush();
        }
        double sgdSlope = slope(results, "sgd"), nagSlope = slope(results, "nag");
        pw.printf(Locale.ROOT, "growth with kappa (log-log slope): sgd %.3f (theory 1), nag %.3f (theory 0.5)%n", sgdSlope, nagSlope);
        Files.createDirectories(out);
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("command", "nag4j acceleration");
        doc.put("dim", dim);
        doc.put("tol", tol);
        doc.put("slope_sgd", sgdSlope);
        doc.put("slope_nag", nagSlope);
        doc.put("results", results);
        AtomicFiles.write(out.resolve("acceleration.json"), new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(doc));
        AtomicFiles.write(out.resolve("acceleration.png"), chart(results));
        pw.println("wrote " + out.resolve("acceleration.json") + " and " + out.resolve("acceleration.png"));
        pw.flush();
        return 0;
    }

    /** Steps {@code rule} needs from x0 = 1 until f(x) <= tol f(x0), at most {@code cap} (then cap + 1). */
    long steps(Rule rule, Hyperparams hp, float[] lambda, long cap) {
        KernelOptimizer opt = new KernelOptimizer(rule, hp, CpuBackend.shared());
        float[] x = new float[lambda.length], g = new float[lambda.length];
        java.util.Arrays.fill(x, 1f);
        double f0 = value(lambda, x), stop = tol * f0;
        try (ParamSet p = ParamSet.of(Tensor.wrap("x", java.lang.foreign.MemorySegment.ofArray(x), x.length));
             ParamSet u = ParamSet.of(Tensor.wrap("x", java.lang.foreign.MemorySegment.ofArray(g), g.length));
             OptState s = opt.init(p)) {
            for (long t = 1; t <= cap; t++) {
                for (int i = 0; i < x.length; i++) g[i] = lambda[i] * x[i];
                opt.step(s, p, u, hp);
                double f = value(lambda, x);
                if (!(f <= 1e30)) return cap + 1; // diverged (or NaN): this setting fails
                if (f <= stop) return t;
            }
        }
        return cap + 1;
    }

    private static double value(float[] lambda, float[] x) {
        double f = 0;
        for (int i = 0; i < x.length; i++) f += 0.5 * lambda[i] * (double) x[i] * x[i];
        return f;
    }

    private static double slope(List<Result> rs, String optimizer) {
        List<double[]> pts = new ArrayList<>();
        for (Result r : rs) if (r.optimizer().equals(optimizer)) pts.add(new double[] {Math.log(r.kappa()), Math.log(r.steps())});
        double mx = 0, my = 0;
        for (double[] p : pts) { mx += p[0]; my += p[1]; }
        mx /= pts.size();
        my /= pts.size();
        double num = 0, den = 0;
        for (double[] p : pts) { num += (p[0] - mx) * (p[1] - my); den += (p[0] - mx) * (p[0] - mx); }
        return den == 0 ? Double.NaN : num / den;
    }

    private byte[] chart(List<Result> rs) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYSeries sgd = new XYSeries("sgd (measured, tuned step)"), nag = new XYSeries("nag (measured, tuned step and momentum)"),
                tSgd = new XYSeries("theory: (kappa/2) ln(1/tol)"), tNag = new XYSeries("theory: sqrt(kappa) ln(1/tol)");
        for (Result r : rs) {
            (r.optimizer().equals("sgd") ? sgd : nag).add(r.kappa(), r.steps());
            (r.optimizer().equals("sgd") ? tSgd : tNag).add(r.kappa(), r.theorySteps());
        }
        XYSeriesCollection data = new XYSeriesCollection();
        for (XYSeries s : List.of(sgd, nag, tSgd, tNag)) data.addSeries(s);
        LogarithmicAxis x = new LogarithmicAxis("condition number kappa"), y = new LogarithmicAxis("steps to f <= " + tol + " f(x0)");
        XYPlot plot = new XYPlot(data, x, y, new XYLineAndShapeRenderer(true, true));
        JFreeChart chart = new JFreeChart("Steps against condition number: NAG grows like sqrt(kappa), SGD like kappa (d = " + dim + ")",
                JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        ChartUtils.writeChartAsPNG(b, chart, 900, 560);
        return b.toByteArray();
    }
}
