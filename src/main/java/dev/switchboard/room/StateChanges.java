package dev.switchboard.room;

import dev.switchboard.async.OnLoop;
import dev.switchboard.protocol.ClientMessage;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.ServerMessage;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import java.util.function.BooleanSupplier;

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

  private final RoomMember member;
  private final PeerSocket client;
  private final Context context;
  private final BooleanSupplier inRoom;
  private Future<Void> tail = Future.succeededFuture();
  private int queued;

  /**
   * Changes of {@code member}, whose session runs on {@code context} and answers its client on
   * {@code client}; {@code inRoom} says whether the peer is still in the room (joined or away).
   */
  StateChanges(RoomMember member, PeerSocket client, Context context, BooleanSupplier inRoom) {
    this.member = member;
    this.client = client;
    this.context = context;
    this.inRoom = inRoom;
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
    if (!inRoom.getAsBoolean()) {
      return Future.succeededFuture();
    }
    JsonObject next = member.state().copy();
    if (change.audio() != null) {
      next.put("audio", change.audio());
    }
    if (change.video() != null) {
      next.put("video", change.video());
    }
    if (change.data() != null) {
      next.put("data", change.data());
    }
    return OnLoop.of(context, member.writeState(next)).transform(ar -> {
      if (ar.failed() && attempt < ATTEMPTS) {
        Promise<Void> retried = Promise.promise();
        context.owner().setTimer(RETRY_MS, t -> apply(change, attempt + 1).onComplete(retried));
        return retried.future();
      }
      if (ar.failed() || !ar.result().applied()) {
        client.send(ServerMessage.error(ErrorCode.UNAVAILABLE, "state could not be saved; retry later", change.id()));
      } else {
        // The room is told; the client too, if it gave an id (held for it while it is away).
        member.stateSaved(ar.result(), next);
        if (change.id() != null && inRoom.getAsBoolean()) {
          client.send(ServerMessage.ack(change.id()));
        }
      }
      return Future.succeededFuture();
    });
  }
}
