package dev.switchboard.registry;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The {@link RoomStore} in Redis, and what the operator's API reads and writes of rooms. Join,
 * leave, state change and restore are each one Lua script: atomic, and each returns the room's
 * new sequence number (see {@link Keys} for the layout).
 */
public final class RedisRoomStore implements RoomStore {

  private static final LuaScript JOIN = LuaScript.load("join.lua");
  private static final LuaScript LEAVE = LuaScript.load("leave.lua");
  private static final LuaScript STATE = LuaScript.load("state.lua");
  private static final LuaScript RESTORE = LuaScript.load("restore.lua");
  private static final LuaScript CREATE_ROOM = LuaScript.load("create_room.lua");
  private static final LuaScript SNAPSHOT = LuaScript.load("snapshot.lua");
  private static final LuaScript MOVE = LuaScript.load("move.lua");
  private static final LuaScript HOLD = LuaScript.load("hold.lua");
  private static final LuaScript REKEY = LuaScript.load("rekey.lua");

  private final Redis redis;
  private final CommandTimings timings;
  private final Keys keys;
  private final long timeoutMs;
  private final Supplier<String> epoch;

  /** {@code epoch} is the data epoch the node last read from Redis ({@link NodeRecord#epoch()}). */
  public RedisRoomStore(Redis redis, Keys keys, Duration timeout, Supplier<String> epoch) {
    this(redis, keys, timeout, epoch, CommandTimings.NONE);
  }

  /** As above, reporting each command's time to {@code timings}. */
  public RedisRoomStore(Redis redis, Keys keys, Duration timeout, Supplier<String> epoch, CommandTimings timings) {
    this.timings = timings;
    this.redis = redis;
    this.keys = keys;
    this.timeoutMs = timeout.toMillis();
    this.epoch = epoch;
  }

  @Override
  public Future<JoinResult> join(String room, String peer, String node, JsonObject record, int defaultMaxPeers,
                                 String tokenDigest) {
    List<String> k = List.of(keys.roomPeers(room), keys.roomNodes(room), keys.roomSeq(room),
        keys.roomConfig(room), keys.rooms(), keys.nodePeers(node), keys.epoch(), keys.roomResumeTokens(room));
    String known = epoch.get();
    List<String> a = List.of(room, peer, node, record.encode(), Integer.toString(defaultMaxPeers),
        known == null ? "" : known, orEmpty(tokenDigest), record.getString("role"));
    return timed("join", JOIN.run(redis, k, a)).map(r -> {
      String status = r.get(0).toString();
      switch (status) {
        case "taken":
          return JoinResult.refused(JoinStatus.TAKEN);
        case "full":
          return JoinResult.refused(JoinStatus.FULL);
        case "epoch":
          return JoinResult.refused(JoinStatus.STALE_EPOCH);
        case "role":
          return JoinResult.refused(JoinStatus.ROLE);
        case "presenter-taken":
          return JoinResult.refused(JoinStatus.PRESENTER_TAKEN);
        default:
          return new JoinResult(JoinStatus.OK, r.get(1).toLong(), members(r, 5),
              new RoomKind(r.get(2).toString(), r.get(3).toString()), r.get(4).toString());
      }
    });
  }

  @Override
  public Future<Change> reapLeave(String room, String peer, String dead) {
    List<String> k = new ArrayList<>(leaveKeys(room, peer, dead));
    k.add(keys.node(dead));
    return timed("reap-leave", LEAVE.run(redis, k, List.of(room, peer, dead))).map(RedisRoomStore::change);
  }

  private List<String> leaveKeys(String room, String peer, String node) {
    return List.of(keys.roomPeers(room), keys.roomNodes(room), keys.roomSeq(room), keys.rooms(),
        keys.nodePeers(node), keys.roomResumeTokens(room), keys.held(room, peer), keys.heldBytes(room));
  }

  @Override
  public Future<Change> leave(String room, String peer, String node) {
    return leave(room, peer, node, timeoutMs);
  }

  @Override
  public Future<Change> leave(String room, String peer, String node, long timeoutMs) {
    return timed("leave", LEAVE.run(redis, leaveKeys(room, peer, node), List.of(room, peer, node)), timeoutMs)
        .map(RedisRoomStore::change);
  }

  @Override
  public Future<Change> updateMember(String room, String peer, String node, JsonObject record) {
    List<String> k = List.of(keys.roomPeers(room), keys.roomNodes(room), keys.roomSeq(room));
    return timed("state", STATE.run(redis, k, List.of(peer, node, record.encode()))).map(RedisRoomStore::change);
  }

  @Override
  public Future<Snapshot> restore(String room, String peer, String node, JsonObject record, long minSeq,
                                  String tokenDigest) {
    List<String> k = List.of(keys.roomPeers(room), keys.roomNodes(room), keys.roomSeq(room), keys.rooms(),
        keys.nodePeers(node), keys.roomResumeTokens(room));
    return timed("restore", RESTORE.run(redis, k, List.of(room, peer, node, record.encode(), Long.toString(minSeq),
        orEmpty(tokenDigest))))
        .map(r -> new Snapshot("ok".equals(r.get(0).toString()), r.get(1).toLong(), members(r, 2)));
  }

  @Override
  public Future<Snapshot> rekey(String room, String peer, String node, String tokenDigest) {
    List<String> k = List.of(keys.roomPeers(room), keys.roomSeq(room), keys.roomResumeTokens(room));
    return timed("rekey", REKEY.run(redis, k, List.of(peer, node, orEmpty(tokenDigest))))
        .map(r -> new Snapshot(false, r.get(0).toLong(), members(r, 1)));
  }

  @Override
  public Future<Moved> move(String room, String peer, String from, String to, String tokenDigest) {
    return move(moveKeys(room, peer, from, to), List.of(room, peer, from, to, orEmpty(tokenDigest)));
  }

  @Override
  public Future<Moved> adopt(String room, String peer, String dead, String to, String presentedDigest,
                             String tokenDigest) {
    List<String> k = new ArrayList<>(moveKeys(room, peer, dead, to));
    k.add(keys.reaped(dead));
    return move(k, List.of(room, peer, dead, to, orEmpty(tokenDigest), orEmpty(presentedDigest)));
  }

  private List<String> moveKeys(String room, String peer, String from, String to) {
    return List.of(keys.roomPeers(room), keys.roomNodes(room), keys.roomSeq(room), keys.nodePeers(from),
        keys.nodePeers(to), keys.roomResumeTokens(room), keys.held(room, peer), keys.heldBytes(room),
        keys.roomConfig(room));
  }

  private Future<Moved> move(List<String> k, List<String> a) {
    return timed("move", MOVE.run(redis, k, a)).map(r -> {
      String status = r.get(0).toString();
      if (!"ok".equals(status)) {
        return Moved.refused(MoveStatus.valueOf(status.toUpperCase(Locale.ROOT)));
      }
      int n = r.get(4).toInteger();
      List<String> held = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        held.add(r.get(5 + i).toString());
      }
      return new Moved(MoveStatus.OK, r.get(1).toLong(), members(r, 5 + n), held,
          new RoomKind(r.get(2).toString(), r.get(3).toString()));
    });
  }

  @Override
  public Future<Held> hold(String room, String peer, String dead, String frame, int maxFrames, int maxBytes,
                           long ttlMs) {
    List<String> k = List.of(keys.roomPeers(room), keys.held(room, peer), keys.heldBytes(room), keys.reaped(dead));
    return timed("hold", HOLD.run(redis, k, List.of(peer, dead, frame, Integer.toString(maxFrames),
        Integer.toString(maxBytes), Long.toString(ttlMs)))).map(r -> new Held(
            HoldStatus.valueOf(r.get(0).toString().toUpperCase(Locale.ROOT)),
            r.size() > 1 ? r.get(1).toString() : null));
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }

  @Override
  public Future<Snapshot> snapshot(String room) {
    return timed("snapshot", SNAPSHOT.run(redis, List.of(keys.roomPeers(room), keys.roomSeq(room)), List.of()))
        .map(r -> new Snapshot(false, r.get(0).toLong(), members(r, 1)));
  }

  @Override
  public Future<List<String>> liveNodes(List<String> nodes) {
    if (nodes.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    return timed("live-nodes", redis.batch(nodes.stream().map(n -> Request.cmd(Command.EXISTS).arg(keys.node(n))).toList()))
        .map(found -> {
          List<String> live = new ArrayList<>();
          for (int i = 0; i < found.size(); i++) {
            if (found.get(i).toInteger() == 1) {
              live.add(nodes.get(i));
            }
          }
          return live;
        });
  }

  /** The members listed as {@code peer, record} pairs from position {@code from} of a script's answer. */
  private static List<StoredMember> members(Response r, int from) {
    List<StoredMember> members = new ArrayList<>();
    for (int i = from; i + 1 < r.size(); i += 2) {
      members.add(new StoredMember(r.get(i).toString(), new JsonObject(r.get(i + 1).toString())));
    }
    return members;
  }

  /** A room as the operator sees it: its members' records and its configuration, if any. */
  public record RoomInfo(String room, List<StoredMember> members, Map<String, String> config) {
  }

  /** The rooms with the most members first, at most {@code limit}: room -> member count. */
  public Future<Map<String, Integer>> rooms(int limit) {
    return timed("rooms", redis.send(Request.cmd(Command.ZREVRANGE).arg(keys.rooms()).arg(0).arg(limit - 1)
        .arg("WITHSCORES"))).map(r -> {
          // RESP3 answers [[member, score], ...]; RESP2 answers [member, score, ...].
          Map<String, Integer> out = new LinkedHashMap<>();
          boolean pairs = r.size() > 0 && r.get(0).type() == io.vertx.redis.client.ResponseType.MULTI;
          for (int i = 0; i < r.size(); i += pairs ? 1 : 2) {
            Response member = pairs ? r.get(i).get(0) : r.get(i);
            Response score = pairs ? r.get(i).get(1) : r.get(i + 1);
            out.put(member.toString(), (int) Double.parseDouble(score.toString()));
          }
          return out;
        });
  }

  /** One room's members and configuration; empty if it has neither. */
  public Future<Optional<RoomInfo>> room(String room) {
    return timed("room", redis.batch(List.of(
        Request.cmd(Command.HGETALL).arg(keys.roomPeers(room)),
        Request.cmd(Command.HGETALL).arg(keys.roomConfig(room))))).map(r -> {
          List<StoredMember> members = new ArrayList<>();
          for (String peer : r.get(0).getKeys()) {
            members.add(new StoredMember(peer, new JsonObject(r.get(0).get(peer).toString())));
          }
          Map<String, String> config = new LinkedHashMap<>();
          for (String k : r.get(1).getKeys()) {
            config.put(k, r.get(1).get(k).toString());
          }
          return members.isEmpty() && config.isEmpty() ? Optional.<RoomInfo>empty()
              : Optional.of(new RoomInfo(room, members, config));
        });
  }

  /** Creates a room ahead of its first peer, with its mode and media; false if it is already configured. */
  public Future<Boolean> createRoom(String room, String mode, String media, int maxPeers) {
    return timed("create-room", CREATE_ROOM.run(redis, List.of(keys.roomConfig(room)),
        List.of(mode, Integer.toString(maxPeers), media)))
        .map(r -> r.toInteger() == 1);
  }

  /** Forgets a room's configuration; its members leave on their own as their sockets close. */
  public Future<Void> deleteRoomConfig(String room) {
    return timed("delete-room", redis.send(Request.cmd(Command.DEL).arg(keys.roomConfig(room)))).mapEmpty();
  }

  @Override
  public Future<List<String>> nodePeers(String node) {
    return timed("node-peers", redis.send(Request.cmd(Command.SMEMBERS).arg(keys.nodePeers(node)))).map(r -> {
      List<String> out = new ArrayList<>();
      r.forEach(p -> out.add(p.toString()));
      return out;
    });
  }

  /** The nodes holding members of {@code room}. */
  public Future<List<String>> roomNodes(String room) {
    return timed("room-nodes", redis.send(Request.cmd(Command.HKEYS).arg(keys.roomNodes(room)))).map(r -> {
      List<String> out = new ArrayList<>();
      r.forEach(n -> out.add(n.toString()));
      return out;
    });
  }

  private static Change change(Response r) {
    String status = r.get(0).toString();
    if (!"ok".equals(status)) {
      return new Change(false, 0, List.of(), "alive".equals(status));
    }
    List<String> nodes = new ArrayList<>();
    for (int i = 2; i < r.size(); i++) {
      nodes.add(r.get(i).toString());
    }
    return new Change(true, r.get(1).toLong(), nodes, false);
  }

  /** {@code f}, bounded by the store's timeout, its time reported as {@code command}'s. */
  private <T> Future<T> timed(String command, Future<T> f) {
    return timed(command, f, timeoutMs);
  }

  private <T> Future<T> timed(String command, Future<T> f, long timeout) {
    long start = System.nanoTime();
    return f.timeout(timeout, TimeUnit.MILLISECONDS)
        .onComplete(ar -> timings.record(command, System.nanoTime() - start, ar.failed()));
  }
}
