package dev.switchboard.room;

import dev.switchboard.cluster.Envelope.Fence;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The sending side of a move's fence, for one session. Its messages to a peer travel behind one
 * another to the node it routes them to; when that node changes (the peer moved, once or more),
 * what it sent before may still be on its way through the old node and the forwarding chain
 * after it. So before the first message to the new node, it sends a {@link Fence} to the node it
 * last sent to, which passes it along that chain behind what it sent there, and one to the new
 * node, which holds this sender's direct messages until the first has come through
 * ({@link FenceGates}). A message to the whole room reaches a moved peer too: before one, it
 * fences each peer that moved lately. Used on the session's event loop only.
 */
final class SenderFences {

  /** Peers remembered; past it they are forgotten, and a forgotten one costs one more fence. */
  private static final int MAX_REMEMBERED = 256;

  private final Router router;
  private final String room;
  private final String sender;
  /** Per peer, the node this sender last sent to; created with the first message. */
  private Map<String, String> lastRoute;
  /**
   * Numbers this sender's fences, so that a gate tells its own fence from an older one passed
   * along a forwarding chain. Starts from the clock: a sender that moved is a new session, whose
   * fences must still count above its old one's (milliseconds apart at least, a reconnect's
   * round trip).
   */
  private long fences = System.currentTimeMillis() * 1_000;

  SenderFences(Router router, String room, String sender) {
    this.router = router;
    this.room = room;
    this.sender = sender;
  }

  /** Before a message to {@code to}, routed to {@code node}: fenced if the route changed since the last one. */
  void beforeRelay(RoomView view, String to, String node) {
    if (lastRoute == null) {
      lastRoute = new HashMap<>();
    }
    String last = lastRoute.get(to);
    if (node.equals(last)) {
      return;
    }
    if (last == null) {
      // Nothing sent to this peer yet, unless by a message to the room before a move.
      RoomView.Move move = view.recentMoves().get(to);
      last = move != null && move.node().equals(node) ? move.from() : null;
    }
    remember(to, node);
    if (last != null) {
      fence(to, last, node);
    }
  }

  /** Before a message to the whole room, sent to {@code nodes} (read before this call). */
  void beforeBroadcast(RoomView view, String[] nodes) {
    Map<String, RoomView.Move> moves = view.recentMoves();
    if (moves.isEmpty()) {
      return;
    }
    List<String> to = Arrays.asList(nodes);
    moves.forEach((peer, move) -> {
      if (!peer.equals(sender) && to.contains(move.node())) {
        String last = lastRoute == null ? null : lastRoute.get(peer);
        if (!move.node().equals(last)) {
          remember(peer, move.node());
          fence(peer, last != null ? last : move.from(), move.node());
        }
      }
    });
  }

  private void remember(String peer, String node) {
    if (lastRoute == null) {
      lastRoute = new HashMap<>();
    }
    if (lastRoute.size() >= MAX_REMEMBERED && !lastRoute.containsKey(peer)) {
      lastRoute.clear();
    }
    lastRoute.put(peer, node);
  }

  private void fence(String to, String via, String node) {
    if (!router.inCluster(via)) {
      return; // the old node left: nothing more comes through it, so there is nothing to wait for
    }
    Fence fence = new Fence(room, to, sender, ++fences, via, node);
    router.send(via, fence);
    router.send(node, fence);
  }
}
