package io.nag4j.gpu.device;

/** Generated source as compiler errors show it: with line numbers, so a log's "line 12" can be found. */
public final class Listing {
    private Listing() {}

    /** {@code text} with each line prefixed by its number (from 1), as a build log counts them. */
    public static String numbered(String text) {
        StringBuilder sb = new StringBuilder();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) sb.append(String.format("%4d  %s%n", i + 1, lines[i]));
        return sb.toString();
    }
}
