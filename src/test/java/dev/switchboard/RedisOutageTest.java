package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.TestCluster;
import dev.switchboard.testing.TestPeer;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Redis goes away under live rooms, and comes back empty. */
class RedisOutageTest {

  @Test
  @DisplayName("relays go on while Redis is down, joins get unavailable, health says so; "
      + "after a restart that lost everything, Redis matches the sockets again")
  void redisRestart() throws Exception {
    try (TestCluster cluster = TestCluster.start(2, Map.of("node-heartbeat", "300ms", "node-heartbeat-ttl", "5s",
        "redis-timeout", "500ms", "limits-rate", "10000", "limits-rate-burst", "10000"))) {
      TestPeer a = cluster.join(0, "live", "a");
      TestPeer b = cluster.join(1, "live", "b");
      TestPeer c = cluster.join(1, "live", "c");
      a.expect("peer-joined");
      a.expect("peer-joined");
      b.expect("peer-joined");
      a.send(new JsonObject().put("type", "state").put("audio", false));
      b.expect("peer-state");
      c.expect("peer-state");

      cluster.killRedis();
      Thread.sleep(1000); // a few failed heartbeats

      // Relays between joined peers go on: they never touch Redis.
      for (int i = 0; i < 20; i++) {
        a.send(new JsonObject().put("type", "offer").put("to", "b").put("sdp", "o" + i).put("id", i));
      }
      for (int i = 0; i < 20; i++) {
        assertEquals("o" + i, b.expect("offer").getString("sdp"));
        assertEquals(i, a.expect("ack").getInteger("id"));
      }
      c.send(new JsonObject().put("type", "message").put("data", "still here"));
      assertEquals("still here", a.expect("message").getString("data"));
      assertEquals("still here", b.expect("message").getString("data"));

      // New joins are refused as unavailable, and health says why.
      TestPeer refused = cluster.connect(0);
      refused.send(new JsonObject().put("type", "join").put("room", "live").put("peer", "d"));
      assertEquals("unavailable", refused.expect("error").getString("code"));
      assertEquals(4503, refused.awaitClose());
      HttpClient http = HttpClient.newHttpClient();
      HttpResponse<String> ready = http.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + cluster.port(0) + "/ready")).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(503, ready.statusCode());
      assertEquals("down", new JsonObject(ready.body()).getString("redis"));

      // Redis comes back empty; within a few seconds every node has written its members back.
      cluster.startRedis();
      long deadline = System.currentTimeMillis() + 5000;
      while (System.currentTimeMillis() < deadline && !restored(cluster)) {
        Thread.sleep(100);
      }
      assertTrue(restored(cluster), "Redis did not come to match the sockets");
      JsonObject aRecord = new JsonObject(cluster.redis(Command.HGET, "sb:{live}:peers", "a").toString());
      assertEquals(cluster.node(0).nodeId(), aRecord.getString("node"));
      assertEquals(false, aRecord.getJsonObject("state").getBoolean("audio"), "state is written back too");
      assertEquals(3, cluster.redis(Command.ZSCORE, "sb:rooms", "live").toInteger());
      assertEquals(1, cluster.redis(Command.ZSCORE, "sb:nodes", cluster.node(0).nodeId()).toInteger());
      assertEquals(2, cluster.redis(Command.ZSCORE, "sb:nodes", cluster.node(1).nodeId()).toInteger());

      // Nobody was told anything, and the room works as before: a newcomer sees everyone, and
      // everyone sees the newcomer before its first message.
      a.expectNothing(100);
      b.expectNothing(100);
      TestPeer d = cluster.join(0, "live", "d");
      Set<String> listed = new HashSet<>();
      d.welcome.getJsonArray("peers").forEach(p -> listed.add(((JsonObject) p).getString("peer")));
      assertEquals(Set.of("a", "b", "c"), listed);
      d.send(new JsonObject().put("type", "offer").put("to", "b").put("sdp", "hello"));
      for (TestPeer p : new TestPeer[] {a, b, c}) {
        assertEquals("d", p.expect("peer-joined").getString("peer"));
      }
      assertEquals("hello", b.expect("offer").getString("sdp"));
      c.send(new JsonObject().put("type", "leave"));
      for (TestPeer p : new TestPeer[] {a, b, d}) {
        JsonObject left = p.expect("peer-left");
        assertEquals("c", left.getString("peer"));
      }
    }
  }

  private static boolean restored(TestCluster cluster) {
    var peers = cluster.redis(Command.HLEN, "sb:{live}:peers");
    var n0 = cluster.redis(Command.HGET, "sb:{live}:nodes", cluster.node(0).nodeId());
    var n1 = cluster.redis(Command.HGET, "sb:{live}:nodes", cluster.node(1).nodeId());
    return peers != null && peers.toInteger() == 3 && n0 != null && n0.toInteger() == 1
        && n1 != null && n1.toInteger() == 2
        && cluster.redis(Command.EXISTS, "sb:node:" + cluster.node(0).nodeId()).toInteger() == 1;
  }
}
