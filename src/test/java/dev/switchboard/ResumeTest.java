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
    cluster = TestCluster.start(2, Map.of("limits-rate", "100000", "limits-rate-burst", "100000",
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
      TestPeer back = bob.socket.resumeOn(cluster.client(), bobPort);
      JsonObject welcome = back.expect("welcome");
      assertEquals(true, welcome.getBoolean("resumed"), welcome.encode());
      int serverGot = welcome.getInteger("received");
      assertTrue(serverGot <= bob.sentSinceWelcome.size(), welcome.encode());
      List<JsonObject> again = new ArrayList<>(bob.sentSinceWelcome.subList(serverGot, bob.sentSinceWelcome.size()));
      bob.sentSinceWelcome.clear();
      bob.socket = back;
      again.forEach(bob::send);
    }
    List<Long> aliceGot = new ArrayList<>();
    List<String> aliceAcks = new ArrayList<>();
    long deadline = System.currentTimeMillis() + 15_000;
    while ((aliceGot.size() < toAlice || messages(bob.got) < toBob) && System.currentTimeMillis() < deadline) {
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
