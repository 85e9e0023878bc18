package dev.switchboard.registry;

import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Where a new connection should go, read from Redis: a node already holding members of the
 * room while it is under its soft capacity (the room's traffic then stays on fewer nodes),
 * otherwise the active node with the fewest connections. Never a draining node, nor one whose
 * record has expired (it stopped heartbeating). Ties are broken at random, so a burst of
 * placements spreads over the tied nodes instead of piling onto one.
 */
public final class Placement {

  /** A node chosen for a new connection. */
  public record Choice(String node, String url, int connections) {
  }

  /** A node as its record in Redis shows it. */
  public record NodeStatus(String node, String url, int connections, int rooms, String state,
                           long heartbeatAt) {
    boolean isActive() {
      return "active".equals(state);
    }
  }

  private final Redis redis;
  private final Keys keys;
  private final int softCapacity;
  private final long timeoutMs;

  public Placement(Redis redis, Keys keys, int softCapacity, Duration timeout) {
    this.redis = redis;
    this.keys = keys;
    this.softCapacity = softCapacity;
    this.timeoutMs = timeout.toMillis();
  }

  /**
   * The node for a new connection to {@code room} ({@code null}: any room), never
   * {@code exclude} ({@code null}: none); empty when no node can take it.
   */
  public Future<Optional<Choice>> choose(String room, String exclude) {
    Future<Map<String, Integer>> roomNodes = room == null ? Future.succeededFuture(Map.of())
        : redis.send(Request.cmd(Command.HGETALL).arg(keys.roomNodes(room))).map(Placement::counts);
    return Future.all(roomNodes, liveNodes()).timeout(timeoutMs, TimeUnit.MILLISECONDS).map(all -> {
      Map<String, Integer> inRoom = all.resultAt(0);
      List<NodeStatus> live = all.resultAt(1);
      List<NodeStatus> open = live.stream()
          .filter(NodeStatus::isActive)
          .filter(n -> !n.node().equals(exclude))
          .toList();
      List<NodeStatus> affine = open.stream()
          .filter(n -> inRoom.containsKey(n.node()) && n.connections() < softCapacity)
          .toList();
      Comparator<NodeStatus> order = affine.isEmpty()
          ? Comparator.comparingInt(NodeStatus::connections)
          : Comparator.<NodeStatus>comparingInt(n -> -inRoom.get(n.node())).thenComparingInt(NodeStatus::connections);
      return pickBest(affine.isEmpty() ? open : affine, order)
          .map(n -> new Choice(n.node(), n.url(), n.connections()));
    });
  }

  /** Every node whose record has not expired, as its record shows it. */
  public Future<List<NodeStatus>> liveNodes() {
    return redis.send(Request.cmd(Command.ZRANGE).arg(keys.nodes()).arg(0).arg(-1)).compose(ids -> {
      if (ids.size() == 0) {
        return Future.succeededFuture(List.<NodeStatus>of());
      }
      List<String> nodes = new ArrayList<>();
      List<Request> reads = new ArrayList<>();
      for (Response id : ids) {
        nodes.add(id.toString());
        reads.add(Request.cmd(Command.HMGET).arg(keys.node(id.toString()))
            .arg("url").arg("connections").arg("rooms").arg("state").arg("heartbeatAt"));
      }
      return redis.batch(reads).map(rows -> {
        List<NodeStatus> out = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
          Response r = rows.get(i);
          if (r.get(0) == null) {
            continue; // the record expired: the node stopped heartbeating
          }
          out.add(new NodeStatus(nodes.get(i), r.get(0).toString(), intOf(r.get(1)), intOf(r.get(2)),
              r.get(3) == null ? "active" : r.get(3).toString(), r.get(4) == null ? 0 : r.get(4).toLong()));
        }
        return out;
      });
    });
  }

  private static <T> Optional<T> pickBest(List<T> candidates, Comparator<T> order) {
    if (candidates.isEmpty()) {
      return Optional.empty();
    }
    T best = candidates.stream().min(order).orElseThrow();
    List<T> tied = candidates.stream().filter(c -> order.compare(c, best) == 0).toList();
    return Optional.of(tied.get(ThreadLocalRandom.current().nextInt(tied.size())));
  }

  private static Map<String, Integer> counts(Response hash) {
    Map<String, Integer> out = new HashMap<>();
    if (hash != null) {
      for (String key : hash.getKeys()) {
        out.put(key, intOf(hash.get(key)));
      }
    }
    return out;
  }

  private static int intOf(Response r) {
    return r == null ? 0 : r.toInteger();
  }
}
