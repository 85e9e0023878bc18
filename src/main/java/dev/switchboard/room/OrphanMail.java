package dev.switchboard.room;

import dev.switchboard.async.OnLoop;
import dev.switchboard.cluster.Envelope;
import dev.switchboard.cluster.Envelope.PeerLeft;
import dev.switchboard.cluster.Envelope.Relay;
import dev.switchboard.cluster.Envelope.RoomMessage;
import dev.switchboard.config.Config;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.LeaveReason;
import dev.switchboard.protocol.ServerMessage;
import dev.switchboard.registry.RoomStore;
import io.vertx.core.Context;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one session sends to orphans: members of its room whose node died and who may still
 * resume on another node within their window. No node can take it for them, so the store holds
 * it ({@link RoomStore#hold}), and the node a peer resumes on sends it first ({@link Claimant}).
 * A message with an {@code id} is acked once held. One store step at a time, in the order sent,
 * so a peer gets one sender's messages in order; a message to a peer with one still waiting here
 * waits behind it, wherever the peer is by then. Bounded: {@link #MAX_WAITING} letters, and
 * {@link #MAX_TRIES} tries each. Used on the session's event loop only.
 */
final class OrphanMail {

  private static final Logger log = LoggerFactory.getLogger(OrphanMail.class);

  /** Letters waiting for the store at most; past it, a relay to an orphan is refused. */
  static final int MAX_WAITING = 256;
  /**
   * How soon a hold is tried again while the store does not know the node is dead yet: the
   * reaper declares it there about a second after it left the cluster.
   */
  static final long RETRY_MS = 200;
  /** Tries per letter: 3 s, well inside {@code limits.ack-timeout}, so a letter given up is answered by this. */
  static final int MAX_TRIES = 15;
  /** What {@link PendingAcks} is told a letter's answer waits on: the store, not a node. */
  static final String STORE = "";

  /** A message for peer {@code to}: a relay (answered if its ref is not 0) or a room message. */
  private record Letter(String to, Envelope message) {
    String frame() {
      return message instanceof Relay r ? r.frame() : ((RoomMessage) message).frame();
    }
  }

  private final Router router;
  private final RoomStore store;
  private final SessionSocket link;
  private final PendingAcks acks;
  private final RoomMember member;
  private final Context loop;
  private final boolean enabled;
  private final int maxFrames;
  private final int maxBytes;
  private final long heldTtlMs;
  private final ArrayDeque<Letter> waiting = new ArrayDeque<>();
  /** Letters waiting, per peer. */
  private final Map<String, Integer> waitingFor = new HashMap<>();
  private boolean sending;

  OrphanMail(Router router, RoomStore store, Config.Limits limits, SessionSocket link, PendingAcks acks,
             RoomMember member, Context loop) {
    this.router = router;
    this.store = store;
    this.link = link;
    this.acks = acks;
    this.member = member;
    this.loop = loop;
    long windowMs = limits.resumeWindow().toMillis();
    // With resume off a dead node's peers leave at once: there is nobody to hold anything for.
    this.enabled = windowMs > 0;
    this.maxFrames = limits.resumeBufferMessages();
    this.maxBytes = limits.resumeBufferBytes();
    // A backstop only: the peer's resume, or its leave when the window ends, drops what is held.
    this.heldTtlMs = windowMs * 2 + 10_000;
  }

  /** Whether a message to {@code to}, routed to {@code node}, goes here: its node died, or earlier ones wait here. */
  boolean takes(String to, String node) {
    return enabled && (waitingFor.containsKey(to) || !router.inCluster(node));
  }

  boolean isFull() {
    return waiting.size() >= MAX_WAITING;
  }

  /** Sends {@code relay} to its orphan ({@link #takes} said so, and it is not {@link #isFull}). */
  void relay(Relay relay) {
    post(new Letter(relay.to(), relay));
  }

  /**
   * A message to the whole room went to its nodes: the members on nodes that died get it here.
   * Past {@link #MAX_WAITING} it is not held for them (the sender had its ack: a message to the
   * room is acked when it leaves), and the log says so.
   */
  void roomMessage(RoomMessage message) {
    if (!enabled) {
      return;
    }
    RoomView view = member.room().view();
    String[] nodes = view.nodes();
    boolean anyDead = false;
    for (String node : nodes) {
      anyDead |= !router.inCluster(node);
    }
    if (!anyDead) {
      return;
    }
    view.presentMembers().forEach((peer, node) -> {
      if (!peer.equals(member.peer()) && !router.inCluster(node)) {
        if (isFull()) {
          log.atWarn().addKeyValue("room", member.room().id()).addKeyValue("peer", peer)
              .log("a room message was not held for a peer whose node died: too many waiting for the store");
        } else {
          post(new Letter(peer, message));
        }
      }
    });
  }

  private void post(Letter letter) {
    waiting.add(letter);
    waitingFor.merge(letter.to(), 1, Integer::sum);
    if (!sending) {
      next();
    }
  }

  private void next() {
    Letter letter = waiting.peek();
    sending = letter != null;
    if (sending) {
      send(letter, 1);
    }
  }

  private void done(Letter letter) {
    waiting.poll();
    waitingFor.computeIfPresent(letter.to(), (peer, n) -> n == 1 ? null : n - 1);
    next();
  }

  /**
   * The letter's turn: straight to the peer's node if it is alive by now (the peer resumed
   * there), else held in the store for it.
   */
  private void send(Letter letter, int attempt) {
    String node = member.room().view().nodeOf(letter.to());
    if (node == null) {
      answer(letter, ErrorCode.PEER_NOT_FOUND, "peer " + letter.to() + " left the room");
      done(letter);
      return;
    }
    if (router.inCluster(node)) {
      forward(letter, node);
      done(letter);
      return;
    }
    OnLoop.of(loop, store.hold(member.room().id(), letter.to(), node, letter.frame(), maxFrames, maxBytes, heldTtlMs))
        .onComplete(ar -> {
          if (ar.failed()) {
            answer(letter, ErrorCode.UNAVAILABLE, "the store did not answer; it may or may not be held for the peer");
            done(letter);
            return;
          }
          switch (ar.result().status()) {
            case HELD -> answer(letter, null, null);
            case MOVED -> forward(letter, ar.result().node());
            case ALIVE -> {
              if (attempt < MAX_TRIES) {
                loop.owner().setTimer(RETRY_MS, t -> send(letter, attempt + 1));
                return;
              }
              answer(letter, ErrorCode.UNAVAILABLE, "the target's node left the cluster and is not declared dead");
            }
            case FULL -> {
              answer(letter, ErrorCode.PEER_NOT_FOUND, "more is held for peer " + letter.to()
                  + " than limits.resume-buffer allows; it leaves");
              overflowed(letter.to(), node);
            }
            case ABSENT -> answer(letter, ErrorCode.PEER_NOT_FOUND, "peer " + letter.to() + " left the room");
            default -> throw new IllegalStateException("unknown hold status " + ar.result().status());
          }
          done(letter);
        });
  }

  /** To the peer's live node, for the peer alone, as its old node would forward it. */
  private void forward(Letter letter, String node) {
    router.send(node, new Envelope.Forwarded(member.room().id(), letter.to(), letter.message()));
  }

  /** Answers a relay's {@code id}: an ack when {@code code} is null, else that error. Room messages get none. */
  private void answer(Letter letter, ErrorCode code, String why) {
    if (!(letter.message() instanceof Relay r) || r.ref() == 0) {
      return;
    }
    Object id = acks.take(r.ref());
    if (id != null) {
      link.send(code == null ? ServerMessage.ack(id) : ServerMessage.error(code, why, id));
    }
  }

  /**
   * More reached an orphan than an away peer may be held: like an away peer, it is treated as
   * gone. The store's leave happens once, whichever sender gets there first, and that sender
   * tells the room.
   */
  private void overflowed(String peer, String deadNode) {
    String room = member.room().id();
    store.reapLeave(room, peer, deadNode).onSuccess(change -> {
      if (change.applied()) {
        log.atInfo().addKeyValue("room", room).addKeyValue("peer", peer)
            .log("more held for a peer whose node died than limits.resume-buffer allows; it leaves");
        router.announce(change.nodes(), new PeerLeft(room, peer, change.seq(),
            ServerMessage.peerLeft(peer, LeaveReason.TIMEOUT)));
      }
    });
  }
}
