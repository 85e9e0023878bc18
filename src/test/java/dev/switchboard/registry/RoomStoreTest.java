package dev.switchboard.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The join, leave and state scripts against a real Redis process. */
@ExtendWith(VertxExtension.class)
class RoomStoreTest {

  static LocalRedis server;
  Redis redis;
  RedisRoomStore store;
  Keys keys = new Keys("sb:");
  String room;

  @BeforeAll
  static void startRedis() throws Exception {
    server = LocalRedis.start();
  }

  @AfterAll
  static void stopRedis() {
    server.close();
  }

  @BeforeEach
  void setUp(Vertx vertx) {
    redis = Redis.createClient(vertx, server.url());
    store = new RedisRoomStore(redis, keys, Duration.ofSeconds(2), () -> "epoch-1");
    redis.send(Request.cmd(Command.SET).arg(keys.epoch()).arg("epoch-1")).await();
    room = "r-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static JsonObject record(String node) {
    return new JsonObject().put("node", node).put("meta", new JsonObject().put("name", "x"))
        .put("state", new JsonObject()).put("role", "peer").put("joinedAt", 1L);
  }

  @Test
  @DisplayName("joins return rising sequence numbers and every member with its node, the joiner included")
  void joinReturnsMembers(VertxTestContext ctx) {
    store.join(room, "a", "n1", record("n1"), 25, null)
        .compose(first -> store.join(room, "b", "n2", record("n2"), 25, null).map(second -> List.of(first, second)))
        .onComplete(ctx.succeeding(results -> ctx.verify(() -> {
          RoomStore.JoinResult first = results.get(0);
          RoomStore.JoinResult second = results.get(1);
          assertEquals(RoomStore.JoinStatus.OK, first.status());
          assertEquals(1, first.members().size());
          assertEquals(first.seq() + 1, second.seq());
          assertEquals(2, second.members().size());
          JsonObject a = second.members().stream().filter(m -> m.peer().equals("a")).findFirst().orElseThrow().record();
          assertEquals("n1", a.getString("node"));
          assertEquals(first.seq(), a.getLong("seq"));
          assertEquals("x", a.getJsonObject("meta").getString("name"));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a taken peer id and a full room are refused without changing anything")
  void takenAndFull(VertxTestContext ctx) {
    store.join(room, "a", "n1", record("n1"), 2, null)
        .compose(r -> store.join(room, "a", "n2", record("n2"), 2, null))
        .compose(taken -> {
          ctx.verify(() -> assertEquals(RoomStore.JoinStatus.TAKEN, taken.status()));
          return store.join(room, "b", "n2", record("n2"), 2, null);
        })
        .compose(r -> store.join(room, "c", "n2", record("n2"), 2, null))
        .compose(full -> {
          ctx.verify(() -> assertEquals(RoomStore.JoinStatus.FULL, full.status()));
          return redis.send(Request.cmd(Command.HLEN).arg(keys.roomPeers(room)));
        })
        .onComplete(ctx.succeeding(len -> ctx.verify(() -> {
          assertEquals(2, len.toInteger());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("leave by another node than the holder is refused; the last leave removes the room's keys")
  void leaveCleansUp(VertxTestContext ctx) {
    store.join(room, "a", "n1", record("n1"), 25, null)
        .compose(r -> store.join(room, "b", "n2", record("n2"), 25, null))
        .compose(r -> store.leave(room, "a", "n2"))
        .compose(wrongNode -> {
          ctx.verify(() -> assertFalse(wrongNode.applied()));
          return store.leave(room, "a", "n1");
        })
        .compose(left -> {
          ctx.verify(() -> {
            assertTrue(left.applied());
            assertEquals(List.of("n2"), left.nodes());
          });
          return store.leave(room, "b", "n2");
        })
        .compose(last -> {
          ctx.verify(() -> assertEquals(List.of(), last.nodes()));
          return redis.send(Request.cmd(Command.EXISTS).arg(keys.roomPeers(room)).arg(keys.roomNodes(room)));
        })
        .compose(exists -> {
          ctx.verify(() -> assertEquals(0, exists.toInteger()));
          return redis.send(Request.cmd(Command.ZSCORE).arg(keys.rooms()).arg(room));
        })
        .compose(score -> {
          ctx.verify(() -> assertEquals(null, score));
          return redis.send(Request.cmd(Command.PTTL).arg(keys.roomSeq(room)));
        })
        .onComplete(ctx.succeeding(ttl -> ctx.verify(() -> {
          assertTrue(ttl.toLong() > 0, "the sequence outlives the room, with a TTL: " + ttl);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a state change is sequenced like a join and stored for later welcomes")
  void stateIsSequenced(VertxTestContext ctx) {
    store.join(room, "a", "n1", record("n1"), 25, null)
        .compose(joined -> store.updateMember(room, "a", "n1",
                record("n1").put("state", new JsonObject().put("audio", false)))
            .map(change -> {
              ctx.verify(() -> {
                assertTrue(change.applied());
                assertEquals(joined.seq() + 1, change.seq());
                assertEquals(List.of("n1"), change.nodes());
              });
              return change;
            }))
        .compose(c -> store.join(room, "b", "n2", record("n2"), 25, null))
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          JsonObject a = r.members().stream().filter(m -> m.peer().equals("a")).findFirst().orElseThrow().record();
          assertEquals(false, a.getJsonObject("state").getBoolean("audio"));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a join under a data epoch the node has not seen is refused, and changes nothing")
  void staleEpochRefused(Vertx vertx, VertxTestContext ctx) {
    RoomStore stale = new RedisRoomStore(redis, keys, Duration.ofSeconds(2), () -> "epoch-0");
    stale.join(room, "a", "n1", record("n1"), 25, null)
        .compose(r -> {
          ctx.verify(() -> assertEquals(RoomStore.JoinStatus.STALE_EPOCH, r.status()));
          return redis.send(Request.cmd(Command.EXISTS).arg(keys.roomPeers(room)));
        })
        .onComplete(ctx.succeeding(exists -> ctx.verify(() -> {
          assertEquals(0, exists.toInteger());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a member written back continues the room's sequence above what the node has seen, and sees the room")
  void restoreContinuesSequence(VertxTestContext ctx) {
    store.restore(room, "a", "n1", record("n1"), 40, null)
        .compose(first -> {
          ctx.verify(() -> {
            assertEquals(true, first.applied());
            assertEquals(41L, first.seq());
            assertEquals(List.of("a"), first.members().stream().map(RoomStore.StoredMember::peer).toList());
            assertEquals(41L, first.members().get(0).seq());
          });
          return store.restore(room, "a", "n1", record("n1"), 40, null);
        })
        .compose(again -> {
          ctx.verify(() -> {
            assertEquals(false, again.applied(), "already there: left alone");
            assertEquals(41L, again.seq());
          });
          return store.join(room, "b", "n2", record("n2"), 25, null);
        })
        .compose(r -> {
          ctx.verify(() -> {
            assertEquals(42L, r.seq());
            assertEquals(2, r.members().size());
          });
          return store.snapshot(room);
        })
        .onComplete(ctx.succeeding(s -> ctx.verify(() -> {
          assertEquals(42L, s.seq());
          assertEquals(List.of("a", "b"), s.members().stream().map(RoomStore.StoredMember::peer).sorted().toList());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a move takes a member to another node with a new sequence number, if the old node still holds it")
  void moveBetweenNodes() {
    store.join(room, "a", "n1", record("n1"), 25, null).await();
    long joined = store.join(room, "b", "n1", record("n1"), 25, null).await().seq();
    store.updateMember(room, "a", "n1", record("n1").put("state", new JsonObject().put("audio", true))).await();
    RoomStore.Moved moved = store.move(room, "a", "n1", "n2", "digest-2").await();
    assertTrue(moved.applied());
    assertEquals(joined + 2, moved.seq());
    JsonObject a = moved.members().stream().filter(m -> m.peer().equals("a")).findFirst().orElseThrow().record();
    assertEquals(List.of("n2", moved.seq(), true), List.of(a.getString("node"), a.getLong("seq"),
        a.getJsonObject("state").getBoolean("audio")));
    assertEquals(List.of("1", "1"), List.of(
        redis.send(Request.cmd(Command.HGET).arg(keys.roomNodes(room)).arg("n1")).await().toString(),
        redis.send(Request.cmd(Command.HGET).arg(keys.roomNodes(room)).arg("n2")).await().toString()));
    assertFalse(redis.send(Request.cmd(Command.SISMEMBER).arg(keys.nodePeers("n1")).arg(room + "/a")).await()
        .toBoolean(), "n1 no longer answers for a: its clean-up after a crash leaves a alone");
    assertTrue(redis.send(Request.cmd(Command.SISMEMBER).arg(keys.nodePeers("n2")).arg(room + "/a")).await()
        .toBoolean());
    assertEquals(List.of("x", 1L), List.of(a.getJsonObject("meta").getString("name"), a.getLong("joinedAt")),
        "the rest of the record is kept as stored");
    assertFalse(store.move(room, "a", "n1", "n3", null).await().applied(), "n1 no longer holds a");
    assertFalse(store.move(room, "zed", "n1", "n3", null).await().applied(), "no such member");
    assertFalse(store.leave(room, "a", "n1").await().applied(), "the old node's leave changes nothing");
    assertTrue(store.leave(room, "a", "n2").await().applied());
  }

  @Test
  @DisplayName("a join that names no role gets the room's default (viewer in a broadcast, peer in a mesh), stored; a move tells the room's kind")
  void defaultRoleAndKind() {
    String live = room + "-live";
    assertTrue(store.createRoom(live, "broadcast", "sfu", 10).await());
    JsonObject unnamed = new JsonObject().put("role", "").put("node", "n1").put("meta", new JsonObject())
        .put("state", new JsonObject()).put("joinedAt", 1L);
    RoomStore.JoinResult viewer = store.join(live, "v", "n1", unnamed, 25, null).await();
    assertEquals(List.of(RoomStore.JoinStatus.OK, "viewer", "broadcast", "sfu"),
        List.of(viewer.status(), viewer.role(), viewer.kind().mode(), viewer.kind().media()));
    JsonObject stored = viewer.members().get(0).record();
    assertEquals(List.of("viewer", "n1"), List.of(stored.getString("role"), stored.getString("node")),
        "the chosen role is written into the record: " + stored);
    RoomStore.JoinResult peer = store.join(room, "p", "n1", unnamed.copy(), 25, null).await();
    assertEquals(List.of("peer", "mesh", "p2p"), List.of(peer.role(), peer.kind().mode(), peer.kind().media()));
    assertEquals(RoomStore.JoinStatus.ROLE, store.join(live, "x", "n1", record("n1"), 25, null).await().status(),
        "a role named that does not fit the room is still refused");
    RoomStore.Moved moved = store.move(live, "v", "n1", "n2", null).await();
    assertEquals(List.of("broadcast", "sfu"), List.of(moved.kind().mode(), moved.kind().media()),
        "the node a member moves to learns what room it is");
    store.deleteRoomConfig(live).await();
  }

  private String tokenOf(String peer) {
    var digest = redis.send(Request.cmd(Command.HGET).arg(keys.roomResumeTokens(room)).arg(peer)).await();
    return digest == null ? null : digest.toString();
  }

  private void declareDead(String node) {
    redis.send(Request.cmd(Command.SET).arg(keys.reaped(node)).arg("reaper")).await();
  }

  @Test
  @DisplayName("the digest of each welcome's token is kept: written by the join, replaced by a resume or a move, gone with the leave")
  void resumeTokenDigests() {
    store.join(room, "a", "n1", record("n1"), 25, "d1").await();
    assertEquals("d1", tokenOf("a"));
    store.rekey(room, "a", "n1", "d2").await();
    assertEquals("d2", tokenOf("a"));
    store.rekey(room, "a", "n9", "forged").await();
    assertEquals("d2", tokenOf("a"), "only the node holding the member writes its digest");
    store.move(room, "a", "n1", "n2", "d3").await();
    assertEquals("d3", tokenOf("a"));
    store.leave(room, "a", "n2").await();
    assertEquals(null, tokenOf("a"));
  }

  @Test
  @DisplayName("an orphan's messages are held only once its node is declared dead, within the bounds, and the member must still be there")
  void holdForAnOrphan() {
    String dead = "dead-" + room;
    store.join(room, "a", dead, record(dead), 25, "d1").await();
    store.join(room, "b", "live", record("live"), 25, "d2").await();
    assertEquals(RoomStore.HoldStatus.ALIVE, store.hold(room, "a", dead, "m0", 3, 100, 60_000).await().status(),
        "not declared dead yet: nothing held");
    declareDead(dead);
    assertEquals(RoomStore.HoldStatus.HELD, store.hold(room, "a", dead, "m1", 3, 10, 60_000).await().status());
    assertEquals(RoomStore.HoldStatus.HELD, store.hold(room, "a", dead, "m2", 3, 10, 60_000).await().status());
    assertEquals(RoomStore.HoldStatus.FULL, store.hold(room, "a", dead, "long-one", 3, 10, 60_000).await().status(),
        "10 bytes at most");
    assertEquals(RoomStore.HoldStatus.HELD, store.hold(room, "a", dead, "m3", 3, 10, 60_000).await().status());
    assertEquals(RoomStore.HoldStatus.FULL, store.hold(room, "a", dead, "m4", 3, 100, 60_000).await().status(),
        "3 frames at most");
    RoomStore.Held moved = store.hold(room, "b", dead, "x", 3, 100, 60_000).await();
    assertEquals(List.of(RoomStore.HoldStatus.MOVED, "live"), List.of(moved.status(), moved.node()));
    assertEquals(RoomStore.HoldStatus.ABSENT, store.hold(room, "zed", dead, "x", 3, 100, 60_000).await().status());
  }

  @Test
  @DisplayName("adopting an orphan: only once its node is declared dead, only with its token, and it takes what was held, in order")
  void adoptAnOrphan() {
    String dead = "dead-" + room;
    store.join(room, "a", dead, record(dead), 25, "d1").await();
    store.join(room, "b", "live", record("live"), 25, null).await();
    assertEquals(RoomStore.MoveStatus.ALIVE, store.adopt(room, "a", dead, "n2", "d1", "d2").await().status());
    declareDead(dead);
    store.hold(room, "a", dead, "m1", 10, 1000, 60_000).await();
    store.hold(room, "a", dead, "m2", 10, 1000, 60_000).await();
    assertEquals(RoomStore.MoveStatus.REFUSED, store.adopt(room, "a", dead, "n2", "forged", "d2").await().status());
    assertEquals(RoomStore.MoveStatus.ALIVE, store.adopt(room, "b", "live", "n2", "", "d2").await().status(),
        "b's node is not declared dead");
    store.join(room, "c", dead, record(dead), 25, null).await();
    assertEquals(RoomStore.MoveStatus.REFUSED, store.adopt(room, "c", dead, "n2", "", "d2").await().status(),
        "c has no token digest (its node had resume off): nothing to show matches");
    assertEquals("d1", tokenOf("a"), "a refused adoption changes nothing");
    RoomStore.Moved adopted = store.adopt(room, "a", dead, "n2", "d1", "d2").await();
    assertEquals(RoomStore.MoveStatus.OK, adopted.status());
    assertEquals(List.of("m1", "m2"), adopted.held());
    assertEquals(List.of("a", "b", "c"), adopted.members().stream().map(RoomStore.StoredMember::peer).sorted()
        .toList());
    assertEquals("n2", adopted.members().stream().filter(m -> m.peer().equals("a")).findFirst().orElseThrow().node());
    assertEquals("d2", tokenOf("a"));
    assertEquals(RoomStore.MoveStatus.ABSENT, store.adopt(room, "a", dead, "n3", "d2", "d3").await().status(),
        "adopted once");
    assertFalse(redis.send(Request.cmd(Command.SISMEMBER).arg(keys.nodePeers(dead)).arg(room + "/a")).await()
        .toBoolean(), "the reaper's leave at the window's end leaves the adopted member alone");
    assertEquals(0, redis.send(Request.cmd(Command.EXISTS).arg(keys.held(room, "a"))).await().toInteger());
  }

  @Test
  @DisplayName("the reaper's leave of an orphan drops what was held for it, and nothing is held for it after")
  void reapLeaveDropsHeld() {
    String dead = "dead-" + room;
    store.join(room, "a", dead, record(dead), 25, "d1").await();
    store.join(room, "b", "live", record("live"), 25, null).await();
    declareDead(dead);
    store.hold(room, "a", dead, "m1", 10, 1000, 60_000).await();
    RoomStore.Change left = store.reapLeave(room, "a", dead).await();
    assertTrue(left.applied());
    assertEquals(List.of("live"), left.nodes());
    assertEquals(List.of(0, 0), List.of(
        redis.send(Request.cmd(Command.EXISTS).arg(keys.held(room, "a"))).await().toInteger(),
        redis.send(Request.cmd(Command.HEXISTS).arg(keys.roomResumeTokens(room)).arg("a")).await().toInteger()));
    assertFalse(store.reapLeave(room, "a", dead).await().applied(), "once");
    assertEquals(RoomStore.HoldStatus.ABSENT, store.hold(room, "a", dead, "m2", 10, 1000, 60_000).await().status());
  }
}
