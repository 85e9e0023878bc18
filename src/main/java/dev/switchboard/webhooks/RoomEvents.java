package dev.switchboard.webhooks;

import io.vertx.core.json.JsonObject;

/**
 * What happened in the rooms, told by the node where it happened, each with the room's sequence
 * number of the change (the store's: events of one room order by it, whichever node told them).
 * Called on event loops: an implementation never blocks and never fails the caller.
 */
public interface RoomEvents {

  /** A node that tells no one (webhooks off, and tests). */
  RoomEvents NONE = new RoomEvents() {
  };

  /** {@code room} has its first member again ({@code mode}, {@code media}: its kind). */
  default void roomStarted(String room, long seq, String mode, String media) {
  }

  /** {@code room}'s last member left. */
  default void roomFinished(String room, long seq) {
  }

  default void peerJoined(String room, long seq, String peer, String role) {
  }

  /** {@code reason} is the {@code peer-left} reason the room was told. */
  default void peerLeft(String room, long seq, String peer, String reason) {
  }

  default void peerState(String room, long seq, String peer, JsonObject state) {
  }

  /** In an sfu room, {@code peer} started publishing through the media server ({@code seq}: the room's last change). */
  default void publishStarted(String room, long seq, String peer) {
  }

  /** In an sfu room, {@code peer} stopped publishing (it unpublished, or left). */
  default void publishStopped(String room, long seq, String peer) {
  }
}
