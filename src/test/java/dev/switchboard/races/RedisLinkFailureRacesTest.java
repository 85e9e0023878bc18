package dev.switchboard.races;

import static dev.switchboard.testing.Waits.drain;
import static dev.switchboard.testing.Waits.sleep;
import static dev.switchboard.testing.Waits.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.TestCluster;
import dev.switchboard.testing.TestPeer;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Failure paths where one node's link to Redis stalls or breaks while Redis itself keeps its
 * data: a network partition between a node and Redis, or a Redis that is unreachable for a while
 * (failover, restart with persistence). Each node under test reaches Redis through a
 * {@link Link}, a TCP proxy of this test that can freeze (hold every byte, in order, as a stalled
 * TCP connection does) or cut (reset every connection and refuse new ones).
 */
class RedisLinkFailureRacesTest {

  private static final Map<String, String> COMMON = Map.of("limits-rate", "100000", "limits-rate-burst", "100000",
      "redis-timeout", "500ms");

  private static Map<String, String> settings(String heartbeat, String ttl, Link link) {
    Map<String, String> s = new HashMap<>(COMMON);
    s.put("node-heartbeat", heartbeat);
    s.put("node-heartbeat-ttl", ttl);
    if (link != null) {
      s.put("redis-url", link.url());
    }
    return s;
  }

  private static String room() {
    return "link-" + UUID.randomUUID().toString().substring(0, 8);
  }




  // --- A node cut off from Redis past its TTL is reaped; the heartbeat that finds its record
  // gone times out, though Redis ran it: the node never learns, and keeps the reaped sockets. ---

  @Test
  @DisplayName("a node partitioned from Redis past its TTL is reaped; after the partition heals it closes its "
      + "reaped sockets even though the heartbeat that found its record gone timed out")
  void reapedNodeWhoseRecordLossAnswerWasLostClosesItsSockets() throws Exception {
    TestCluster cluster = TestCluster.start(1, settings("300ms", "1200ms", null));
    try (Link link = new Link(cluster.redisServer().port())) {
      cluster.addNode(settings("300ms", "1200ms", link));
      String x = cluster.node(1).nodeId();
      String room = room();
      TestPeer b = cluster.join(0, room, "b");
      TestPeer a = cluster.join(1, room, "a");
      assertEquals("a", b.expect("peer-joined").getString("peer"));

      // X's link to Redis stalls: its heartbeats are sent but neither reach Redis nor come back.
      link.freeze();
      JsonObject lost = b.next(Duration.ofSeconds(6));
      assertEquals("peer-left", lost.getString("type"), lost.encode());
      assertEquals("node-lost", lost.getString("reason"), "X was reaped while cut off: " + lost.encode());
      assertTrue(waitFor(3000, () -> cluster.redis(Command.ZSCORE, "sb:nodes", x) == null),
          "the reaper finished with X");

      // The partition heals; TCP delivers what X sent, in the order it sent it. The oldest
      // heartbeat runs first and finds the record gone, but X gave up waiting for its answer
      // long ago; the later ones find the record it wrote.
      link.thawInOrder();
      assertTrue(waitFor(3000, () -> cluster.redis(Command.EXISTS, "sb:node:" + x).toInteger() == 1),
          "X wrote its record again");
      boolean closed = waitFor(3000, a::isClosed);
      assertTrue(closed, "X was reaped (b got peer-left node-lost for a, Redis no longer lists a: "
          + cluster.redis(Command.HEXISTS, "sb:{" + room + "}:peers", "a") + ") and X is heartbeating again, "
          + "but a's socket on X is still open: X never learnt that its record had been lost");
      b.close();
    } finally {
      cluster.close();
    }
  }

  // --- A leave while Redis is unreachable is never written when it comes back with its data ---

  @Test
  @DisplayName("a peer that leaves while Redis is unreachable is gone from Redis once Redis is back with its "
      + "data, and can join again under its id")
  void leaveDuringOutageIsCorrectedWhenRedisReturns() throws Exception {
    TestCluster cluster = TestCluster.start(1, settings("300ms", "5s", null));
    try (Link link = new Link(cluster.redisServer().port())) {
      cluster.addNode(settings("300ms", "5s", link));
      String room = room();
      TestPeer b = cluster.join(0, room, "b");
      TestPeer a = cluster.join(1, room, "a");
      assertEquals("a", b.expect("peer-joined").getString("peer"));

      link.cut();
      a.disconnect();
      JsonObject left = b.next(Duration.ofSeconds(3));
      assertEquals("peer-left", left.getString("type"), left.encode());
      link.heal();
      // Well within the TTL: the node's record never lapses, Redis kept everything.
      assertTrue(waitFor(3000, () -> cluster.node(1).record().redisUp()), "node 1 reaches Redis again");
      // A negative check follows (no peer-left for a): the reconcile that Redis coming back
      // starts would announce it within a heartbeat; nothing signals that none is coming.
      sleep(1000);

      String ghost = String.valueOf(cluster.redis(Command.HGET, "sb:{" + room + "}:peers", "a"));
      TestPeer again = cluster.connect(1);
      again.send(new JsonObject().put("type", "join").put("room", room).put("peer", "a"));
      JsonObject answer = again.next();
      assertEquals("welcome", answer.getString("type"), "a page reload of a, after Redis came back: "
          + answer.encode() + "; Redis still lists the departed a as " + ghost + ", sb:rooms counts "
          + cluster.redis(Command.ZSCORE, "sb:rooms", room));
      again.close();
      b.close();
    } finally {
      cluster.close();
    }
  }

  // --- Redis unreachable for longer than the TTL, then back with its data ---

  @Test
  @DisplayName("Redis unreachable for a little longer than the TTL and back with its data: the peers stay "
      + "connected and nobody is told a live peer was lost")
  void outageLongerThanTtlWithDataKept() throws Exception {
    TestCluster cluster = TestCluster.start(0, Map.of());
    try (Link link = new Link(cluster.redisServer().port())) {
      cluster.addNode(settings("300ms", "1200ms", link));
      cluster.addNode(settings("300ms", "1200ms", link));
      String room = room();
      TestPeer a = cluster.join(0, room, "a");
      TestPeer b = cluster.join(1, room, "b");
      assertEquals("b", a.expect("peer-joined").getString("peer"));

      link.cut();
      sleep(2000); // an outage longer than the TTL (1 s): the record lapses, the node must not be reaped
      link.heal();
      sleep(2000); // heartbeats and the reconcile run again; what they must not announce is checked next
      List<JsonObject> toA = drain(a, 100);
      List<JsonObject> toB = drain(b, 100);
      assertTrue(!a.isClosed() && !b.isClosed() && toA.isEmpty() && toB.isEmpty(),
          "after a 2 s outage (Redis kept its data) a closed=" + a.isClosed() + " got " + toA
              + "; b closed=" + b.isClosed() + " got " + toB);
    } finally {
      cluster.close();
    }
  }

  /**
   * A TCP proxy in front of Redis. {@link #freeze()} holds every byte in both directions, in
   * order, as a stalled connection does; {@link #thawInOrder()} lets each connection's held bytes
   * go in the order they were first held. {@link #cut()} resets every connection and refuses new
   * ones until {@link #heal()}.
   */
  static final class Link implements AutoCloseable {

    private final int target;
    private final ServerSocket server;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final List<Pump> pumps = new CopyOnWriteArrayList<>();
    private volatile boolean frozen;
    private volatile boolean cut;

    Link(int target) throws IOException {
      this.target = target;
      this.server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
      Thread t = new Thread(this::acceptLoop, "redis-link-accept");
      t.setDaemon(true);
      t.start();
    }

    String url() {
      return "redis://127.0.0.1:" + server.getLocalPort();
    }

    synchronized void freeze() {
      frozen = true;
    }

    /** Releases the held connections one by one, oldest held first, then unfreezes. */
    void thawInOrder() {
      List<Pump> held = new ArrayList<>(pumps.stream().filter(p -> p.heldSince != 0).toList());
      held.sort(Comparator.comparingLong(p -> p.heldSince));
      for (Pump p : held) {
        synchronized (this) {
          p.released = true;
          notifyAll();
        }
        sleep(60); // one held reply at a time, each handled before the next is let go
      }
      synchronized (this) {
        frozen = false;
        for (Pump p : pumps) {
          p.released = false;
          p.heldSince = 0;
        }
        notifyAll();
      }
    }

    synchronized void cut() {
      cut = true;
      for (Socket s : sockets) {
        closeQuietly(s);
      }
      sockets.clear();
      notifyAll();
    }

    synchronized void heal() {
      cut = false;
    }

    private void acceptLoop() {
      while (!server.isClosed()) {
        Socket client;
        try {
          client = server.accept();
        } catch (IOException e) {
          return;
        }
        if (cut) {
          closeQuietly(client);
          continue;
        }
        try {
          Socket redis = new Socket(InetAddress.getLoopbackAddress(), target);
          sockets.add(client);
          sockets.add(redis);
          start(new Pump(client, redis));
          start(new Pump(redis, client));
        } catch (IOException e) {
          closeQuietly(client);
        }
      }
    }

    private void start(Pump p) {
      pumps.add(p);
      Thread t = new Thread(p, "redis-link-pump");
      t.setDaemon(true);
      t.start();
    }

    private final class Pump implements Runnable {
      final Socket from;
      final Socket to;
      volatile long heldSince;
      volatile boolean released;

      Pump(Socket from, Socket to) {
        this.from = from;
        this.to = to;
      }

      @Override
      public void run() {
        byte[] buf = new byte[64 * 1024];
        try {
          InputStream in = from.getInputStream();
          OutputStream out = to.getOutputStream();
          int n;
          while ((n = in.read(buf)) >= 0) {
            synchronized (Link.this) {
              while (frozen && !released && !cut) {
                if (heldSince == 0) {
                  heldSince = System.nanoTime();
                }
                Link.this.wait();
              }
            }
            if (cut) {
              return;
            }
            out.write(buf, 0, n);
            out.flush();
          }
        } catch (IOException | InterruptedException e) {
          // the connection is gone
        } finally {
          closeQuietly(from);
          closeQuietly(to);
          pumps.remove(this);
        }
      }
    }

    private static void closeQuietly(Socket s) {
      try {
        s.close();
      } catch (IOException ignored) {
        // already closed
      }
    }

    @Override
    public void close() {
      try {
        server.close();
      } catch (IOException ignored) {
        // already closed
      }
      synchronized (this) {
        frozen = false;
        notifyAll();
      }
      for (Socket s : sockets) {
        closeQuietly(s);
      }
    }
  }
}
