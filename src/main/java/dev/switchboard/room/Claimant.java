package dev.switchboard.room;

import dev.switchboard.async.OnLoop;
import dev.switchboard.cluster.Envelope;
import dev.switchboard.cluster.Envelope.Claim;
import dev.switchboard.cluster.Envelope.ClaimRefused;
import dev.switchboard.cluster.Envelope.Handover;
import dev.switchboard.protocol.ClientMessage;
import dev.switchboard.protocol.CloseCode;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.LeaveReason;
import dev.switchboard.protocol.ServerMessage;
import dev.switchboard.registry.RoomStore;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resume through another node, on the node the client came back to. It finds in the store the
 * node that holds the peer, claims the session there with the digest of the client's token
 * ({@link Claim}); that node checks the token as for a resume of its own and hands the session
 * over ({@link Handover}, then what it held, then whatever else reaches it for the peer). Then
 * the member moves here in the store (a sequenced move the room's nodes learn of) and the
 * client is welcomed back. Only the holding node decides whether a token is good, so a claim
 * never takes over an identity the holder would refuse. A holder that died cannot answer: the
 * store, where every welcome's token digest is written, checks the token instead, and the member
 * is adopted from there with what was held for it ({@link #adopt}). Bounded: a holder that has
 * not answered within {@link #MAX_WAIT_MS} leaves the client to try again. Used on the session's
 * event loop only.
 */
final class Claimant {

  private static final Logger log = LoggerFactory.getLogger(Claimant.class);

  /** How often a claim looks whether its holder is still in the cluster: a live node answers in milliseconds. */
  static final long TIMEOUT_MS = 5_000;
  /** How long a claim waits for a live but slow holder at most. */
  static final long MAX_WAIT_MS = 30_000;
  /** How soon an adoption the store refused because the holder was not declared dead yet is tried again. */
  static final long ADOPT_RETRY_MS = 200;

  private final PeerSession session;
  private final PeerSessions sessions;
  private final ClientMessage.Join join;
  private final Promise<PeerSessions.Resumed> done = Promise.promise();
  private LocalRoom room;
  private RoomMember member;
  private String holder;
  private String digest;
  private long timer = -1;
  /** The holder died and the store is asked instead: a hand-over sent just before is not to be taken too. */
  private boolean adopting;

  Claimant(PeerSession session, PeerSessions sessions, ClientMessage.Join join) {
    this.session = session;
    this.sessions = sessions;
    this.join = join;
  }

  /**
   * Claims the peer for {@code session}, which holds it locally meanwhile (what reaches it is
   * queued for after the welcome). {@code FRESH} when the store holds no such peer elsewhere (the
   * caller joins afresh), {@code REFUSED} for a token the holder refuses, {@code GONE} for a
   * session that ended before it could be handed over, {@code UNAVAILABLE} when the store or the
   * holder did not answer.
   */
  Future<PeerSessions.Resumed> start(LocalRoom room) {
    this.room = room;
    Router router = sessions.router();
    OnLoop.of(session.home(), sessions.store().snapshot(join.room())).onComplete(ar -> {
      RoomStore.StoredMember held = ar.failed() ? null
          : ar.result().members().stream().filter(m -> m.peer().equals(join.peer())).findFirst().orElse(null);
      if (ar.failed() || held == null || router.self().equals(held.node())) {
        session.parts().handoff().unclaimed(room, join.peer());
        done.complete(ar.failed() ? PeerSessions.Resumed.UNAVAILABLE : PeerSessions.Resumed.FRESH);
        return;
      }
      holder = held.node();
      member = RoomMember.moving(router, sessions.store(), sessions::restoring, room, held);
      session.becomes(member);
      java.util.Map<String, String> others = new java.util.HashMap<>();
      ar.result().members().stream().filter(m -> !m.peer().equals(join.peer()))
          .forEach(m -> others.put(m.peer(), m.node()));
      session.parts().handoff().claiming(others);
      digest = ResumeToken.digestOf(join.resume());
      long deadline = System.nanoTime() + MAX_WAIT_MS * 1_000_000;
      if (!router.inCluster(holder)) {
        adopt(deadline);
        return;
      }
      router.send(holder, new Claim(join.room(), join.peer(), router.self(), digest, join.received()));
      awaitAnswer(deadline);
    });
    return done.future();
  }

  /**
   * {@code node} left the cluster: if it is the holder, it will not answer the claim; the
   * session is adopted from the store instead, once the node is declared dead.
   */
  void nodeLost(String node) {
    if (node.equals(holder) && timer >= 0 && !done.future().isComplete()) {
      session.home().owner().cancelTimer(timer);
      timer = -1;
      adopt(System.nanoTime() + MAX_WAIT_MS * 1_000_000);
    }
  }

  /**
   * The holder died: the store checks the client's token against the digest the holder wrote
   * there and moves the member here, with what was held for it since ({@link RoomStore#adopt}).
   * Until the reaper has declared the node dead (a second or so after it left the cluster), the
   * store says it may be alive, and the adoption is tried again, up to {@code deadline}.
   */
  private void adopt(long deadline) {
    adopting = true;
    ResumeToken.Issued next = session.parts().resumption().draw();
    OnLoop.of(session.home(), member.adopt(holder, digest, next)).onComplete(ar -> {
      if (ar.failed()) {
        moveFailed(ar.cause(), "resume after the holding node died: the store did not answer");
        return;
      }
      RoomStore.Moved r = ar.result();
      switch (r.status()) {
        case ALIVE -> {
          if (System.nanoTime() < deadline) {
            timer = session.home().owner().setTimer(ADOPT_RETRY_MS, t -> {
              timer = -1;
              adopt(deadline);
            });
          } else {
            giveUp(PeerSessions.Resumed.UNAVAILABLE);
          }
        }
        case REFUSED -> {
          session.parts().handoff().unclaimed(room, join.peer());
          done.complete(PeerSessions.Resumed.REFUSED);
        }
        case ABSENT -> giveUp(PeerSessions.Resumed.GONE); // its window ended, or it resumed elsewhere
        case OK -> {
          RoomListing listing = member.moved(holder, r);
          session.parts().handoff().adopted();
          String token = session.parts().resumption().install(next);
          welcomeMoved(() -> {
            // The node that counted the client's messages died: the welcome cannot say how many it got.
            session.welcomeBack(null, null, listing, r.seq(), token, null, r.held());
            log.atInfo().addKeyValue("room", join.room()).addKeyValue("peer", join.peer())
                .addKeyValue("from", holder).addKeyValue("held", r.held().size())
                .log("resumed through this node after its node died");
          });
        }
        default -> throw new IllegalStateException("unknown move status " + r.status());
      }
    });
  }

  /**
   * Waits for the holder's answer. A holder that left the cluster will not answer: the claim
   * ends then. A live one that is slow is waited for, up to {@code deadline}: giving up on a
   * hand-over that is under way would end the session it hands over.
   */
  private void awaitAnswer(long deadline) {
    timer = session.home().owner().setTimer(TIMEOUT_MS, t -> {
      timer = -1;
      if (!sessions.router().inCluster(holder)) {
        adopt(deadline); // it died: it will not answer
        return;
      }
      if (System.nanoTime() < deadline) {
        awaitAnswer(deadline);
        return;
      }
      log.atWarn().addKeyValue("room", join.room()).addKeyValue("peer", join.peer()).addKeyValue("holder", holder)
          .log("resume through this node: the holding node did not answer the claim in time");
      giveUp(PeerSessions.Resumed.UNAVAILABLE);
    });
  }

  /** The holder's answer to the claim: the session handed over, or refused. */
  void answered(Envelope answer) {
    if (done.future().isComplete() || adopting) {
      return;
    }
    session.home().owner().cancelTimer(timer);
    if (answer instanceof ClaimRefused r) {
      session.parts().handoff().unclaimed(room, join.peer());
      done.complete(ClaimRefused.TOKEN.equals(r.reason()) ? PeerSessions.Resumed.REFUSED
          : PeerSessions.Resumed.GONE);
      return;
    }
    Handover handover = (Handover) answer;
    long told = handover.told();
    ResumeToken.Issued next = session.parts().resumption().draw();
    OnLoop.of(session.home(), member.move(holder, next)).onComplete(ar -> {
      if (ar.failed()) {
        moveFailed(ar.cause(), "resume through this node: the move was not written to the store");
      } else if (!ar.result().applied()) {
        giveUp(PeerSessions.Resumed.GONE); // it left the holder meanwhile
      } else {
        RoomListing listing = member.moved(holder, ar.result());
        session.parts().handoff().inherit(holder, handover.pending());
        String token = session.parts().resumption().install(next);
        // The token shown here stays good for a retry until the client speaks: as after a resume.
        session.parts().resumption().claimedWith(digest, join.received(), told);
        welcomeMoved(() -> {
          session.welcomeBack(null, null, listing, ar.result().seq(), token, told, java.util.List.of());
          log.atInfo().addKeyValue("room", join.room()).addKeyValue("peer", join.peer()).addKeyValue("from", holder)
              .log("resumed through this node");
        });
      }
    });
  }

  /**
   * The member moved here: in an sfu room it first takes a place in the media room through this
   * node (the old node gave its place up with the session; the welcome tells the client to
   * publish and subscribe again), then {@code welcome} runs and the claim is done. What reaches
   * the session meanwhile waits for after the welcome. If the media server cannot take the
   * member, the client is welcomed back all the same, then refused {@code unavailable} and its
   * session ends (close 4503): a member of an sfu room without media is of no use, and a fresh
   * join gets a place once the media server is back.
   */
  private void welcomeMoved(Runnable welcome) {
    if (!member.kind().sfu()) {
      welcome.run();
      done.complete(PeerSessions.Resumed.RESUMED);
      return;
    }
    FreshJoin.enterMedia(session, sessions, member, member.kind()).onComplete(ar -> {
      welcome.run();
      done.complete(PeerSessions.Resumed.RESUMED);
      if (ar.failed()) {
        log.atWarn().addKeyValue("room", join.room()).addKeyValue("peer", join.peer())
            .addKeyValue("error", String.valueOf(ar.cause().getMessage()))
            .log("resumed through this node without a place in the media room: the session ends");
        session.parts().link().send(ServerMessage.error(ErrorCode.UNAVAILABLE,
            "the media server is unavailable; join again later", null));
        session.leave(LeaveReason.DISCONNECTED);
        session.closeSocket(CloseCode.UNAVAILABLE, ErrorCode.UNAVAILABLE.wire());
      }
    });
  }

  /** The store did not answer a move: it may have been written, so it is undone, and the claim ends. */
  private void moveFailed(Throwable cause, String what) {
    log.atWarn().addKeyValue("room", join.room()).addKeyValue("peer", join.peer())
        .addKeyValue("error", String.valueOf(cause.getMessage())).log(what);
    member.undoJoin(); // the peer is not left listed here
    giveUp(PeerSessions.Resumed.UNAVAILABLE);
  }

  /** The claim ends without the session: the holder stops handing on what reaches it. */
  private void giveUp(PeerSessions.Resumed outcome) {
    session.parts().handoff().unclaimed(room, join.peer());
    if (sessions.router().inCluster(holder)) {
      sessions.router().send(holder, new ClaimRefused(join.room(), join.peer(), ClaimRefused.GONE,
          sessions.router().self()));
    }
    done.tryComplete(outcome);
  }
}
