package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.NodeProcess;
import dev.switchboard.testing.ProcessCluster;
import dev.switchboard.testing.ResumingPeer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A rolling restart, as {@code kubectl rollout restart} does it, under live rooms: three node
 * processes, each in turn stopped with SIGTERM (it drains: its clients get {@code reconnect} and
 * resume on the others), waited for until it exits, and started again. Numbered messages flow
 * all the while between every pair of peers; none may be lost, repeated or reordered, every one
 * is acknowledged once, and no peer sees another leave or join.
 */
class RollingRestartTest {

  static final int NODES = 3;
  static final int ROOMS = Integer.getInteger("roll.rooms", 20);
  static final int PEERS_PER_ROOM = 4;
  /** Each peer sends one message this often, to the others of its room in turn. */
  static final long SEND_EVERY_MS = 200;

  ProcessCluster cluster;
  final List<ResumingPeer> peers = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    cluster = new ProcessCluster("roll", NODES);
  }

  @AfterEach
  void stop() throws Exception {
    cluster.close();
  }

  private NodeProcess startNode(String id) throws Exception {
    return cluster.start(id, List.of("--limits-resume-window", "15s", "--node-drain-period", "3s",
        "--node-drain-timeout", "20s"));
  }

  @Test
  @DisplayName("3 nodes restarted one by one under 20 rooms of 4: no peer-left, nothing lost, repeated or reordered")
  void rollingRestart() throws Exception {
    for (int i = 0; i < NODES; i++) {
      cluster.nodes.add(startNode("roll" + i));
    }
    for (int r = 0; r < ROOMS; r++) {
      List<String> ids = new ArrayList<>();
      for (int j = 0; j < PEERS_PER_ROOM; j++) {
        ids.add("r" + r + "p" + j);
      }
      for (int j = 0; j < PEERS_PER_ROOM; j++) {
        String self = ids.get(j);
        ResumingPeer p = new ResumingPeer(cluster.vertx, cluster.client, cluster::ports, "room-" + r, self,
            ids.stream().filter(id -> !id.equals(self)).toList());
        p.start(cluster.nodes.get((r + j) % NODES).port());
        peers.add(p);
        Thread.sleep(10); // one after the other: each later one is in the earlier ones' welcome
      }
    }
    Thread.sleep(1000);
    peers.forEach(p -> p.startSending(SEND_EVERY_MS));
    Thread.sleep(2000);
    List<Long> drainMs = new ArrayList<>();
    for (int i = 0; i < NODES; i++) {
      NodeProcess old = cluster.nodes.get(i);
      drainMs.add(old.terminate(40_000));
      cluster.nodes.set(i, startNode("roll" + i + "b"));
      Thread.sleep(2000);
    }
    peers.forEach(ResumingPeer::stopSending);
    long deadline = System.currentTimeMillis() + 20_000;
    while (!allDelivered() && System.currentTimeMillis() < deadline) {
      Thread.sleep(100);
    }
    long messages = 0;
    int resumes = 0;
    int reconnects = 0;
    List<String> wrong = new ArrayList<>();
    for (ResumingPeer to : peers) {
      for (ResumingPeer from : peers) {
        if (from != to && from.peer().split("p")[0].equals(to.peer().split("p")[0])) {
          List<List<Long>> sentAndGot = to.sentAndGot(from);
          if (!sentAndGot.get(0).equals(sentAndGot.get(1))) {
            wrong.add(from.peer() + " to " + to.peer() + ": sent 1.." + sentAndGot.get(0).size() + ", got "
                + sentAndGot.get(1));
          }
          messages += sentAndGot.get(0).size();
        }
      }
      long[] acked = to.sentAndAcked();
      if (acked[0] != acked[1]) {
        wrong.add(to.peer() + " sent " + acked[0] + " messages, " + acked[1] + " acked");
      }
      resumes += to.resumesAndReconnects()[0];
      reconnects += to.resumesAndReconnects()[1];
    }
    List<String> anomalies = new ArrayList<>(peers.stream().flatMap(p -> p.anomalies.stream()).toList());
    peers.forEach(p -> {
      p.departures().forEach(left -> anomalies.add(p.peer() + " saw " + left));
      p.errors().forEach((id, code) -> anomalies.add(p.peer() + " got " + code + " for " + id));
    });
    assertEquals(List.of(), wrong, "every message once, in order, acked once; anomalies besides: " + anomalies);
    assertEquals(List.of(), anomalies, "no peer-left, no second join, no error, no second answer, no fresh welcome");
    assertTrue(resumes >= ROOMS * PEERS_PER_ROOM, "every peer resumed at least once: " + resumes);
    System.out.printf("rolling restart of %d nodes under %d rooms of %d: drains took %s ms; %d messages, none lost,"
        + " repeated or reordered, each acked once; %d resumes (%d after reconnect), no peer-left%n",
        NODES, ROOMS, PEERS_PER_ROOM, drainMs, messages, resumes, reconnects);
    peers.forEach(ResumingPeer::stop);
  }

  private boolean allDelivered() {
    for (ResumingPeer to : peers) {
      for (ResumingPeer from : peers) {
        if (from != to && from.peer().split("p")[0].equals(to.peer().split("p")[0]) && !to.hasAllFrom(from)) {
          return false;
        }
      }
    }
    return true;
  }
}
