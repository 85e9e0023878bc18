package dev.switchboard.room;

import dev.switchboard.protocol.ClientMessage;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

/**
 * One peer's changes of its published state ({@code audio}, {@code video}, {@code data}),
 * written to the store one at a time, in the order the client sent them. A write whose outcome is
 * unknown (the store timed out) is written again: the same record twice is harmless, and the room
 * is told what the store holds, so members and later welcomes agree. Used on the session's event
 * loop only.
 */
final class StateChanges {

  /** Changes queued behind the one in flight. */
  static final int MAX_QUEUED = 8;
  /** Writes of one change at most, while its outcome is unknown. */
  static final int ATTEMPTS = 3;
  /** The pause before a change whose outcome is unknown is written again. */
  static final long RETRY_MS = 500;

  private final PeerSession session;
  private final Vertx vertx;
  private Future<Void> tail = Future.succeededFuture();
  private int queued;

  StateChanges(PeerSession session, Vertx vertx) {
    this.session = session;
    this.vertx = vertx;
  }

  /** Queues {@code change}; false (and nothing queued) when {@link #MAX_QUEUED} are waiting. */
  boolean offer(ClientMessage.State change) {
    if (queued >= MAX_QUEUED) {
      return false;
    }
    queued++;
    tail = tail.transform(ignored -> apply(change, 1)).onComplete(ar -> queued--);
    return true;
  }

  private Future<Void> apply(ClientMessage.State change, int attempt) {
    if (!session.isJoined()) {
      return Future.succeededFuture();
    }
    JsonObject next = session.publishedState().copy();
    if (change.audio() != null) {
      next.put("audio", change.audio());
    }
    if (change.video() != null) {
      next.put("video", change.video());
    }
    if (change.data() != null) {
      next.put("data", change.data());
    }
    return session.writeState(next).transform(ar -> {
      if (ar.failed() && attempt < ATTEMPTS) {
        Promise<Void> retried = Promise.promise();
        vertx.setTimer(RETRY_MS, t -> apply(change, attempt + 1).onComplete(retried));
        return retried.future();
      }
      if (ar.failed() || !ar.result().applied()) {
        session.stateNotSaved(change.id());
      } else {
        session.stateSaved(ar.result(), next, change.id());
      }
      return Future.succeededFuture();
    });
  }
}
