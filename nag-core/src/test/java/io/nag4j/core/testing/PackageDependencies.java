package io.nag4j.core.testing;

import java.io.IOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.constantpool.ClassEntry;
import java.lang.classfile.constantpool.PoolEntry;
import java.lang.classfile.constantpool.Utf8Entry;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Package dependencies read from compiled classes (their constant pools: class references and the
 * descriptors and signatures that name classes as text), for tests that enforce a layering rule.
 */
public final class PackageDependencies {
    private PackageDependencies() {}

    /**
     * For each package directly under {@code base} (e.g. {@code io/nag4j/core}) among the classes
     * of the directory or jar holding {@code anchor}, the other such packages its classes name.
     */
    public static Map<String, Set<String>> of(Class<?> anchor, String base) throws IOException, URISyntaxException {
        Path root = Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI());
        Pattern named = Pattern.compile("L" + Pattern.quote(base) + "/(\\w+)/");
        Map<String, Set<String>> out = new TreeMap<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) {
                ClassModel cm = ClassFile.of().parse(f);
                Matcher own = named.matcher("L" + cm.thisClass().asInternalName());
                if (!own.lookingAt()) continue;
                String pkg = own.group(1);
                Set<String> uses = out.computeIfAbsent(pkg, k -> new TreeSet<>());
                for (PoolEntry e : cm.constantPool()) {
                    String text = e instanceof ClassEntry c ? "L" + c.asInternalName().replaceFirst("^\\[+L?", "") + ";"
                            : e instanceof Utf8Entry u ? u.stringValue() : null;
                    if (text == null) continue;
                    Matcher m = named.matcher(text);
                    while (m.find()) if (!m.group(1).equals(pkg)) uses.add(m.group(1));
                }
            }
        }
        return out;
    }

    /** The edges of {@code actual} that {@code allowed} does not list, as {@code "a -> b"}. */
    public static List<String> violations(Map<String, Set<String>> actual, Map<String, Set<String>> allowed) {
        List<String> broken = new ArrayList<>();
        actual.forEach((pkg, uses) -> {
            for (String u : uses) if (!allowed.getOrDefault(pkg, Set.of()).contains(u)) broken.add(pkg + " -> " + u);
        });
        return broken;
    }
}
