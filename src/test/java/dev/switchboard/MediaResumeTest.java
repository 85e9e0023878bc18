package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.switchboard.testing.JanusProcess;
import dev.switchboard.testing.TestCluster;
import dev.switchboard.testing.TestPeer;
import dev.switchboard.testing.Waits;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A member of an sfu room keeps its place in the media room across a dropped socket: resumed on
 * the node that held it, the same Janus handle stands ({@code welcome.mediaResumed}); resumed
 * through the other node, the old node gives its handle up and the new one joins the member to
 * the media room again before the welcome ({@code mediaResumed: false}: the client publishes and
 * subscribes again). The others see no one leave either way. Real Janus, real Redis, two nodes
 * with resume on.
 */
class MediaResumeTest {

  static final String SECRET = "janus-api-secret-for-tests";
  static final String ADMIN_KEY = "videoroom-admin-key-for-tests";
  static final String KEY = "media-resume-admin-key";

  static JanusProcess janus;
  static TestCluster cluster;

  @BeforeAll
  static void start() throws Exception {
    janus = JanusProcess.start(SECRET, ADMIN_KEY, 30);
    cluster = TestCluster.start(2, janus.nodeSettings(Map.of("admin-key", KEY, "limits-resume-window", "15s")));
  }

  @AfterAll
  static void stop() throws Exception {
    cluster.close();
    janus.close();
  }

  /** The opaque ids of the handles Janus holds for {@code room}'s members (not their subscriptions), sorted. */
  private static List<String> handles(String room) {
    return janus.opaqueIds(cluster.clientVertx()).stream()
        .filter(id -> id.contains("/" + room + "/") && !id.endsWith("/in")).sorted().toList();
  }

  private static List<String> expected(String room, String... nodeAndPeer) {
    java.util.ArrayList<String> out = new java.util.ArrayList<>();
    for (int i = 0; i < nodeAndPeer.length; i += 2) {
      out.add(nodeAndPeer[i] + "/" + room + "/" + nodeAndPeer[i + 1]);
    }
    return out.stream().sorted().toList();
  }

  @Test
  @DisplayName("resumed on its node, a member keeps its Janus handle; resumed through the other node, it gets one there and the old one goes")
  void mediaFollowsTheSession() {
    String room = "sfu-" + UUID.randomUUID().toString().substring(0, 8);
    HttpResponse<String> created = cluster.http(0, "POST", "/v1/rooms", KEY,
        "{\"room\":\"" + room + "\",\"mode\":\"mesh\",\"media\":\"sfu\"}");
    assertEquals(201, created.statusCode(), created.body());
    TestPeer alice = cluster.join(0, room, "alice", null);
    TestPeer bob = cluster.join(1, room, "bob", null);
    String n0 = alice.welcome.getString("node");
    String n1 = bob.welcome.getString("node");
    assertNotEquals(n0, n1);
    assertEquals(List.of("mesh", "sfu", List.of()), List.of(alice.welcome.getString("mode"),
        alice.welcome.getString("media"), alice.welcome.getJsonArray("publishers").getList()));
    assertEquals(expected(room, n0, "alice", n1, "bob"), Waits.until(3000, () -> handles(room),
        expected(room, n0, "alice", n1, "bob")));

    alice.drop();
    TestPeer back = alice.resumeOn(cluster.client(), cluster.port(0));
    JsonObject same = back.expect("welcome");
    assertEquals(List.of(true, true), List.of(same.getBoolean("resumed"), same.getBoolean("mediaResumed")),
        "resumed where it was: its media connections stand: " + same.encode());
    assertEquals(expected(room, n0, "alice", n1, "bob"), handles(room), "the same handles");

    back.drop();
    TestPeer moved = back.resumeOn(cluster.client(), cluster.port(1));
    JsonObject there = moved.expect("welcome");
    assertEquals(List.of(true, false, n1), List.of(there.getBoolean("resumed"), there.getBoolean("mediaResumed"),
        there.getString("node")), "resumed through the other node: new media connections: " + there.encode());
    assertEquals(expected(room, n1, "alice", n1, "bob"), Waits.until(3000, () -> handles(room),
        expected(room, n1, "alice", n1, "bob")), "alice's handle is node 1's now, and node 0's is gone");
    bob.expectNothing(300); // no peer-left, no peer-joined: nobody saw alice go

    // And the place is a real one: publishing through it works.
    moved.send(new JsonObject().put("type", "unpublish").put("id", "u"));
    assertEquals("bad-request", moved.expectPast("error").getString("code"),
        "a participant that publishes nothing yet: Janus says so, so the handle is joined to the room");
    moved.send(new JsonObject().put("type", "leave"));
    assertEquals(expected(room, n1, "bob"), Waits.until(3000, () -> handles(room), expected(room, n1, "bob")));
    bob.send(new JsonObject().put("type", "leave"));
    assertEquals(List.of(), Waits.until(3000, () -> handles(room), List.of()));
  }
}
