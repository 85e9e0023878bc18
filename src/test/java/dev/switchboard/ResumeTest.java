package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.TestCluster;
import dev.switchboard.testing.TestPeer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Resume with real sockets on a real two-node cluster: a peer whose TCP connection is cut at
 * random moments of a stream of numbered messages in both directions comes back with its
 * token, and nothing is lost, repeated or reordered either way, while the other peer sees no
 * churn.
 */
class ResumeTest {

  static final int DROPS = 20;

  TestCluster cluster;

  @BeforeEach
  void start() {
    cluster = TestCluster.start(3, Map.of("limits-rate", "100000", "limits-rate-burst", "100000",
        "limits-resume-window", "15s"));
  }

  @AfterEach
  void stop() {
    cluster.close();
  }

  private static JsonObject numbered(String to, long n) {
    return new JsonObject().put("type", "message").put("to", to).put("data", n).put("id", to + "-" + n);
  }

  /** Bob's side: the messages he sent since his last welcome, to send again what the server did not get. */
  private static final class Bob {
    TestPeer socket;
    final List<JsonObject> sentSinceWelcome = new ArrayList<>();
    final List<JsonObject> got = new ArrayList<>();

    void send(JsonObject m) {
      sentSinceWelcome.add(m);
      socket.send(m);
    }

    /**
     * Resumes on node {@code port} and sends again what the node says it did not get; returns the
     * resumed welcome.
     */
    JsonObject resumeOn(TestCluster cluster, int port) {
      TestPeer back = socket.resumeOn(cluster.client(), port);
      JsonObject welcome = back.expect("welcome");
      assertEquals(true, welcome.getBoolean("resumed"), welcome.encode());
      int serverGot = welcome.getInteger("received");
      assertTrue(serverGot <= sentSinceWelcome.size(), welcome.encode());
      List<JsonObject> again = new ArrayList<>(sentSinceWelcome.subList(serverGot, sentSinceWelcome.size()));
      sentSinceWelcome.clear();
      socket = back;
      again.forEach(this::send);
      return welcome;
    }
  }

  @Test
  @DisplayName("20 drops at random moments of a two-way stream: each message arrives once, in order; no peer-left")
  void randomDropsDuringAStream() {
    Random random = new Random(42);
    int bobPort = cluster.port(1);
    TestPeer alice = cluster.join(0, "r", "alice");
    Bob bob = new Bob();
    bob.socket = cluster.join(1, "r", "bob");
    assertEquals("bob", alice.expect("peer-joined").getString("peer"));
    long toBob = 0;
    long toAlice = 0;
    for (int drop = 0; drop < DROPS; drop++) {
      int burst = 5 + random.nextInt(40);
      for (int k = 0; k < burst; k++) {
        alice.send(numbered("bob", ++toBob));
        bob.send(numbered("alice", ++toAlice));
      }
      bob.socket.drop(); // while some of the burst is still in flight, either way
      bob.got.addAll(bob.socket.drain());
      int whileAway = random.nextInt(10);
      for (int k = 0; k < whileAway; k++) {
        alice.send(numbered("bob", ++toBob));
      }
      bob.resumeOn(cluster, bobPort);
    }
    List<Long> aliceGot = new ArrayList<>();
    List<String> aliceAcks = new ArrayList<>();
    long deadline = System.currentTimeMillis() + 15_000;
    // Acks travel back across nodes after the target's socket was written: the last ones may
    // still be on their way when bob has every message, so the wait is for both.
    while ((aliceGot.size() < toAlice || messages(bob.got) < toBob || aliceAcks.size() < toBob)
        && System.currentTimeMillis() < deadline) {
      for (JsonObject m : alice.drain()) {
        switch (m.getString("type")) {
          case "message" -> aliceGot.add(m.getLong("data"));
          case "ack" -> aliceAcks.add(m.getString("id"));
          default -> throw new AssertionError("alice saw " + m.encode());
        }
      }
      bob.got.addAll(bob.socket.drain());
      sleep(20);
    }
    List<Long> bobGot = bob.got.stream().filter(m -> "message".equals(m.getString("type")))
        .map(m -> m.getLong("data")).toList();
    assertEquals(LongStream.rangeClosed(1, toAlice).boxed().toList(), aliceGot, "bob to alice: once each, in order");
    assertEquals(LongStream.rangeClosed(1, toBob).boxed().toList(), bobGot, "alice to bob: once each, in order");
    for (JsonObject m : bob.got) {
      assertTrue(List.of("message", "ack").contains(m.getString("type")), "bob saw " + m.encode());
    }
    assertEquals(toBob, aliceAcks.stream().distinct().count(), "one answer per id, every one an ack");
    assertEquals(toBob, aliceAcks.size());
    System.out.printf("resume: %d drops, %d messages to the dropped peer, %d from it, none lost, repeated or reordered%n",
        DROPS, toBob, toAlice);
  }

  @Test
  @DisplayName("20 drops, each resumed through another node, under streams from two nodes: once each, in order")
  void resumeThroughAnotherNodeEachTime() {
    Random random = new Random(7);
    TestPeer alice = cluster.join(0, "r", "alice");
    TestPeer carol = cluster.join(2, "r", "carol");
    Bob bob = new Bob();
    int bobNode = 1;
    bob.socket = cluster.join(bobNode, "r", "bob");
    alice.expect("peer-joined");
    alice.expect("peer-joined");
    carol.expect("peer-joined");
    long toBobFromAlice = 0;
    long toBobFromCarol = 0;
    long toAlice = 0;
    for (int drop = 0; drop < DROPS; drop++) {
      int burst = 5 + random.nextInt(40);
      for (int k = 0; k < burst; k++) {
        alice.send(numbered("bob", ++toBobFromAlice));
        carol.send(numbered("bob", 100_000 + ++toBobFromCarol));
        bob.send(numbered("alice", ++toAlice));
      }
      bob.socket.drop();
      bob.got.addAll(bob.socket.drain());
      int whileAway = random.nextInt(10);
      for (int k = 0; k < whileAway; k++) {
        alice.send(numbered("bob", ++toBobFromAlice));
        carol.send(numbered("bob", 100_000 + ++toBobFromCarol));
      }
      bobNode = (bobNode + 1 + random.nextInt(2)) % 3; // another node each time
      JsonObject welcome = bob.resumeOn(cluster, cluster.port(bobNode));
      assertEquals(cluster.node(bobNode).nodeId(), welcome.getString("node"), "resumed on the node it came back to");
    }
    List<Long> aliceGot = new ArrayList<>();
    List<String> acks = new ArrayList<>();
    long deadline = System.currentTimeMillis() + 20_000;
    while ((aliceGot.size() < toAlice || messages(bob.got) < toBobFromAlice + toBobFromCarol
        || acks.size() < toBobFromAlice + toBobFromCarol) && System.currentTimeMillis() < deadline) {
      for (TestPeer sender : List.of(alice, carol)) {
        for (JsonObject m : sender.drain()) {
          switch (m.getString("type")) {
            case "message" -> aliceGot.add(m.getLong("data"));
            case "ack" -> acks.add(m.getString("id"));
            default -> throw new AssertionError((sender == alice ? "alice" : "carol") + " saw " + m.encode());
          }
        }
      }
      bob.got.addAll(bob.socket.drain());
      sleep(20);
    }
    List<Long> bobGot = bob.got.stream().filter(m -> "message".equals(m.getString("type")))
        .map(m -> m.getLong("data")).toList();
    assertEquals(LongStream.rangeClosed(1, toAlice).boxed().toList(), aliceGot, "bob to alice: once each, in order");
    assertEquals(LongStream.rangeClosed(1, toBobFromAlice).boxed().toList(),
        bobGot.stream().filter(n -> n < 100_000).toList(), "alice to bob: once each, in order");
    assertEquals(LongStream.rangeClosed(100_001, 100_000 + toBobFromCarol).boxed().toList(),
        bobGot.stream().filter(n -> n > 100_000).toList(), "carol to bob: once each, in order");
    assertEquals(toBobFromAlice + toBobFromCarol, acks.stream().distinct().count(),
        "one answer per id, every one an ack");
    assertEquals(toBobFromAlice + toBobFromCarol, acks.size());
    System.out.printf("resume through another node: %d drops over 3 nodes, %d messages to the dropped peer from"
        + " two nodes, %d from it, none lost, repeated or reordered%n", DROPS, toBobFromAlice + toBobFromCarol, toAlice);
  }

  private static long messages(List<JsonObject> got) {
    return got.stream().filter(m -> "message".equals(m.getString("type"))).count();
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
