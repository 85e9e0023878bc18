package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.switchboard.testing.TestCluster;
import dev.switchboard.testing.TestPeer;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * An operator removes one peer ({@code DELETE /v1/rooms/R/peers/P}) through any node: the peer's
 * client gets {@code error} {@code kicked} and close 4406, the others {@code peer-left}
 * {@code kicked}, and the store no longer lists it by the time the API answers. A peer that is
 * away (held for its resume) goes the same way. Two nodes, resume on.
 */
class KickTest {

  static final String KEY = "kick-admin-key";

  static TestCluster cluster;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(2, Map.of("admin-key", KEY, "limits-resume-window", "15s"));
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  private static HttpResponse<String> kick(int node, String room, String peer) {
    return cluster.http(node, "DELETE", "/v1/rooms/" + room + "/peers/" + peer, KEY, null);
  }

  private static List<String> members(String room) {
    HttpResponse<String> r = cluster.http(0, "GET", "/v1/rooms/" + room, KEY, null);
    if (r.statusCode() == 404) {
      return List.of();
    }
    return new JsonObject(r.body()).getJsonArray("peers").stream()
        .map(p -> ((JsonObject) p).getString("peer")).sorted().toList();
  }

  @Test
  @DisplayName("a peer on the other node is kicked: error kicked and close 4406 for it, peer-left kicked for the others, gone from the store")
  void kickAcrossNodes() {
    TestPeer alice = cluster.join(0, "k1", "alice");
    TestPeer bob = cluster.join(1, "k1", "bob");
    TestPeer carol = cluster.join(1, "k1", "carol");
    alice.expectPast("peer-joined"); // bob's and carol's joins, before the kick's peer-left
    alice.expectPast("peer-joined");
    bob.expectPast("peer-joined");

    HttpResponse<String> r = kick(0, "k1", "bob");
    assertEquals(200, r.statusCode(), r.body());
    assertEquals(new JsonObject().put("room", "k1").put("peer", "bob").put("node", bob.welcome.getString("node"))
        .put("kicked", true), new JsonObject(r.body()));
    JsonObject told = bob.expectPast("error");
    assertEquals("kicked", told.getString("code"), told.encode());
    assertEquals(4406, bob.awaitClose());
    for (TestPeer other : List.of(alice, carol)) {
      JsonObject left = other.expectPast("peer-left");
      assertEquals(List.of("bob", "kicked"), List.of(left.getString("peer"), left.getString("reason")));
    }
    assertEquals(List.of("alice", "carol"), members("k1"), "the API answered once the store no longer lists bob");
  }

  @Test
  @DisplayName("an away peer (held for its resume) is kicked at once: the others see peer-left kicked without waiting for the window")
  void kickAnAwayPeer() {
    TestPeer alice = cluster.join(0, "k2", "alice");
    TestPeer dan = cluster.join(1, "k2", "dan");
    alice.expectPast("peer-joined");
    dan.drop(); // away: held for 15 s
    alice.expectNothing(300); // nobody sees an away peer go

    HttpResponse<String> r = kick(1, "k2", "dan");
    assertEquals(200, r.statusCode(), r.body());
    JsonObject left = alice.expectPast("peer-left");
    assertEquals(List.of("dan", "kicked"), List.of(left.getString("peer"), left.getString("reason")));
    assertEquals(List.of("alice"), members("k2"));
  }

  @Test
  @DisplayName("kicking a peer that is not in the room is 404; a bad id 400; no admin key 401")
  void refusals() {
    cluster.join(0, "k3", "erin");
    HttpResponse<String> missing = kick(1, "k3", "nobody");
    assertEquals(404, missing.statusCode());
    assertEquals("not-found", new JsonObject(missing.body()).getString("error"));
    assertEquals(404, kick(0, "no-such-room", "erin").statusCode());
    assertEquals(400, kick(0, "k3", "bad%20id").statusCode());
    assertEquals(401, cluster.http(0, "DELETE", "/v1/rooms/k3/peers/erin", "wrong-key", null).statusCode());
    assertEquals(List.of("erin"), members("k3"), "nothing was removed");
  }
}
