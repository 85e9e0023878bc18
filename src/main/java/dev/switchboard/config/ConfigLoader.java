package dev.switchboard.config;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Loads a {@link Config}. Later sources override earlier ones:
 * <ol>
 *   <li>the defaults in {@link Settings};</li>
 *   <li>the configuration file: {@code --config FILE} or {@code SWITCHBOARD_CONFIG}, else
 *       {@code conf/switchboard.json} when it exists;</li>
 *   <li>environment variables {@code SWITCHBOARD_<NAME>};</li>
 *   <li>command-line flags {@code --<name> value} or {@code --<name>=value}.</li>
 * </ol>
 * Any invalid value, unknown key or unknown flag stops loading with a {@link ConfigException}
 * that names it.
 */
public final class ConfigLoader {

  public static final String DEFAULT_FILE = "conf/switchboard.json";

  private ConfigLoader() {
  }

  public static Config load(List<String> args, Map<String, String> env) {
    Map<String, String> flags = parseFlags(args);
    String file = flags.remove("config");
    if (file == null) {
      file = env.get("SWITCHBOARD_CONFIG");
    }
    Map<String, Object> values = new LinkedHashMap<>();
    for (Setting s : Settings.ALL) {
      values.put(s.name(), s.parse(s.defaultValue(), "default"));
    }
    Path path = Path.of(file == null ? DEFAULT_FILE : file);
    if (file != null || Files.exists(path)) {
      for (Map.Entry<String, String> e : readFile(path).entrySet()) {
        Setting s = Settings.byName(e.getKey());
        if (s == null) {
          throw new ConfigException("unknown setting " + e.getKey() + " in " + path);
        }
        values.put(s.name(), s.parse(e.getValue(), path.toString()));
      }
    }
    for (Setting s : Settings.ALL) {
      String raw = env.get(s.envName());
      if (raw != null) {
        values.put(s.name(), s.parse(raw, s.envName()));
      }
    }
    for (Map.Entry<String, String> e : flags.entrySet()) {
      Setting s = Settings.byName(e.getKey().replaceFirst("-", "."));
      if (s == null) {
        s = Settings.byName(e.getKey());
      }
      if (s == null) {
        throw new ConfigException("unknown flag --" + e.getKey());
      }
      values.put(s.name(), s.parse(e.getValue(), s.flag()));
    }
    return Config.from(values);
  }

  /** {@code --name value} and {@code --name=value}, keyed by name without the dashes. */
  static Map<String, String> parseFlags(List<String> args) {
    Map<String, String> out = new HashMap<>();
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (!a.startsWith("--") || a.length() == 2) {
        throw new ConfigException("unexpected argument '" + a + "' (flags look like --http-port 8080)");
      }
      String body = a.substring(2);
      int eq = body.indexOf('=');
      if (eq >= 0) {
        out.put(body.substring(0, eq), body.substring(eq + 1));
      } else if (i + 1 < args.size()) {
        out.put(body, args.get(++i));
      } else {
        throw new ConfigException("flag " + a + " needs a value");
      }
    }
    return out;
  }

  /** Reads a JSON file and flattens nested objects into dotted names; arrays stay values. */
  static Map<String, String> readFile(Path path) {
    JsonObject json;
    try {
      json = new JsonObject(Files.readString(path, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new ConfigException("cannot read configuration file " + path + ": " + e.getMessage());
    } catch (DecodeException e) {
      throw new ConfigException("configuration file " + path + " is not a JSON object: " + e.getMessage());
    }
    Map<String, String> out = new LinkedHashMap<>();
    flatten("", json, out);
    return out;
  }

  private static void flatten(String prefix, JsonObject json, Map<String, String> out) {
    for (String key : json.fieldNames()) {
      if (key.startsWith("_")) {
        continue; // "_comment" and friends
      }
      Object v = json.getValue(key);
      String name = prefix + key;
      if (v instanceof JsonObject o) {
        flatten(name + ".", o, out);
      } else if (v instanceof JsonArray a) {
        out.put(name, a.encode());
      } else {
        out.put(name, v == null ? "" : String.valueOf(v));
      }
    }
  }
}
