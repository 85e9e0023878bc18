package dev.switchboard.room;

import dev.switchboard.cluster.Envelope;
import dev.switchboard.cluster.NodeChannel;
import dev.switchboard.config.Config;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.LeaveReason;
import dev.switchboard.protocol.ServerMessage;
import dev.switchboard.registry.RoomPeer;
import dev.switchboard.registry.RoomStore;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import dev.switchboard.auth.TurnCredentials;
import io.vertx.core.json.JsonArray;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The room rules of one node: the rooms it holds, its local peers, and the router of every
 * envelope that reaches the node. Shared by all signaling verticles of the node; thread-safe.
 */
public final class Rooms {

  private final Vertx vertx;
  private final String nodeId;
  private final RoomStore store;
  private final NodeChannel channel;
  private final Config.Limits limits;
  private final TurnCredentials ice;
  private final RoomDirectory directory = new RoomDirectory();
  /** Local peers by {@code room/peer}: the exact answer to "is this peer here". */
  private final ConcurrentHashMap<String, PeerSession> local = new ConcurrentHashMap<>();
  /** Local sessions by room, for room-wide envelopes; claimed and released with {@link #local}. */
  private final ConcurrentHashMap<String, Set<PeerSession>> members = new ConcurrentHashMap<>();
  /** Leaves whose Redis step or announcement is still in flight. */
  private final AtomicInteger leaving = new AtomicInteger();
  private volatile Runnable staleEpoch = () -> { };
  private volatile Runnable drain = () -> { };
  /** Session ids, unique on this node: a peer that joins again is a new session. */
  private final AtomicLong sessions = new AtomicLong();
  private static final long IDLE_POLL_MS = 20;

  public Rooms(Vertx vertx, String nodeId, RoomStore store, NodeChannel channel, Config.Limits limits,
               TurnCredentials ice) {
    this.vertx = vertx;
    this.nodeId = nodeId;
    this.store = store;
    this.channel = channel;
    this.limits = limits;
    this.ice = ice;
  }

  /** A new, not yet joined session for a socket whose handlers run on {@code context}. */
  public PeerSession newSession(PeerLink link, Context context) {
    return new PeerSession(this, link, context, sessions.incrementAndGet());
  }

  /**
   * Routes an envelope that reached this node: to a local peer, to the local members of a room,
   * or into a room's view. Runs on the node channel's event loop, or on the sender's for an
   * envelope between two peers of this node; never blocks.
   */
  public void route(Envelope e) {
    switch (e.kind()) {
      case RELAY -> {
        PeerSession target = local.get(key(e.room(), e.peer()));
        if (target != null) {
          target.deliver(e);
        } else {
          channel.send(e.origin(), Envelope.nack(e, nodeId, ErrorCode.PEER_NOT_FOUND.wire()));
        }
      }
      case ACK, NACK -> {
        // For the session that sent the relay only: a peer that joined again is another one.
        PeerSession sender = local.get(key(e.room(), e.peer()));
        if (sender != null && sender.id() == e.session()) {
          sender.deliver(e);
        }
      }
      case ROOM, CLOSE_ROOM -> {
        if (directory.get(e.room()) != null) {
          toMembers(e);
        }
      }
      case DRAIN -> drain.run();
      case JOINED, LEFT, STATE -> {
        RoomView view = directory.get(e.room());
        if (view != null) {
          // Handed on under the view's lock: two events about one peer, routed on two
          // threads, reach the members in the order the view applied them.
          view.apply(RoomView.EventKind.valueOf(e.kind().name()), e.peer(), e.node(), e.seq(),
              () -> toMembers(e));
        }
      }
      default -> throw new IllegalStateException("unknown envelope kind " + e.kind());
    }
  }

  /** Hands a room-wide envelope to every local session of its room, each on its own event loop. */
  private void toMembers(Envelope e) {
    Set<PeerSession> sessions = members.get(e.room());
    if (sessions != null) {
      sessions.forEach(s -> s.deliver(e));
    }
  }

  /**
   * Completes once no local peer is left and no leave is still being written and announced,
   * or after {@code timeoutMs}: a stopping node waits for it before it leaves the cluster.
   */
  public Future<Void> whenIdle(long timeoutMs) {
    Promise<Void> done = Promise.promise();
    long deadline = System.currentTimeMillis() + timeoutMs;
    vertx.setPeriodic(IDLE_POLL_MS, id -> {
      if ((local.isEmpty() && leaving.get() == 0) || System.currentTimeMillis() > deadline) {
        done.tryComplete();
        vertx.cancelTimer(id);
      }
    });
    return done.future();
  }

  /**
   * The reaper removed {@code peer}, held by the dead {@code deadNode}, from {@code room}: the
   * room's remaining nodes tell their members {@code peer-left} with reason {@code node-lost}.
   */
  public void peerLost(String room, String peer, String deadNode, RoomStore.Change change) {
    Envelope event = Envelope.membership(Envelope.Kind.LEFT, room, peer, deadNode, change.seq(), nodeId,
        ServerMessage.peerLeft(peer, LeaveReason.NODE_LOST));
    change.nodes().forEach(node -> channel.send(node, event));
  }

  /**
   * Redis lost its data: every local member is written back, each on its own event loop, so the
   * data in Redis matches this node's sockets again. Nobody is told anything: for the clients
   * nothing changed.
   */
  public void restore() {
    List<PeerSession> sessions = List.copyOf(local.values());
    org.slf4j.LoggerFactory.getLogger(Rooms.class).atWarn().addKeyValue("node", nodeId)
        .addKeyValue("peers", sessions.size()).log("writing this node's members back to Redis");
    restoreEach(sessions, 0);
  }

  /** One member at a time, so a node with thousands of peers does not overrun the Redis pool. */
  private void restoreEach(List<PeerSession> sessions, int i) {
    if (i < sessions.size()) {
      sessions.get(i).restore().onComplete(ar -> restoreEach(sessions, i + 1));
    }
  }

  /** What this node does when an operator drains it. */
  public void onDrain(Runnable action) {
    this.drain = action;
  }

  /** Asks {@code node} (maybe this one) to drain. */
  public void drain(String node) {
    channel.send(node, Envelope.drain(nodeId));
  }

  /** Closes {@code room} on the given nodes: each member gets room-closed, then close 1000. */
  public void closeRoom(String room, List<String> nodes, String reason) {
    Envelope e = Envelope.closeRoom(room, nodeId, ServerMessage.roomClosed(reason));
    nodes.forEach(node -> channel.send(node, e));
  }

  /**
   * Redis is back after an outage: every {@code room/peer} it still lists for this node that
   * has no session here any more (it left while Redis was out of reach) is removed, one leave
   * at a time, and the leave is announced (clients that already heard of it are not told twice).
   */
  public Future<Integer> reconcile() {
    return store.nodePeers(nodeId).compose(pairs -> {
      List<String> gone = pairs.stream().filter(p -> !local.containsKey(p)).toList();
      return leaveEach(gone, 0, 0);
    }).onSuccess(n -> {
      if (n > 0) {
        org.slf4j.LoggerFactory.getLogger(Rooms.class).atWarn().addKeyValue("node", nodeId).addKeyValue("peers", n)
            .log("removed from Redis the peers that left while it was out of reach");
      }
    });
  }

  private Future<Integer> leaveEach(List<String> pairs, int i, int removed) {
    if (i >= pairs.size()) {
      return Future.succeededFuture(removed);
    }
    String pair = pairs.get(i);
    RoomPeer member = RoomPeer.parse(pair);
    return store.leave(member.room(), member.peer(), nodeId).map(c -> {
      if (c.applied() && !local.containsKey(pair)) {
        Envelope event = Envelope.membership(Envelope.Kind.LEFT, member.room(), member.peer(), nodeId, c.seq(),
            nodeId, ServerMessage.peerLeft(member.peer(), LeaveReason.DISCONNECTED));
        c.nodes().forEach(node -> channel.send(node, event));
        return 1;
      }
      return 0;
    }).recover(err -> Future.succeededFuture(0)).compose(n -> leaveEach(pairs, i + 1, removed + n));
  }

  /** What to do when a join finds that Redis has a data epoch this node has not seen yet. */
  public void onStaleEpoch(Runnable action) {
    this.staleEpoch = action;
  }

  Runnable staleEpoch() {
    return staleEpoch;
  }

  /** Peers with a socket on this node that are in (or entering) a room. */
  public int localPeers() {
    return local.size();
  }

  /** Rooms with at least one local peer. */
  public int localRooms() {
    return directory.size();
  }

  // --- for PeerSession ---

  /**
   * Makes {@code session} the local holder of {@code peer} in {@code room}, reachable by relays
   * and room-wide envelopes from now on; false if the peer id is already held here.
   */
  boolean claim(String room, String peer, PeerSession session) {
    if (local.putIfAbsent(key(room, peer), session) != null) {
      return false;
    }
    members.compute(room, (k, set) -> {
      Set<PeerSession> s = set != null ? set : ConcurrentHashMap.newKeySet();
      s.add(session);
      return s;
    });
    return true;
  }

  void unclaim(String room, String peer, PeerSession session) {
    if (local.remove(key(room, peer), session)) {
      members.computeIfPresent(room, (k, set) -> {
        set.remove(session);
        return set.isEmpty() ? null : set;
      });
    }
  }

  AtomicInteger leaving() {
    return leaving;
  }

  Vertx vertx() {
    return vertx;
  }

  String nodeId() {
    return nodeId;
  }

  RoomStore store() {
    return store;
  }

  NodeChannel channel() {
    return channel;
  }

  RoomDirectory directory() {
    return directory;
  }

  Config.Limits limits() {
    return limits;
  }

  /** The ICE servers for {@code peer}'s welcome, TURN credentials included. */
  JsonArray iceServers(String peer) {
    return ice.iceServers(peer, System.currentTimeMillis());
  }

  private static String key(String room, String peer) {
    return new RoomPeer(room, peer).toString();
  }
}
