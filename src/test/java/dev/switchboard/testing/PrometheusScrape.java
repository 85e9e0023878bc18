package dev.switchboard.testing;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict parser of the Prometheus text exposition format (0.0.4), for tests: every line is a
 * {@code # HELP}, a {@code # TYPE} (once per family, before its samples, of a known type) or a
 * sample {@code name{label="value",...} number}; label values are unescaped; a histogram's buckets
 * rise with {@code le} and its {@code +Inf} bucket equals its {@code _count}. A line that is none of
 * these throws, naming it.
 */
public final class PrometheusScrape {

  /** One sample: its metric name, labels and value. */
  public record Sample(String name, Map<String, String> labels, double value) {
  }

  private static final Pattern SAMPLE = Pattern.compile(
      "([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})?\\s+(\\S+)(\\s+-?\\d+)?");
  private static final Pattern LABEL = Pattern.compile(
      "\\s*([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"\\s*(,|$)");
  private static final Set<String> TYPES = Set.of("counter", "gauge", "histogram", "summary", "untyped");

  private final List<Sample> samples = new ArrayList<>();
  private final Map<String, String> types = new HashMap<>();

  private PrometheusScrape() {
  }

  /** Parses {@code text}; throws {@link IllegalArgumentException} naming the first bad line. */
  public static PrometheusScrape parse(String text) {
    PrometheusScrape s = new PrometheusScrape();
    int n = 0;
    for (String line : text.split("\n")) {
      n++;
      if (line.isBlank()) {
        continue;
      }
      try {
        s.line(line);
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("line " + n + " (" + line + "): " + e.getMessage(), e);
      }
    }
    s.checkHistograms();
    return s;
  }

  private void line(String line) {
    if (line.startsWith("# HELP ")) {
      return;
    }
    if (line.startsWith("# TYPE ")) {
      String[] parts = line.split(" ");
      if (parts.length != 4 || !TYPES.contains(parts[3])) {
        throw new IllegalArgumentException("a TYPE line names a family and one of " + TYPES);
      }
      if (types.put(parts[2], parts[3]) != null) {
        throw new IllegalArgumentException("a second TYPE for " + parts[2]);
      }
      return;
    }
    if (line.startsWith("#")) {
      return; // a comment
    }
    Matcher m = SAMPLE.matcher(line);
    if (!m.matches()) {
      throw new IllegalArgumentException("not a sample");
    }
    String name = m.group(1);
    if (family(name) == null) {
      throw new IllegalArgumentException("a sample before its family's TYPE");
    }
    Map<String, String> labels = new LinkedHashMap<>();
    if (m.group(3) != null && !m.group(3).isEmpty()) {
      Matcher l = LABEL.matcher(m.group(3));
      int at = 0;
      while (at < m.group(3).length()) {
        if (!l.find(at) || l.start() != at) {
          throw new IllegalArgumentException("bad labels");
        }
        labels.put(l.group(1), l.group(2).replace("\\\"", "\"").replace("\\n", "\n").replace("\\\\", "\\"));
        at = l.end();
      }
    }
    samples.add(new Sample(name, labels, Double.parseDouble(m.group(4).replace("+Inf", "Infinity")
        .replace("-Inf", "-Infinity"))));
  }

  /** The family a sample name belongs to: itself, or without a histogram's or counter's suffix. */
  private String family(String name) {
    if (types.containsKey(name)) {
      return name;
    }
    for (String suffix : List.of("_bucket", "_count", "_sum", "_total", "_created", "_max")) {
      if (name.endsWith(suffix) && types.containsKey(name.substring(0, name.length() - suffix.length()))) {
        return name.substring(0, name.length() - suffix.length());
      }
    }
    return null;
  }

  private void checkHistograms() {
    for (Map.Entry<String, String> t : types.entrySet()) {
      if (!t.getValue().equals("histogram")) {
        continue;
      }
      Map<Map<String, String>, List<Sample>> bySeries = new HashMap<>();
      for (Sample s : samples) {
        if (s.name().equals(t.getKey() + "_bucket")) {
          Map<String, String> series = new HashMap<>(s.labels());
          series.remove("le");
          bySeries.computeIfAbsent(series, k -> new ArrayList<>()).add(s);
        }
      }
      for (Map.Entry<Map<String, String>, List<Sample>> e : bySeries.entrySet()) {
        double last = 0;
        double lastLe = Double.NEGATIVE_INFINITY;
        for (Sample b : e.getValue()) {
          double le = Double.parseDouble(b.labels().get("le").replace("+Inf", "Infinity"));
          if (le <= lastLe || b.value() < last) {
            throw new IllegalArgumentException(t.getKey() + e.getKey() + ": buckets must rise");
          }
          last = b.value();
          lastLe = le;
        }
        double count = value(t.getKey() + "_count", e.getKey());
        if (lastLe != Double.POSITIVE_INFINITY || last != count) {
          throw new IllegalArgumentException(t.getKey() + e.getKey() + ": the +Inf bucket is the count");
        }
      }
    }
  }

  /** The type of family {@code name}, or null. */
  public String type(String family) {
    return types.get(family);
  }

  /** The value of the sample {@code name} whose labels include {@code labels}, summed over the matches; 0 if none. */
  public double value(String name, Map<String, String> labels) {
    double sum = 0;
    for (Sample s : samples) {
      if (s.name().equals(name) && s.labels().entrySet().containsAll(labels.entrySet())) {
        sum += s.value();
      }
    }
    return sum;
  }

  public double value(String name) {
    return value(name, Map.of());
  }

  /** Every family's name. */
  public Set<String> families() {
    return types.keySet();
  }

  public List<Sample> samples() {
    return samples;
  }
}
