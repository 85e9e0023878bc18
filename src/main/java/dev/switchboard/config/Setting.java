package dev.switchboard.config;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * One configuration setting: its name, default, documentation and parser. The environment
 * variable and command-line flag are derived from the name, so they cannot disagree:
 * {@code limits.join-timeout} is {@code SWITCHBOARD_LIMITS_JOIN_TIMEOUT} and
 * {@code --limits-join-timeout}.
 */
public record Setting(String name, String defaultValue, String doc, Function<String, Object> parser) {

  public String envName() {
    return "SWITCHBOARD_" + name.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
  }

  public String flag() {
    return "--" + name.replace('.', '-');
  }

  /** Parses {@code raw}, or throws a {@link ConfigException} that names this setting. */
  Object parse(String raw, String source) {
    try {
      return parser.apply(raw.trim());
    } catch (IllegalArgumentException e) {
      throw new ConfigException("invalid " + name + " (" + source + "): " + e.getMessage()
          + "; got '" + redacted(raw) + "'");
    }
  }

  /** Settings whose values are credentials: never echoed, never logged. */
  private static final Set<String> SECRETS = Set.of("admin.key", "auth.secret", "ice.turn-secret", "redis.url",
      "webhooks.secret");

  /** True for settings whose values may carry credentials: never echoed, never logged. */
  public boolean isSecret() {
    return SECRETS.contains(name);
  }

  /** The value as it may be shown: secrets hidden, a URL's password replaced by ***. */
  String redacted(String raw) {
    if (isSecret() && !name.equals("redis.url")) {
      return "***";
    }
    if (name.equals("redis.url")) {
      // Whatever stands before the host may be a password, however mistyped the URL is.
      int at = raw.lastIndexOf('@');
      return at < 0 ? raw : "***" + raw.substring(at);
    }
    return raw;
  }

  // --- parsers ---

  static Function<String, Object> string() {
    return s -> s;
  }

  /** Empty, or a directory holding the client's {@code demo/} and {@code src/} (a checkout's client/). */
  static Function<String, Object> clientDir() {
    return s -> {
      if (!s.isEmpty() && !(java.nio.file.Files.isDirectory(java.nio.file.Path.of(s, "demo"))
          && java.nio.file.Files.isDirectory(java.nio.file.Path.of(s, "src")))) {
        throw new IllegalArgumentException("must be empty or a directory with demo/ and src/ in it");
      }
      return s;
    };
  }

  static Function<String, Object> idString(String pattern) {
    return s -> {
      if (!s.matches(pattern)) {
        throw new IllegalArgumentException("must match " + pattern);
      }
      return s;
    };
  }

  static Function<String, Object> integer(long min, long max) {
    return s -> {
      long v;
      try {
        v = Long.parseLong(s);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("must be a whole number");
      }
      if (v < min || v > max) {
        throw new IllegalArgumentException("must be between " + min + " and " + max);
      }
      return (int) v;
    };
  }

  /** A duration: {@code 250ms}, {@code 10s}, {@code 2m}, or a plain number of milliseconds. */
  static Function<String, Object> duration(Duration min, Duration max) {
    return s -> {
      Duration d = parseDuration(s);
      if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
        throw new IllegalArgumentException("must be between " + min.toMillis() + "ms and "
            + max.toMillis() + "ms");
      }
      return d;
    };
  }

  /** Parses {@code 250ms}, {@code 10s}, {@code 2m}, {@code 1h} or plain milliseconds. */
  public static Duration parseDuration(String s) {
    try {
      if (s.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)));
      } else if (s.endsWith("s")) {
        return Duration.ofMillis(Math.round(Double.parseDouble(s.substring(0, s.length() - 1)) * 1000));
      } else if (s.endsWith("m")) {
        return Duration.ofMinutes(Long.parseLong(s.substring(0, s.length() - 1)));
      } else if (s.endsWith("h")) {
        return Duration.ofHours(Long.parseLong(s.substring(0, s.length() - 1)));
      }
      return Duration.ofMillis(Long.parseLong(s));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("must be a duration such as 500ms, 10s or 2m");
    }
  }

  /** The trimmed, non-empty entries of a comma-separated list, each passed through {@code parse}. */
  private static <T> List<T> commaList(String s, Function<String, T> parse) {
    List<T> out = new ArrayList<>();
    for (String part : s.split(",")) {
      if (!part.isBlank()) {
        out.add(parse.apply(part.trim()));
      }
    }
    return List.copyOf(out);
  }

  /** An entry of a list that must match {@code pattern}, or the error {@code rule}. */
  private static Function<String, String> matching(String pattern, String rule) {
    return entry -> {
      if (!entry.matches(pattern)) {
        throw new IllegalArgumentException(rule);
      }
      return entry;
    };
  }

  /** A comma-separated list of {@code host} or {@code host:port} entries. */
  static Function<String, Object> memberList() {
    return s -> {
      List<String> out = commaList(s, matching("[A-Za-z0-9.\\-\\[\\]:]+(:\\d{1,5}(-\\d{1,5})?)?",
          "each member must be host or host:port"));
      if (out.isEmpty()) {
        throw new IllegalArgumentException("must name at least one member");
      }
      return out;
    };
  }

  /** A JSON array of RTCIceServer objects, each with {@code urls}. */
  static Function<String, Object> iceServers() {
    return s -> {
      JsonArray a;
      try {
        a = new JsonArray(s);
      } catch (DecodeException | ClassCastException e) {
        throw new IllegalArgumentException("must be a JSON array of RTCIceServer objects");
      }
      for (Object o : a) {
        if (!(o instanceof io.vertx.core.json.JsonObject entry) || entry.getValue("urls") == null) {
          throw new IllegalArgumentException("every entry needs urls");
        }
      }
      return a;
    };
  }

  /**
   * Comma-separated WebSocket origins: {@code *} (any), or {@code scheme://host[:port]} where
   * the host may start with {@code *.} for any subdomain. Stored lower-case, without a trailing slash.
   */
  static Function<String, Object> originList() {
    Function<String, String> origin = matching("\\*|https?://(\\*\\.)?[a-z0-9.\\-\\[\\]:]+",
        "each origin must be * or scheme://host[:port], the host optionally starting with *.");
    return s -> commaList(s, o -> {
      String lower = o.toLowerCase(Locale.ROOT);
      return origin.apply(lower.endsWith("/") ? lower.substring(0, lower.length() - 1) : lower);
    });
  }

  /** Comma-separated IP addresses or CIDR blocks ({@code 10.0.0.0/8}, {@code fd00::/8}). */
  static Function<String, Object> cidrList() {
    return s -> commaList(s, Cidr::parse);
  }

  /** Comma-separated TURN URIs ({@code turn:host:3478?transport=udp}, {@code turns:host:5349}). */
  static Function<String, Object> turnUrls() {
    return s -> commaList(s, matching("turns?:[A-Za-z0-9.\\-\\[\\]:]+(\\?transport=(udp|tcp))?",
        "each entry must be turn:host[:port] or turns:host[:port], optionally with ?transport=udp|tcp"));
  }

  /** A PEM public key, inline or as the path of a PEM file; empty for none. */
  static Function<String, Object> publicKey() {
    return s -> s.isEmpty() ? PublicKeyPem.NONE : PublicKeyPem.load(s);
  }

  /** A URL such as {@code redis://host:6379/0}; empty means "start a local Redis". */
  static Function<String, Object> redisUrl() {
    return s -> {
      if (!s.isEmpty() && !s.matches("rediss?://.+")) {
        throw new IllegalArgumentException("must be empty or a redis:// or rediss:// URL");
      }
      return s;
    };
  }

  static Function<String, Object> httpUrl() {
    return s -> {
      if (!s.isEmpty() && !s.matches("https?://[^\\s]+")) {
        throw new IllegalArgumentException("must be empty or an http:// or https:// URL");
      }
      return s;
    };
  }

  /** {@code true} or {@code false}. */
  static Function<String, Object> bool() {
    return s -> switch (s) {
      case "true" -> Boolean.TRUE;
      case "false" -> Boolean.FALSE;
      default -> throw new IllegalArgumentException("must be true or false");
    };
  }

  /** Comma-separated http(s) URLs. */
  static Function<String, Object> httpUrlList() {
    return s -> commaList(s, matching("https?://[^\\s,]+", "each entry must be an http:// or https:// URL"));
  }

  /** The webhook events to send, comma-separated, each one of {@code Config.Webhooks.EVENTS}. */
  static Function<String, Object> webhookEvents() {
    return s -> commaList(s, matching(String.join("|", Config.Webhooks.EVENTS),
        "each entry must be one of " + String.join(", ", Config.Webhooks.EVENTS)));
  }

  /** Empty, or a WebSocket URL ({@code ws://} or {@code wss://}). */
  static Function<String, Object> webSocketUrl() {
    return s -> {
      if (!s.isEmpty() && !s.matches("wss?://[^\\s]+")) {
        throw new IllegalArgumentException("must be empty or a ws:// or wss:// URL");
      }
      return s;
    };
  }
}
