package dev.switchboard.bench;

import dev.switchboard.config.Setting;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The bench command line after the scenario name: {@code --name value} pairs and bare
 * {@code --flag}s. Every option read is remembered, so a misspelt option is an error rather than
 * a silently ignored default.
 */
final class BenchArgs {

  private final Map<String, String> values = new LinkedHashMap<>();
  private final Set<String> read = new HashSet<>();

  /** Parses {@code args}; names listed in {@code flags} take no value. */
  static BenchArgs parse(List<String> args, Set<String> flags) {
    BenchArgs parsed = new BenchArgs();
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (!a.startsWith("--") || a.length() < 3) {
        throw new IllegalArgumentException("expected an option (--name), got '" + a + "'");
      }
      String name = a.substring(2);
      if (flags.contains(name)) {
        parsed.values.put(name, "true");
      } else if (i + 1 < args.size()) {
        parsed.values.put(name, args.get(++i));
      } else {
        throw new IllegalArgumentException("--" + name + " needs a value");
      }
    }
    return parsed;
  }

  String string(String name, String fallback) {
    read.add(name);
    return values.getOrDefault(name, fallback);
  }

  boolean flag(String name) {
    read.add(name);
    return values.containsKey(name);
  }

  int integer(String name, int fallback, int min) {
    String v = string(name, null);
    if (v == null) {
      return fallback;
    }
    try {
      int n = Integer.parseInt(v.replace("_", ""));
      if (n < min) {
        throw new IllegalArgumentException("--" + name + " must be at least " + min + ", got " + n);
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + " must be a whole number, got '" + v + "'");
    }
  }

  Duration duration(String name, String fallback) {
    String v = string(name, fallback);
    try {
      Duration d = Setting.parseDuration(v);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException("--" + name + " must be positive");
      }
      return d;
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("--" + name + " must be a duration like 10s or 500ms, got '" + v + "'");
    }
  }

  List<String> list(String name, String fallback) {
    String v = string(name, fallback);
    return v == null || v.isBlank() ? List.of() : Arrays.stream(v.split(",")).map(String::trim)
        .filter(s -> !s.isEmpty()).toList();
  }

  /** Fails on any option given but never read: a typo must not run a different benchmark. */
  void rejectUnknown() {
    for (String name : values.keySet()) {
      if (!read.contains(name)) {
        throw new IllegalArgumentException("unknown option --" + name);
      }
    }
  }
}
