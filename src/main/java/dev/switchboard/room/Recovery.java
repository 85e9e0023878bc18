package dev.switchboard.room;

import dev.switchboard.async.OneAtATime;
import dev.switchboard.cluster.Envelope.PeerLeft;
import dev.switchboard.media.MediaServer;
import dev.switchboard.protocol.CloseCode;
import dev.switchboard.protocol.LeaveReason;
import dev.switchboard.protocol.ServerMessage;
import dev.switchboard.registry.NodeRecord;
import dev.switchboard.registry.RoomPeer;
import dev.switchboard.registry.RoomStore;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What this node's rooms do when the store or another node fails: write the members back after
 * the store lost its data, remove from it what left while it was out of reach, tell the members
 * of a room that a dead node's peers are gone, and drop every room when this node was declared
 * dead. The steps run one member at a time, so a node with thousands of peers never floods the
 * store.
 */
public final class Recovery implements NodeRecord.Listener {

  private static final Logger log = LoggerFactory.getLogger(Recovery.class);

  private final Vertx vertx;
  private final Router router;
  private final RoomStore store;
  private final LocalRooms rooms;
  private final long nodeRecordTtlMs;
  private final Function<String, Future<Boolean>> inCluster;
  private final MediaServer media;

  /**
   * {@code nodeRecordTtl} is how long a live node may take to heartbeat (its record's TTL);
   * {@code inCluster} says whether a node is in the cluster now (the node channel's probe). After
   * the store lost its data, a node whose record is still missing a TTL later, and that is not
   * in the cluster, is dead.
   */
  public Recovery(Vertx vertx, Router router, RoomStore store, LocalRooms rooms, Duration nodeRecordTtl,
                  Function<String, Future<Boolean>> inCluster, MediaServer media) {
    this.media = media;
    this.vertx = vertx;
    this.router = router;
    this.store = store;
    this.rooms = rooms;
    this.nodeRecordTtlMs = nodeRecordTtl.toMillis();
    this.inCluster = inCluster;
  }

  @Override
  public void dataLost() {
    restore();
  }

  @Override
  public void redisBack() {
    reconcile();
  }

  @Override
  public void reaped() {
    dropAll();
  }

  /**
   * The store lost its data: every local member is written back, each on its own event loop, and
   * announced to its room again at its new sequence number; then every local member hears of the
   * members it had not (they joined while their room was missing from the store). Members of
   * nodes that died meanwhile are left for {@link #forgetDeadNodes}, one TTL later.
   */
  public Future<Void> restore() {
    // Until the nodes that lost their members have written them back (each at its next
    // heartbeat, or its next socket), joins here must not take the store's listing as complete.
    rooms.restoring(nodeRecordTtlMs * 2);
    List<PeerSession> sessions = rooms.sessions();
    log.atWarn().addKeyValue("node", router.self()).addKeyValue("peers", sessions.size())
        .log("the store lost its data: writing this node's members back");
    return OneAtATime.each(sessions, this::restore)
        .compose(snapshots -> resync())
        .onComplete(ar -> vertx.setTimer(nodeRecordTtlMs, t -> forgetDeadNodes()))
        .mapEmpty();
  }

  /** Tells each local member of the peers its room has in the store that it has not heard of. */
  private Future<Void> resync() {
    return OneAtATime.each(rooms.rooms(), room -> store.snapshot(room.id()).map(snapshot -> {
      room.sessions().forEach(s -> resync(s, snapshot));
      return null;
    }).recover(err -> Future.succeededFuture())).mapEmpty();
  }

  /**
   * Writes {@code s}'s member back after the store lost its data, on the session's event loop;
   * then the room's nodes learn of it again, at its new sequence number. Joins that happened
   * while the member was missing from the store did not reach this node, nor did they list this
   * peer: both sides learn of each other now. Completes when done, whatever the outcome.
   */
  private Future<Void> restore(PeerSession s) {
    Promise<Void> done = Promise.promise();
    s.home().runOnContext(v -> {
      if (!s.holdsRoomState()) {
        done.complete();
        return;
      }
      RoomMember member = s.member();
      LocalRoom room = member.room();
      store.restore(room.id(), member.peer(), router.self(), member.record(), room.view().maxSeq(),
              s.parts().resumption().digest())
          .onComplete(ar -> s.home().runOnContext(w -> {
            if (ar.succeeded() && ar.result().applied()) {
              member.rewritten(ar.result().seq());
              RoomListing listing = RoomListing.of(ar.result().members(), member.peer());
              room.view().merge(listing.members());
              router.announce(listing.nodes(), member.joinedEvent(ar.result().seq()));
            } else if (ar.failed()) {
              log.atWarn().addKeyValue("room", room.id()).addKeyValue("peer", s.peer())
                  .addKeyValue("error", String.valueOf(ar.cause().getMessage())).log("could not write member back");
            }
            done.complete();
          }));
    });
    return done.future();
  }

  /**
   * After the store lost its data: this node's view learns the members of {@code snapshot}, and
   * the session's client those it has not heard of (an away peer learns the room from its
   * resume's snapshot), on the session's event loop.
   */
  private void resync(PeerSession s, RoomStore.Snapshot snapshot) {
    s.home().runOnContext(v -> {
      if (!s.isJoined() && !s.isAway()) {
        return;
      }
      RoomListing listing = RoomListing.of(snapshot.members(), s.peer());
      s.member().room().view().merge(listing.members());
      if (s.isJoined()) {
        listing.others().forEach((other, info) -> s.met(other, ServerMessage.peerJoined(info)));
      }
    });
  }

  /**
   * After the store lost its data, a node that died before it could write its members back
   * leaves nothing for the reaper to find: no record, no peer set. Each node therefore looks at
   * its own rooms: a member whose node has no record a TTL after the loss, and that the store
   * does not list, is gone with its node (if the cluster does not know the node either), and
   * this node's members are told so.
   */
  Future<Integer> forgetDeadNodes() {
    Set<String> nodes = new HashSet<>();
    for (LocalRoom room : rooms.rooms()) {
      nodes.addAll(List.of(room.view().nodes()));
    }
    nodes.remove(router.self());
    if (nodes.isEmpty()) {
      return Future.succeededFuture(0);
    }
    return store.liveNodes(List.copyOf(nodes)).map(live -> {
      List<String> silent = new ArrayList<>(nodes);
      silent.removeAll(live);
      return silent;
    }).compose(this::deadAmong).compose(dead -> {
      if (dead.isEmpty()) {
        return Future.succeededFuture(0);
      }
      return OneAtATime.<LocalRoom, Integer>each(rooms.rooms(), room -> forgetIn(room, dead))
          .map(counts -> counts.stream().mapToInt(Integer::intValue).sum());
    }).onSuccess(n -> {
      if (n > 0) {
        log.atWarn().addKeyValue("node", router.self()).addKeyValue("peers", n)
            .log("members of nodes that died before the store lost its data are announced as lost");
      }
    }).recover(err -> Future.succeededFuture(0));
  }

  /** The nodes of {@code silent} (no record in the store) that the cluster does not know either. */
  private Future<Set<String>> deadAmong(List<String> silent) {
    // A heartbeat may be slower than this node's TTL: the cluster has the last word.
    return OneAtATime.each(silent, inCluster).map(there -> {
      Set<String> dead = new HashSet<>();
      for (int i = 0; i < silent.size(); i++) {
        if (!there.get(i)) {
          dead.add(silent.get(i));
        }
      }
      return dead;
    });
  }

  private Future<Integer> forgetIn(LocalRoom room, Set<String> deadNodes) {
    Map<String, String> members = room.view().presentMembers();
    if (members.values().stream().noneMatch(deadNodes::contains)) {
      return Future.succeededFuture(0);
    }
    return store.snapshot(room.id()).map(snapshot -> {
      Set<String> listed = new HashSet<>();
      snapshot.members().forEach(m -> listed.add(m.peer()));
      int lost = 0;
      for (Map.Entry<String, String> m : members.entrySet()) {
        if (deadNodes.contains(m.getValue()) && !listed.contains(m.getKey())) {
          // This node's own members only: every node holding members of the room does the same.
          router.receive(router.self(), new PeerLeft(room.id(), m.getKey(), snapshot.seq(),
              ServerMessage.peerLeft(m.getKey(), LeaveReason.NODE_LOST)));
          lost++;
        }
      }
      return lost;
    });
  }

  /**
   * The store is back after an outage: every {@code room/peer} it still lists for this node that
   * has no session here any more (it left while the store was out of reach) is removed, one
   * leave at a time, and the leave is announced (clients that already heard of it are not told
   * twice).
   */
  public Future<Integer> reconcile() {
    return store.nodePeers(router.self()).compose(pairs -> {
      List<RoomPeer> gone = pairs.stream().map(RoomPeer::parse).filter(p -> !isHere(p)).toList();
      return OneAtATime.each(gone, this::removeGone);
    }).map(removed -> (int) removed.stream().filter(Boolean::booleanValue).count()).onSuccess(n -> {
      if (n > 0) {
        log.atWarn().addKeyValue("node", router.self()).addKeyValue("peers", n)
            .log("removed from the store the peers that left while it was out of reach");
      }
    });
  }

  private Future<Boolean> removeGone(RoomPeer member) {
    return store.leave(member.room(), member.peer(), router.self()).map(c -> {
      if (c.applied() && !isHere(member)) {
        router.leaveApplied(member.room(), member.peer(), LeaveReason.DISCONNECTED, c);
        return true;
      }
      return false;
    }).recover(err -> Future.succeededFuture(false));
  }

  private boolean isHere(RoomPeer member) {
    LocalRoom room = rooms.get(member.room());
    return room != null && room.session(member.peer()) != null;
  }

  /**
   * The reaper removed {@code peer}, held by the dead {@code deadNode}, from {@code room}: the
   * room's remaining nodes tell their members {@code peer-left} with reason {@code node-lost}; a
   * room left empty loses its media room.
   */
  public void peerLost(String room, String peer, String deadNode, RoomStore.Change change) {
    router.leaveApplied(room, peer, LeaveReason.NODE_LOST, change);
    if (change.nodes().isEmpty() && media.state() != MediaServer.State.OFF) {
      media.destroyRoom(room); // the room is gone: its media room, if it had one, goes too
    }
  }

  /**
   * Another node declared this one dead (it hung, or was cut off) and announced its peers as
   * lost: its room state is stale. Every member's socket is closed so the clients reconnect and
   * join afresh.
   */
  public void dropAll() {
    List<PeerSession> sessions = rooms.sessions();
    log.atWarn().addKeyValue("node", router.self()).addKeyValue("peers", sessions.size())
        .log("closing every member's socket: this node was declared dead, its room state is stale");
    // Each peer ends at once: a resume here would take back a session the others saw end.
    sessions.forEach(s -> s.home().runOnContext(v -> {
      s.closeSocket(CloseCode.GOING_AWAY, "node state lost; reconnect");
      s.leave(LeaveReason.DISCONNECTED);
    }));
  }
}
