package dev.switchboard.races;

import static dev.switchboard.room.RoomView.EventKind.JOINED;
import static dev.switchboard.room.RoomView.EventKind.LEFT;
import static dev.switchboard.room.RoomView.EventKind.STATE;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.room.RoomView;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Interleavings of one node's RoomView that the cluster can produce, where the view refuses an
 * event that a local member still needs. Each test names the cluster-level interleaving.
 */
@DisplayName("review: RoomView")
class RoomViewRacesTest {

  private static RoomView.Member m(String peer, String node, long seq) {
    return new RoomView.Member(peer, node, seq);
  }

  @Test
  @DisplayName("a newcomer's join is still handed on when another local joiner's snapshot already shows its later state")
  void joinHandedOnWhenSnapshotCarriesLaterState() {
    RoomView view = new RoomView();
    // Node A: member 'a' joined at seq 1 (its own snapshot).
    view.applySnapshot(1, List.of(m("a", "A", 1)));
    // 'n' joins on node B at seq 2; B sends JOINED(n, 2) to A (still on the wire).
    // 'n' changes its state at seq 3; B sends STATE(n, 3) to A, behind the join.
    // 'c' joins on node A at seq 4: its snapshot lists n with its record seq, 3.
    view.applySnapshot(4, List.of(m("a", "A", 1), m("n", "B", 3), m("c", "A", 4)));
    // Now B's events arrive, in order. 'a' saw neither snapshot: it must get peer-joined(n).
    assertTrue(view.apply(JOINED, "n", "B", 2),
        "JOINED(n) refused: member 'a' never gets peer-joined for n, yet gets n's state and n's offers");
    view.apply(STATE, "n", "B", 3);
  }

  @Test
  @DisplayName("a leave between two concurrent local joins is not lost when the later join's snapshot is applied first")
  void leaveNotLostWhenSnapshotsApplyOutOfOrder() {
    RoomView view = new RoomView();
    // y is in the room on node C (joined at seq 0).
    // Node A: 'a' joins at seq 1 (its Redis reply is slow to be handled on its event loop),
    // y leaves at seq 2 (leave.lua lists A among the room's nodes, so LEFT(y, 2) goes to A),
    // 'b' joins on node A at seq 3 and its reply is handled first.
    view.applySnapshot(3, List.of(m("a", "A", 1), m("b", "A", 3)));
    boolean handedOn = view.apply(LEFT, "y", "C", 2);
    // Then 'a''s reply is handled: its snapshot (seq 1) still lists y.
    view.applySnapshot(1, List.of(m("y", "C", 0), m("a", "A", 1)));
    // 'a''s welcome listed y, so 'a' needs peer-left(y) (2 > a's welcome seq 1), and y must not be
    // routed to as a present member.
    assertAll(
        () -> assertTrue(handedOn, "LEFT(y, 2) refused: 'a' lists y in welcome and never gets peer-left"),
        () -> assertNull(view.nodeOf("y"), "y, gone at seq 2, is present again in the view (ghost)"));
  }
}
