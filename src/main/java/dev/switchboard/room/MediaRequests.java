package dev.switchboard.room;

import dev.switchboard.async.OnLoop;
import dev.switchboard.media.JanusError;
import dev.switchboard.media.MediaParticipant;
import dev.switchboard.protocol.ClientMessage;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.ServerMessage;
import io.vertx.core.Context;
import io.vertx.core.Future;

/**
 * What a member of an {@code sfu} room asks of the media server about its own media: publish
 * (the offer of its publishing connection, answered with {@code publish-answer}), unpublish,
 * the answer of its receiving connection to the server's {@code subscribe-offer}, and the
 * candidates of both connections. Each gets exactly one answer: the media server's, or an {@code error} that
 * says whether to fix the message ({@code bad-request}, {@code forbidden}) or retry
 * ({@code unavailable}). Used on the session's event loop only.
 */
final class MediaRequests {

  private final RoomMember member;
  private final SessionSocket link;
  private final Context loop;

  MediaRequests(RoomMember member, SessionSocket link, Context loop) {
    this.member = member;
    this.link = link;
    this.loop = loop;
  }

  void handle(ClientMessage.Media m) {
    MediaParticipant media = member.mediaParticipant();
    if (media == null) {
      link.send(ServerMessage.error(ErrorCode.BAD_REQUEST, m.type() + " is for sfu rooms; room "
          + member.room().id() + " is peer to peer", m.id()));
    } else if (member.role() == ClientMessage.Role.VIEWER && publishes(m)) {
      link.send(ServerMessage.error(ErrorCode.FORBIDDEN, "a viewer cannot publish", m.id()));
    } else if (m instanceof ClientMessage.Publish p) {
      answer(media.publish(p.sdp()).map(sdp -> ServerMessage.publishAnswer(sdp, m.id())), m.id(), member::published);
    } else if (m instanceof ClientMessage.Unpublish) {
      answer(media.unpublish().map(v -> ack(m.id())), m.id(), member::unpublished);
    } else if (m instanceof ClientMessage.SubscribeAnswer a) {
      answer(media.answerSubscription(a.sdp()).map(v -> ack(m.id())), m.id());
    } else if (m instanceof ClientMessage.Trickle t) {
      answer(("subscribe".equals(t.pc()) ? media.trickleSubscription(t.candidate()) : media.trickle(t.candidate()))
          .map(v -> ack(m.id())), m.id());
    }
  }

  /** Whether {@code m} is about the publishing connection, which a viewer does not have. */
  private static boolean publishes(ClientMessage.Media m) {
    return m instanceof ClientMessage.Publish || m instanceof ClientMessage.Unpublish
        || m instanceof ClientMessage.Trickle t && !"subscribe".equals(t.pc());
  }

  /** The ack of a message with {@code id}; none (null) without one. */
  private static String ack(Object id) {
    return id == null ? null : ServerMessage.ack(id);
  }

  /** Sends the frame {@code reply} comes to (none if null), or the error it failed with. */
  private void answer(Future<String> reply, Object id) {
    answer(reply, id, () -> { });
  }

  /** As above; {@code done} runs (on the session's loop) when it succeeded. */
  private void answer(Future<String> reply, Object id, Runnable done) {
    OnLoop.of(loop, reply).onComplete(ar -> {
      if (ar.succeeded()) {
        done.run();
        if (ar.result() != null) {
          link.send(ar.result());
        }
      } else if (ar.cause() instanceof JanusError e && e.refusesInput()) {
        // The media server refused what the client sent (an SDP it cannot take, nothing to unpublish).
        link.send(ServerMessage.error(ErrorCode.BAD_REQUEST, "the media server refused it: " + e.getMessage(), id));
      } else {
        link.send(ServerMessage.error(ErrorCode.UNAVAILABLE, "the media server did not answer; retry later", id));
      }
    });
  }
}
