package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
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
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** What docs/design.md's map promises of the code's shape: dependencies one way, small files. */
class LayoutTest {

  private static final Path MAIN = Path.of("src/main/java/dev/switchboard");
  /** An import of a type of dev.switchboard: group 1 is its package below it, null for the root. */
  private static final Pattern IMPORT = Pattern.compile(
      "^import (?:static )?dev\\.switchboard\\.(?:([a-z]+)\\.)?[A-Z]", Pattern.MULTILINE);
  /** The most lines a file of src/main may have: one past it is asking to be split. */
  private static final int MAX_LINES = 400;

  private static List<Path> sources() throws IOException {
    try (Stream<Path> files = Files.walk(MAIN)) {
      return files.filter(p -> p.toString().endsWith(".java")).sorted().toList();
    }
  }

  /** Package (the root is "") to the other packages of dev.switchboard it imports. */
  private static Map<String, Set<String>> imports() throws IOException {
    Map<String, Set<String>> graph = new TreeMap<>();
    for (Path file : sources()) {
      Path dir = MAIN.relativize(file).getParent();
      String pkg = dir == null ? "" : dir.toString();
      Set<String> uses = graph.computeIfAbsent(pkg, k -> new TreeSet<>());
      Matcher m = IMPORT.matcher(Files.readString(file));
      while (m.find()) {
        String used = m.group(1) == null ? "" : m.group(1);
        if (!used.equals(pkg)) {
          uses.add(used);
        }
      }
    }
    return graph;
  }

  @Test
  @DisplayName("no two packages depend on each other, directly or through others")
  void noPackageCycle() throws IOException {
    Map<String, Set<String>> graph = imports();
    List<String> cycles = new ArrayList<>();
    for (String start : graph.keySet()) {
      findCycle(graph, start, start, new ArrayList<>(List.of(start)), cycles);
    }
    assertEquals(List.of(), cycles, "package cycles; the imports are " + graph);
  }

  private static void findCycle(Map<String, Set<String>> graph, String start, String at, List<String> path,
                                List<String> cycles) {
    for (String next : graph.getOrDefault(at, Set.of())) {
      if (next.equals(start)) {
        cycles.add(String.join(" -> ", path) + " -> " + start);
      } else if (!path.contains(next) && next.compareTo(start) > 0) {
        path.add(next);
        findCycle(graph, start, next, path, cycles);
        path.remove(path.size() - 1);
      }
    }
  }

  @Test
  @DisplayName("no file of src/main is longer than 400 lines")
  void smallFiles() throws IOException {
    List<String> long_ = new ArrayList<>();
    for (Path file : sources()) {
      long lines = Files.readAllLines(file).size();
      if (lines > MAX_LINES) {
        long_.add(MAIN.relativize(file) + " (" + lines + ")");
      }
    }
    assertEquals(List.of(), long_);
  }
}
