package dev.switchboard.room;

import dev.switchboard.async.OnLoop;
import dev.switchboard.cluster.Envelope;
import dev.switchboard.media.MediaServer;
import dev.switchboard.protocol.ClientMessage;
import dev.switchboard.protocol.CloseCode;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.ServerMessage;
import dev.switchboard.registry.RoomStore;
import io.vertx.core.Future;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A join with nothing to resume, from the client's {@code join} to its welcome or refusal: the
 * peer id held on this node, the member written to the store (which may find the id taken, the
 * room full, a role that does not fit the room's mode, a broadcast room's presenter there
 * already, or its own data lost since this node last looked), and the session welcomed. A join whose store step did not answer is undone, as it may have run. Runs
 * on the session's event loop.
 */
final class FreshJoin {

  private static final Logger log = LoggerFactory.getLogger(FreshJoin.class);

  private final PeerSession session;
  private final PeerSessions sessions;

  FreshJoin(PeerSession session, PeerSessions sessions) {
    this.session = session;
    this.sessions = sessions;
  }

  Future<Void> run(ClientMessage.Join j) {
    long arrived = System.nanoTime();
    return join(j).onSuccess(v -> {
      if (session.isJoined()) {
        sessions.router().metrics().joined(System.nanoTime() - arrived);
      }
    });
  }

  private Future<Void> join(ClientMessage.Join j) {
    String peer = j.peer() != null ? j.peer() : UUID.randomUUID().toString();
    LocalRoom room = sessions.enter(j.room(), peer, session);
    if (room == null) {
      return refuse(ErrorCode.PEER_ID_TAKEN, "peer id " + peer + " is already in room " + j.room(), j.id(),
          CloseCode.PEER_ID_TAKEN);
    }
    RoomMember member = new RoomMember(sessions.router(), sessions.store(), sessions::restoring, room, peer,
        j.role(), j.meta());
    session.becomes(member);
    ResumeToken.Issued token = session.parts().resumption().draw();
    return OnLoop.of(session.home(), member.join(sessions.limits().maxPeers(), token)).transform(ar -> {
      if (ar.failed()) {
        log.atWarn().addKeyValue("room", j.room()).addKeyValue("peer", peer)
            .addKeyValue("error", String.valueOf(ar.cause().getMessage())).log("join failed: store unavailable");
        member.undoJoin();
        return refuseJoined(ErrorCode.UNAVAILABLE, "rooms are unavailable right now; retry later", j.id(),
            CloseCode.UNAVAILABLE);
      }
      RoomStore.JoinResult r = ar.result();
      return switch (r.status()) {
        case TAKEN -> refuseJoined(ErrorCode.PEER_ID_TAKEN, "peer id " + peer + " is already in room "
            + j.room(), j.id(), CloseCode.PEER_ID_TAKEN);
        case FULL -> refuseJoined(ErrorCode.ROOM_FULL, "room " + j.room() + " is full", j.id(),
            CloseCode.UNAVAILABLE);
        // Only a role the join named can misfit: the room's default always fits.
        case ROLE -> refuseJoined(ErrorCode.BAD_REQUEST, j.role() == ClientMessage.Role.PEER
            ? "room " + j.room() + " is a broadcast room: join as presenter or viewer"
            : "role " + j.role().wire() + " needs a broadcast room; room " + j.room() + " is mesh", j.id(),
            CloseCode.BAD_JOIN);
        case PRESENTER_TAKEN -> refuseJoined(ErrorCode.PRESENTER_TAKEN, "room " + j.room() + " has its presenter",
            j.id(), CloseCode.FORBIDDEN);
        case STALE_EPOCH -> {
          sessions.staleEpoch();
          yield refuseJoined(ErrorCode.UNAVAILABLE, "rooms are being restored after a store restart; retry",
              j.id(), CloseCode.UNAVAILABLE);
        }
        case OK -> r.kind().sfu() ? joinMedia(j, member, r, token) : session.welcome(r, token);
      };
    }).recover(err -> failed(j, member, err));
  }

  /**
   * A join that failed for no reason the protocol names (a bug): logged with its cause, undone,
   * and refused {@code unavailable}, close 1011, so that the client retries instead of waiting.
   */
  private Future<Void> failed(ClientMessage.Join j, RoomMember member, Throwable err) {
    log.atError().setCause(err).addKeyValue("room", j.room()).addKeyValue("peer", member.peer())
        .log("join failed unexpectedly; undone");
    member.undoJoin();
    return refuseJoined(ErrorCode.UNAVAILABLE, "the join failed; retry later", j.id(), CloseCode.INTERNAL);
  }

  /**
   * An sfu room: the member takes its place in the room's media room before its welcome. If the
   * media server cannot take it, the join is undone and refused {@code unavailable}: a member of
   * an sfu room without media would be of no use to anyone.
   */
  private Future<Void> joinMedia(ClientMessage.Join j, RoomMember member, RoomStore.JoinResult r,
                                 ResumeToken.Issued token) {
    return enterMedia(session, sessions, member, r.kind()).transform(ar -> {
      if (ar.failed()) {
        log.atWarn().addKeyValue("room", j.room()).addKeyValue("peer", member.peer())
            .addKeyValue("error", String.valueOf(ar.cause().getMessage())).log("join refused: no media room");
        member.undoJoin();
        return refuseJoined(ErrorCode.UNAVAILABLE, "the media server is unavailable; retry later", j.id(),
            CloseCode.UNAVAILABLE);
      }
      return session.welcome(r, token);
    });
  }

  /**
   * {@code member}, of {@code session}, takes its place in the media room of its sfu room (of
   * {@code kind}) through the node's media server; completes on the session's loop, with the
   * place recorded. Janus's
   * offers for its receiving connection reach the client as frames delivered to the session, like
   * those another node forwards: in order with the rest, and held while the client is away.
   */
  static Future<Void> enterMedia(PeerSession session, PeerSessions sessions, RoomMember member,
                                 RoomStore.RoomKind kind) {
    MediaServer media = sessions.media();
    String room = member.room().id();
    String peer = member.peer();
    return OnLoop.of(session.home(), media.join(room, peer, "broadcast".equals(kind.mode()),
        frame -> session.deliver(sessions.router().self(), new Envelope.ClientFrame(room, peer, frame))))
        .map(participant -> {
          member.mediaJoined(participant, media);
          return null;
        });
  }

  /** Refuses the join: an error, then a close. */
  private Future<Void> refuse(ErrorCode code, String message, Object clientId, short closeCode) {
    session.phase(PeerSession.Phase.GONE);
    SessionSocket link = session.parts().link();
    link.send(ServerMessage.error(code, message, clientId));
    link.close(closeCode, code.wire());
    return Future.succeededFuture();
  }

  /** Refuses a join that entered its local room: leaves it, then refuses. */
  private Future<Void> refuseJoined(ErrorCode code, String message, Object clientId, short closeCode) {
    session.exit();
    return refuse(code, message, clientId, closeCode);
  }
}
