package dev.switchboard.cli;

import dev.switchboard.config.Setting;
import dev.switchboard.config.Settings;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The node's settings as command-line options, made from the one settings table
 * ({@link Settings#ALL}): each {@code --<name>} with its description, default and environment
 * variable in {@code --help}, plus {@code --config FILE}. Picocli only checks that a flag exists
 * and has a value; {@code ConfigLoader} parses the values, as it does for the file and the
 * environment, so a value means the same wherever it comes from.
 */
final class SettingOptions {

  static final String CONFIG = "--config";

  private SettingOptions() {
  }

  /** Adds every setting, and {@code --config}, to {@code spec}, in a help section of their own. */
  static void addTo(CommandSpec spec) {
    spec.addOption(OptionSpec.builder(CONFIG).paramLabel("FILE").type(String.class)
        .description("configuration file (JSON); default conf/switchboard.json when it exists,"
            + " or SWITCHBOARD_CONFIG")
        .build());
    for (Setting s : Settings.ALL) {
      spec.addOption(OptionSpec.builder(s.flag()).paramLabel(label(s)).type(String.class)
          .description(s.doc(), "default: " + (s.defaultValue().isEmpty() ? "(empty)" : s.defaultValue())
              + "; environment: " + s.envName())
          .build());
    }
  }

  /** The settings given on the command line of {@code spec}, as {@code ConfigLoader} reads flags. */
  static List<String> given(CommandSpec spec) {
    List<String> flags = new ArrayList<>();
    for (OptionSpec o : spec.options()) {
      String name = o.longestName();
      if ((name.equals(CONFIG) || isSetting(name)) && o.getValue() != null) {
        flags.add(name);
        flags.add(o.getValue());
      }
    }
    return flags;
  }

  private static boolean isSetting(String flag) {
    return Settings.ALL.stream().anyMatch(s -> s.flag().equals(flag));
  }

  private static String label(Setting s) {
    return s.name().contains("url") ? "URL" : s.name().endsWith("secret") || s.name().endsWith("key") ? "SECRET"
        : "VALUE";
  }
}
