package dev.switchboard.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@code bench suite --profile smoke}: the whole standard suite in miniature, as the README runs
 * it: its own Redis and two node processes, every scenario, the baseline, the JSON and the
 * verdicts. Whether a target is met is not asserted: that depends on the machine.
 */
class BenchSuiteSmokeTest {

  @Test
  @DisplayName("the suite starts a cluster of its own, runs every scenario, writes the JSON and judges each target")
  void suite() throws Exception {
    Path json = Files.createTempFile("bench-suite", ".json");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code = BenchCommand.run(List.of("bench", "suite", "--profile", "smoke", "--out", json.toString()),
        new PrintStream(out, true, StandardCharsets.UTF_8), System.err);
    String printed = out.toString(StandardCharsets.UTF_8);
    assertEquals(0, code, printed);
    JsonArray results = new JsonObject(Files.readString(json)).getJsonArray("results");
    Set<String> labels = results.stream().map(r -> ((JsonObject) r).getString("label", ((JsonObject) r).getString("scenario")))
        .collect(Collectors.toSet());
    assertEquals(Set.of("baseline relay max", "relay cross-node max", "relay same-node max", "relay same-node half",
        "relay cross-node half", "relay same-node low", "relay cross-node low", "fanout cross-node 4/room",
        "join-storm", "idle"), labels, printed);
    for (Object o : results) {
      JsonObject figures = ((JsonObject) o).getJsonObject("figures");
      if (figures.containsKey("lost")) {
        assertEquals(0L, figures.getLong("lost"), ((JsonObject) o).encodePrettily());
      }
    }
    assertTrue(printed.contains("joins/s  join p50"), "the join storm has a line of its own:\n" + printed);
    assertTrue(printed.contains("peers joined  heap"), "so has the idle run:\n" + printed);
    for (Object o : results) {
      JsonObject r = (JsonObject) o;
      if (r.getString("scenario").equals("relay")) {
        // In a one-second smoke run the nodes may use less CPU than one 10 ms tick: present, not positive.
        assertTrue(r.getJsonObject("figures").getDouble("nodeCpuMicrosPerMessage") >= 0,
            "the nodes' CPU per message is measured: " + r.encodePrettily());
      }
    }
    for (String figure : List.of("cross-node relay ÷ baseline", "same-node relay ÷ baseline",
        "node CPU per message, cross-node, at 200/s", "cross-node CPU per message, low rate ÷ max",
        "joins/s (join-storm)", "heap per idle peer", "Redis commands per relayed message")) {
      assertTrue(printed.contains(figure), "the verdict table names " + figure + ":\n" + printed);
    }
    JsonObject idle = results.stream().map(JsonObject.class::cast).filter(r -> r.getString("scenario").equals("idle"))
        .findFirst().orElseThrow();
    assertEquals(50L, idle.getJsonObject("figures").getLong("joined"));
    assertTrue(idle.getJsonObject("figures").getLong("rssBytesAfter") > 0);
  }
}
