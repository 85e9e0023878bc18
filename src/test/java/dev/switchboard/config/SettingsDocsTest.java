package dev.switchboard.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * docs/configuration.md's table of settings is the settings table ({@link Settings#ALL}) written
 * out: the same settings, in the same order, with the same environment names, flags, defaults and
 * meanings. The command line's help is made from the same table at run time (CliTest).
 */
class SettingsDocsTest {

  @Test
  @DisplayName("docs/configuration.md lists exactly Settings.ALL, row for row")
  void docsTableIsTheSettingsTable() throws IOException {
    List<String> documented = Files.readAllLines(Path.of("docs/configuration.md")).stream()
        .filter(line -> line.startsWith("| `") && line.split("\\|", -1).length == 7).toList();
    List<String> expected = Settings.ALL.stream().map(s -> "| `" + s.name() + "` | `" + s.envName() + "` | `"
        + s.flag() + "` | `" + (s.defaultValue().isEmpty() ? "(empty)" : s.defaultValue()) + "` | " + s.doc() + " |")
        .toList();
    assertEquals(String.join("\n", expected), String.join("\n", documented),
        "regenerate the table in docs/configuration.md from Settings.ALL");
  }
}
