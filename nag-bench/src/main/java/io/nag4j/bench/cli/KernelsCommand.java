package io.nag4j.bench.cli;

import io.nag4j.core.rule.Rule;
import io.nag4j.core.rule.Rules;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.plan.Renderers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code nag4j kernels --optimizer NAME --target TARGET [--mode exact|fast] [--hp k=v ...]}: prints
 * the code generated for an optimizer's kernel (the one its flags choose for those hyperparameters). Bad input (an unknown optimizer, target or mode,
 * or a target this build has no renderer for) is one line on stderr and exit code 2.
 */
@Command(name = "kernels", mixinStandardHelpOptions = true,
        description = "Prints the code generated for an optimizer's update kernel.")
public final class KernelsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--optimizer", required = true, paramLabel = "NAME", description = "Optimizer, e.g. nag.")
    String optimizer;

    @Option(names = "--target", required = true, paramLabel = "TARGET", description = "A renderer this build has (found by ServiceLoader): ir, java, opencl, ptx, tornado, tornado-opencl.")
    String target;

    @Option(names = "--mode", defaultValue = "exact", paramLabel = "MODE", description = "exact (default) or fast.")
    String mode;

    @Option(names = "--hp", paramLabel = "NAME=VALUE",
            description = "A hyperparameter (repeatable): its flags choose the kernel (e.g. --hp centered=1 for centered RMSprop). Others keep the defaults.")
    java.util.List<String> hyperparams = new java.util.ArrayList<>();

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String code;
        try {
            Rule rule = Rules.byName(optimizer);
            code = Renderers.render(target, rule.kernel(ReplayCommand.hyperparams(rule, hyperparams)), parseMode(mode));
        } catch (IllegalArgumentException e) {
            err.println("nag4j kernels: " + e.getMessage());
            err.flush();
            return 2;
        }
        out.print(code.endsWith("\n") ? code : code + "\n");
        out.flush();
        return 0;
    }

    /** {@code exact} or {@code fast}, any case; anything else is bad input naming both. */
    public static Mode parseMode(String text) {
        return switch (text == null ? "" : text.strip().toLowerCase(Locale.ROOT)) {
            case "exact" -> Mode.EXACT;
            case "fast" -> Mode.FAST;
            default -> throw new IllegalArgumentException("unknown mode '" + text + "'; known: exact, fast");
        };
    }
}
