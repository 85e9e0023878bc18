package dev.switchboard.room;

import dev.switchboard.cluster.Envelope.PeerJoined;
import dev.switchboard.cluster.Envelope.PeerLeft;
import dev.switchboard.cluster.Envelope.PeerMoved;
import dev.switchboard.cluster.Envelope.PeerStateChanged;
import dev.switchboard.media.MediaParticipant;
import dev.switchboard.media.MediaServer;
import dev.switchboard.protocol.ClientMessage;
import dev.switchboard.protocol.LeaveReason;
import dev.switchboard.protocol.PeerInfo;
import dev.switchboard.protocol.ServerMessage;
import dev.switchboard.registry.RoomStore;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * A peer as a member of its room: who it is and what it published, its changes in the store
 * (join, state, leave), and their announcement to the room's nodes at the sequence numbers the
 * store gave them. Its {@link PeerSession} decides when each happens; this knows how. Futures
 * complete on whatever thread the store answers on. Used on the session's event loop only.
 */
final class RoomMember {

  /** How long undoing a join whose answer did not come may take: it queues behind that slow join. */
  private static final long UNDO_TIMEOUT_MS = 30_000;

  private final Router router;
  private final RoomStore store;
  private final BooleanSupplier restoring;
  private final LocalRoom room;
  private final String peer;
  /** Null until the store chose the room's default role for a join that asked for none. */
  private ClientMessage.Role role;
  private final JsonObject meta;
  private final long joinedAt;
  private JsonObject state = new JsonObject();
  /** The room's sequence number of this member's last change in the store. */
  private long lastSeq;
  /** The room's kind, as the store answered the join or the move here (null until then). */
  private RoomStore.RoomKind kind;
  /** In an sfu room: the member's place in the media room, and the node's media server. */
  private MediaParticipant media;
  private MediaServer mediaServer;
  /** The place in the media room was taken since the last welcome: the client's connections to it are void. */
  private boolean mediaRenewed;
  /** The member publishes through the media server (its last publish was answered, no unpublish since). */
  private boolean publishing;

  /** {@code restoring} says whether the store may still lack members after a loss of its data. */
  RoomMember(Router router, RoomStore store, BooleanSupplier restoring, LocalRoom room, String peer,
             ClientMessage.Role role, JsonObject meta) {
    this(router, store, restoring, room, peer, role, meta, System.currentTimeMillis());
  }

  private RoomMember(Router router, RoomStore store, BooleanSupplier restoring, LocalRoom room, String peer,
                     ClientMessage.Role role, JsonObject meta, long joinedAt) {
    this.joinedAt = joinedAt;
    this.router = router;
    this.store = store;
    this.restoring = restoring;
    this.room = room;
    this.peer = peer;
    this.role = role;
    this.meta = meta;
  }

  /**
   * The member as the store lists it, {@code stored}, about to move to this node: the same
   * identity, published state and join time.
   */
  static RoomMember moving(Router router, RoomStore store, BooleanSupplier restoring, LocalRoom room,
                           RoomStore.StoredMember stored) {
    JsonObject rec = stored.record();
    RoomMember m = new RoomMember(router, store, restoring, room, stored.peer(),
        ClientMessage.Role.fromWire(rec.getString("role", "peer")), rec.getJsonObject("meta", new JsonObject()),
        rec.getLong("joinedAt", System.currentTimeMillis()));
    m.state = rec.getJsonObject("state", new JsonObject());
    return m;
  }

  LocalRoom room() {
    return room;
  }

  String peer() {
    return peer;
  }

  JsonObject state() {
    return state;
  }

  ClientMessage.Role role() {
    return role;
  }

  /** The record the store keeps of this member. */
  JsonObject record() {
    // The role first: for a join that asked for none, the store writes the one it chose there.
    return new JsonObject()
        .put("role", role == null ? "" : role.wire())
        .put("node", router.self())
        .put("meta", meta)
        .put("state", state)
        .put("joinedAt", joinedAt);
  }

  PeerJoined joinedEvent(long seq) {
    return new PeerJoined(room.id(), peer, router.self(), seq,
        ServerMessage.peerJoined(new PeerInfo(peer, meta, state, role)));
  }

  /** Writes the member to the store, with the digest of {@code token}, the welcome's (null if none). */
  Future<RoomStore.JoinResult> join(int maxPeers, ResumeToken.Issued token) {
    return store.join(room.id(), peer, router.self(), record(), maxPeers, digestOf(token));
  }

  private static String digestOf(ResumeToken.Issued token) {
    return token == null ? null : token.digest();
  }

  /**
   * The store admitted the member at {@code r.seq()}: this node's view takes the room as the
   * store listed it, and every node of the room learns of the join (before this peer can send
   * anything). Returns the room as listed, for the welcome.
   */
  RoomListing joined(RoomStore.JoinResult r) {
    lastSeq = r.seq();
    kind = r.kind();
    role = ClientMessage.Role.fromWire(r.role());
    RoomListing listing = seen(r.seq(), r.members());
    router.announce(listing.nodes(), joinedEvent(r.seq()));
    if (r.members().size() == 1) {
      router.events().roomStarted(room.id(), r.seq(), kind.mode(), kind.media());
    }
    router.events().peerJoined(room.id(), r.seq(), peer, role.wire());
    return listing;
  }

  /**
   * This node's view takes the room as the store has it at {@code seq}; returns it as listed.
   * While the store's data is being written back after a loss, a member it does not list may
   * only not be written back yet: the view then learns from the listing but drops no one.
   */
  RoomListing seen(long seq, java.util.List<RoomStore.StoredMember> members) {
    RoomListing listing = RoomListing.of(members, peer);
    if (restoring.getAsBoolean()) {
      room.view().merge(listing.members());
    } else {
      room.view().applySnapshot(seq, listing.members());
    }
    return listing;
  }

  /**
   * A join whose answer did not come may still have run in the store, and others may have seen
   * the peer in their welcome: remove it, and if it was there, say so to the room.
   */
  void undoJoin() {
    store.leave(room.id(), peer, router.self(), UNDO_TIMEOUT_MS).onSuccess(c -> {
      if (c.applied()) {
        router.announce(c.nodes(), new PeerLeft(room.id(), peer, c.seq(),
            ServerMessage.peerLeft(peer, LeaveReason.DISCONNECTED)));
      }
    });
  }

  /** Writes this member's record with {@code next} as its state. */
  Future<RoomStore.Change> writeState(JsonObject next) {
    return store.updateMember(room.id(), peer, router.self(), record().put("state", next));
  }

  /** The store holds {@code next} as of {@code change}: the room's nodes are told. */
  void stateSaved(RoomStore.Change change, JsonObject next) {
    state = next;
    lastSeq = Math.max(lastSeq, change.seq());
    router.announce(change.nodes(),
        new PeerStateChanged(room.id(), peer, change.seq(), ServerMessage.peerState(peer, next)));
    router.events().peerState(room.id(), change.seq(), peer, next);
  }

  /** The member was written again (after the store lost its data) at sequence {@code seq}. */
  void rewritten(long seq) {
    lastSeq = Math.max(lastSeq, seq);
  }

  /**
   * Moves the member from node {@code from} to this one in the store, if {@code from} still
   * holds it, with the digest of {@code token}, the new welcome's.
   */
  Future<RoomStore.Moved> move(String from, ResumeToken.Issued token) {
    return store.move(room.id(), peer, from, router.self(), digestOf(token));
  }

  /**
   * Moves the member from the dead node {@code dead} to this one in the store, if the client's
   * token ({@code presentedDigest}) is the member's: {@link RoomStore#adopt}.
   */
  Future<RoomStore.Moved> adopt(String dead, String presentedDigest, ResumeToken.Issued token) {
    return store.adopt(room.id(), peer, dead, router.self(), presentedDigest, digestOf(token));
  }

  /** The member resumed here: the store keeps the digest of {@code token}, the new welcome's. Returns the room now. */
  Future<RoomStore.Snapshot> rekey(ResumeToken.Issued token) {
    return store.rekey(room.id(), peer, router.self(), digestOf(token));
  }

  /**
   * The store moved the member here at {@code r.seq()}: this node's view takes the room as
   * listed, and the room's nodes, {@code from} included, learn of the move. Returns the room as
   * listed, for the welcome.
   */
  RoomListing moved(String from, RoomStore.Moved r) {
    lastSeq = r.seq();
    kind = r.kind();
    // The state as stored now: the old node may have written a change since the claim read it.
    r.members().stream().filter(m -> m.peer().equals(peer)).findFirst()
        .ifPresent(m -> state = m.record().getJsonObject("state", state));
    room.view().moved(peer, from, router.self(), r.seq()); // first: this node's senders fence too
    RoomListing listing = seen(r.seq(), r.members());
    java.util.Set<String> nodes = new java.util.LinkedHashSet<>(listing.nodes());
    nodes.add(from);
    router.announce(nodes, new PeerMoved(room.id(), peer, from, router.self(), r.seq()));
    return listing;
  }

  /** The room's kind (null before the store admitted the member here). */
  RoomStore.RoomKind kind() {
    return kind;
  }

  /** The member has its place in the media room of its sfu room, joined through {@code server}. */
  void mediaJoined(MediaParticipant participant, MediaServer server) {
    media = participant;
    mediaServer = server;
    mediaRenewed = true;
  }

  /**
   * What the next welcome says of the room: its kind, and in an sfu room who publishes and
   * whether the client's media connections stand (they do unless the place was taken anew since
   * the last welcome).
   */
  ServerMessage.WelcomeRoom welcomeRoom() {
    RoomStore.RoomKind k = kind != null ? kind : RoomStore.RoomKind.MESH;
    if (!k.sfu()) {
      return ServerMessage.WelcomeRoom.p2p(k.mode());
    }
    boolean kept = !mediaRenewed;
    mediaRenewed = false;
    return new ServerMessage.WelcomeRoom(k.mode(), k.media(), media != null ? media.publishers() : List.of(), kept);
  }

  /** The media server answered the member's publish: the first one starts its publishing. */
  void published() {
    if (!publishing) {
      publishing = true;
      router.events().publishStarted(room.id(), room.view().maxSeq(), peer);
    }
  }

  /** The member unpublished. */
  void unpublished() {
    if (publishing) {
      publishing = false;
      router.events().publishStopped(room.id(), room.view().maxSeq(), peer);
    }
  }

  /** The member's place in the media room of its sfu room; null in a peer-to-peer room. */
  MediaParticipant mediaParticipant() {
    return media;
  }

  /** The member leaves the media room (it leaves the room, or its session moved to another node). */
  void leaveMedia() {
    if (media != null) {
      unpublished(); // what it published goes with its place in the media room
      media.leave();
    }
  }

  /** Leaves the room in the store, and its media room. */
  Future<RoomStore.Change> leave() {
    leaveMedia();
    return store.leave(room.id(), peer, router.self());
  }

  /**
   * Tells the room the member left with {@code reason}, given what the store's leave came to.
   * The store unreachable, or no longer listing the peer (it lost its data, or the peer was
   * reaped): the nodes this one knows of are told, so no one waits on a ghost, sequenced just
   * after the member's last change; a view that already knows better ignores it, and a client
   * that never saw the peer is not told.
   */
  void left(AsyncResult<RoomStore.Change> stored, LeaveReason reason) {
    router.metrics().left(reason.wire());
    boolean emptied = stored.succeeded() && stored.result().applied() && stored.result().nodes().isEmpty();
    if (mediaServer != null && (emptied || role == ClientMessage.Role.PRESENTER)) {
      // The room's last member, or a broadcast's presenter, left: its media room goes. Exactly one
      // leave empties a room in the store, so exactly one node destroys it.
      mediaServer.destroyRoom(room.id());
    }
    if (stored.succeeded() && stored.result().applied()) {
      // One that did not apply is told to other services by the node that removes the member
      // later: the reaper's, or this one's reconcile.
      router.leaveApplied(room.id(), peer, reason, stored.result());
    } else {
      router.announce(room.view().nodes(), new PeerLeft(room.id(), peer, lastSeq + 1,
          ServerMessage.peerLeft(peer, reason)));
    }
  }
}
