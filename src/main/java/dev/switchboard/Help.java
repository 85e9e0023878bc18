package dev.switchboard;

import dev.switchboard.bench.BenchCommand;
import dev.switchboard.config.Setting;
import dev.switchboard.config.Settings;
import java.util.List;

/**
 * What {@code --help} (or {@code -h}), anywhere on the command line, prints: the usage of the
 * command it follows, or of the node with every setting when it follows none.
 */
final class Help {

  private Help() {
  }

  /** True when {@code args} ask for help. */
  static boolean asked(List<String> args) {
    return args.contains("--help") || args.contains("-h");
  }

  /** The usage of the command {@code args} name (the node when none). */
  static String text(List<String> args) {
    String command = args.isEmpty() ? "" : args.get(0);
    return switch (command) {
      case "bench" -> BenchCommand.USAGE;
      case "token" -> """
          usage: switchboard token --room ROOM|* [--peer PEER] [--role peer|presenter|viewer] [--ttl 1h] [settings]
            prints a room token signed with auth.secret (read like the node reads it), for development
          """;
      case "nodes", "rooms" -> """
          usage: switchboard nodes [settings]        the live nodes and their load, read from Redis
                 switchboard rooms [ROOM] [settings] the busiest rooms, or one room's members
            Redis comes from --redis-url or SWITCHBOARD_REDIS_URL, like the node's
          """;
      default -> node();
    };
  }

  private static String node() {
    StringBuilder b = new StringBuilder("""
        usage: switchboard [settings]        runs a node (no redis.url: it starts a local Redis itself)
               switchboard nodes | rooms [ROOM] | token --room ROOM | bench SCENARIO   (each takes --help)

        Settings come from conf/switchboard.json (or --config FILE), then SWITCHBOARD_* environment
        variables, then flags; later ones win. docs/configuration.md says more.

        """);
    for (Setting s : Settings.ALL) {
      b.append(String.format("  %-32s %s%n      default %s; environment %s%n", s.flag(), s.doc(),
          s.defaultValue().isEmpty() ? "(empty)" : s.defaultValue(), s.envName()));
    }
    return b.toString();
  }
}
