package dev.switchboard.room;

import dev.switchboard.cluster.Envelope.Fence;
import java.util.HashMap;
import java.util.Map;

/**
 * The sending side of a move's fence, for one session: before its first message to a peer that
 * moved lately (or to the room, which reaches that peer too), it sends a {@link Fence} to the
 * peer's old node and to its new one. Its earlier messages to the peer went to the old node,
 * which hands them on; the fence follows them there, and the new node holds this sender's
 * direct messages until the fence has come through ({@link FenceGates}). Used on the session's
 * event loop only.
 */
final class SenderFences {

  /** Moves remembered as fenced; past it they are forgotten, and a forgotten one costs one more fence. */
  private static final int MAX_REMEMBERED = 256;

  private final Router router;
  private final String room;
  private final String sender;
  /** Per moved peer, the sequence number of the move this sender fenced; created with the first. */
  private Map<String, Long> fenced;

  SenderFences(Router router, String room, String sender) {
    this.router = router;
    this.room = room;
    this.sender = sender;
  }

  /** Before a message to {@code to}. */
  void beforeRelay(RoomView view, String to) {
    Map<String, RoomView.Move> moves = view.recentMoves();
    if (!moves.isEmpty()) {
      RoomView.Move move = moves.get(to);
      if (move != null) {
        fence(to, move);
      }
    }
  }

  /** Before a message to the whole room. */
  void beforeBroadcast(RoomView view) {
    Map<String, RoomView.Move> moves = view.recentMoves();
    if (!moves.isEmpty()) {
      moves.forEach((peer, move) -> {
        if (!peer.equals(sender)) {
          fence(peer, move);
        }
      });
    }
  }

  private void fence(String to, RoomView.Move move) {
    if (!router.inCluster(move.from())) {
      return; // the old node left: nothing more comes through it, so there is nothing to wait for
    }
    if (fenced == null) {
      fenced = new HashMap<>();
    }
    Long done = fenced.get(to);
    if (done != null && done == move.seq()) {
      return;
    }
    if (fenced.size() >= MAX_REMEMBERED) {
      fenced.clear();
    }
    fenced.put(to, move.seq());
    Fence fence = new Fence(room, to, sender, move.seq(), move.from(), move.node());
    router.send(move.from(), fence);
    router.send(move.node(), fence);
  }
}
