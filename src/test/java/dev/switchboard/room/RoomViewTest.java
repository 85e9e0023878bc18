package dev.switchboard.room;

import static dev.switchboard.room.RoomView.EventKind.JOINED;
import static dev.switchboard.room.RoomView.EventKind.LEFT;
import static dev.switchboard.room.RoomView.EventKind.STATE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("RoomView")
class RoomViewTest {

  private final RoomView view = new RoomView();

  private static RoomView.Member m(String peer, String node, long seq) {
    return new RoomView.Member(peer, node, seq);
  }

  private Set<String> nodes() {
    return new TreeSet<>(Arrays.asList(view.nodes()));
  }

  // --- plain events ---

  @Test
  @DisplayName("a new view knows no nodes and no members")
  void empty() {
    assertArrayEquals(new String[0], view.nodes());
    assertNull(view.nodeOf("alice"));
  }

  @Test
  @DisplayName("a join of an unknown peer is accepted and records its node")
  void joinAccepted() {
    assertTrue(view.apply(JOINED, "alice", "A", 1));
    assertEquals("A", view.nodeOf("alice"));
    assertArrayEquals(new String[] {"A"}, view.nodes());
  }

  @Test
  @DisplayName("the same join delivered twice is accepted only once")
  void duplicateJoin() {
    assertTrue(view.apply(JOINED, "alice", "A", 1));
    assertFalse(view.apply(JOINED, "alice", "A", 1));
  }

  @Test
  @DisplayName("a leave after a join is accepted and removes the member")
  void leaveAccepted() {
    view.apply(JOINED, "alice", "A", 1);
    assertTrue(view.apply(LEFT, "alice", "A", 2));
    assertNull(view.nodeOf("alice"));
    assertArrayEquals(new String[0], view.nodes());
  }

  @Test
  @DisplayName("a state change of a present member is accepted and keeps its node")
  void stateAccepted() {
    view.apply(JOINED, "alice", "A", 1);
    assertTrue(view.apply(STATE, "alice", "ignored-node", 2));
    assertEquals("A", view.nodeOf("alice"));
  }

  @Test
  @DisplayName("a state change older than the member's last change is refused")
  void staleStateRefused() {
    view.apply(JOINED, "alice", "A", 1);
    view.apply(STATE, "alice", "A", 5);
    assertFalse(view.apply(STATE, "alice", "A", 4));
    assertFalse(view.apply(STATE, "alice", "A", 5));
  }

  @Test
  @DisplayName("a state change of an unknown peer is refused")
  void stateOfUnknownRefused() {
    assertFalse(view.apply(STATE, "ghost", "A", 3));
    assertNull(view.nodeOf("ghost"));
  }

  @Test
  @DisplayName("a state change of a peer that left is refused")
  void stateAfterLeaveRefused() {
    view.apply(JOINED, "alice", "A", 1);
    view.apply(LEFT, "alice", "A", 2);
    assertFalse(view.apply(STATE, "alice", "A", 3));
    assertNull(view.nodeOf("alice"));
  }

  @Test
  @DisplayName("a join older than a leave already applied does not bring the peer back")
  void lateJoinAfterLeave() {
    assertTrue(view.apply(LEFT, "alice", "A", 2));
    assertFalse(view.apply(JOINED, "alice", "A", 1));
    assertNull(view.nodeOf("alice"));
  }

  // --- peers moving between nodes ---

  @Test
  @DisplayName("a stale leave from a peer's old node, after it rejoined elsewhere with a higher seq, is refused")
  void staleLeaveFromOldNode() {
    assertTrue(view.apply(JOINED, "alice", "A", 1));
    // alice reconnects on node B; B's join (seq 3) arrives before A's leave (seq 2).
    assertTrue(view.apply(JOINED, "alice", "B", 3));
    assertFalse(view.apply(LEFT, "alice", "A", 2));
    assertEquals("B", view.nodeOf("alice"));
    assertArrayEquals(new String[] {"B"}, view.nodes());
  }

  @Test
  @DisplayName("a rejoin on another node moves the member to that node")
  void rejoinMoves() {
    view.apply(JOINED, "alice", "A", 1);
    view.apply(LEFT, "alice", "A", 2);
    assertTrue(view.apply(JOINED, "alice", "B", 3));
    assertEquals("B", view.nodeOf("alice"));
    assertEquals(Set.of("B"), nodes());
  }

  // --- snapshots ---

  @Test
  @DisplayName("a snapshot makes its members known with their nodes")
  void snapshotMembers() {
    view.applySnapshot(10, List.of(m("alice", "A", 4), m("bob", "B", 9)));
    assertEquals("A", view.nodeOf("alice"));
    assertEquals("B", view.nodeOf("bob"));
    assertEquals(Set.of("A", "B"), nodes());
  }

  @Test
  @DisplayName("events for unknown peers at or below a snapshot's seq are handed on once but do not make them present")
  void eventsCoveredBySnapshotDoNotRoute() {
    view.applySnapshot(10, List.of(m("alice", "A", 4)));
    assertTrue(view.apply(JOINED, "carol", "C", 7), "members that did not see the snapshot still get it");
    assertFalse(view.apply(JOINED, "carol", "C", 7), "once");
    assertNull(view.nodeOf("carol"), "the snapshot at 10 did not list carol: she is gone");
    assertTrue(view.apply(LEFT, "carol", "C", 9));
    assertNull(view.nodeOf("carol"));
    assertEquals(Set.of("A"), nodes());
  }

  @Test
  @DisplayName("after the first snapshot, an event for an unknown peer above its seq is accepted")
  void eventsAfterSnapshotAccepted() {
    view.applySnapshot(10, List.of());
    assertTrue(view.apply(JOINED, "carol", "C", 11));
    assertEquals("C", view.nodeOf("carol"));
  }

  @Test
  @DisplayName("a snapshot-learned member still accepts the event of the same seq, exactly once")
  void snapshotEntrySameSeqOnce() {
    view.applySnapshot(10, List.of(m("alice", "A", 9)));
    assertTrue(view.apply(JOINED, "alice", "A", 9), "the join event must still reach members who did not see the snapshot");
    assertFalse(view.apply(JOINED, "alice", "A", 9), "but only once");
    assertEquals("A", view.nodeOf("alice"));
  }

  @Test
  @DisplayName("events older than a snapshot-learned member's record do not move it, and each is handed on at most once, in order")
  void snapshotEntryOlderDoesNotRoute() {
    view.applySnapshot(10, List.of(m("alice", "A", 9)));
    assertTrue(view.apply(JOINED, "alice", "A", 8), "the join the snapshot covered, for members that did not see it");
    assertFalse(view.apply(LEFT, "alice", "Z", 5), "older than what was handed on");
    assertEquals("A", view.nodeOf("alice"));
  }

  @Test
  @DisplayName("a snapshot-learned member's state event of the same seq is accepted once")
  void snapshotEntryStateSameSeqOnce() {
    view.applySnapshot(10, List.of(m("alice", "A", 8)));
    assertTrue(view.apply(STATE, "alice", "A", 8));
    assertFalse(view.apply(STATE, "alice", "A", 8));
  }

  @Test
  @DisplayName("a snapshot does not overwrite a member the view already knows at a newer seq")
  void snapshotOlderThanView() {
    view.apply(JOINED, "alice", "B", 12);
    view.applySnapshot(10, List.of(m("alice", "A", 4)));
    assertEquals("B", view.nodeOf("alice"));
    assertFalse(view.apply(JOINED, "alice", "B", 12));
  }

  @Test
  @DisplayName("a snapshot marks an older member it does not list as gone")
  void snapshotMarksAbsentGone() {
    view.apply(JOINED, "alice", "A", 3);
    view.apply(JOINED, "bob", "B", 4);
    view.applySnapshot(10, List.of(m("bob", "B", 4)));
    assertNull(view.nodeOf("alice"));
    assertEquals("B", view.nodeOf("bob"));
    assertEquals(Set.of("B"), nodes());
  }

  @Test
  @DisplayName("the leave of a member a snapshot marked gone is still accepted, once")
  void leaveAfterSnapshotMarkedGone() {
    view.apply(JOINED, "alice", "A", 3);
    view.applySnapshot(10, List.of());
    assertTrue(view.apply(LEFT, "alice", "A", 7), "the members that saw alice join must see her leave");
    assertFalse(view.apply(LEFT, "alice", "A", 7));
    assertNull(view.nodeOf("alice"));
  }

  @Test
  @DisplayName("a snapshot keeps a member it does not list when the member is newer than the snapshot")
  void snapshotKeepsNewerMember() {
    view.apply(JOINED, "alice", "A", 12);
    view.applySnapshot(10, List.of());
    assertEquals("A", view.nodeOf("alice"));
    assertEquals(Set.of("A"), nodes());
  }

  @Test
  @DisplayName("a later snapshot does not move the base: events between the two snapshots are still accepted")
  void secondSnapshotKeepsBase() {
    view.applySnapshot(10, List.of());
    view.applySnapshot(20, List.of(m("erin", "E", 15)));
    assertTrue(view.apply(JOINED, "frank", "F", 12));
    assertTrue(view.apply(JOINED, "erin", "E", 15));
  }

  @Test
  @DisplayName("a member learned from one snapshot and dropped by a later one still gets its join and its leave handed on")
  void snapshotLearnedThenDroppedBySecondSnapshot() {
    // Snapshot 1 (a local newcomer's join) lists bob, whose join event (seq 9, from node B) is
    // still on its way. Snapshot 2 (another newcomer) no longer lists bob: he left at seq 15.
    view.applySnapshot(10, List.of(m("bob", "B", 9)));
    view.applySnapshot(20, List.of());
    assertNull(view.nodeOf("bob"));
    // B's events arrive in order. The local members that joined before seq 9 saw neither
    // snapshot: they must get bob's join, and then his leave, not a leave alone.
    assertTrue(view.apply(JOINED, "bob", "B", 9), "the join of a snapshot-learned entry must be handed on once");
    assertTrue(view.apply(LEFT, "bob", "B", 15), "the newcomer of snapshot 1 saw bob and must see him leave");
    assertNull(view.nodeOf("bob"));
  }

  // --- nodes() ---

  @Test
  @DisplayName("nodes() lists each node holding present members once")
  void nodesDistinct() {
    view.apply(JOINED, "a1", "A", 1);
    view.apply(JOINED, "a2", "A", 2);
    view.apply(JOINED, "b1", "B", 3);
    view.apply(JOINED, "c1", "C", 4);
    assertEquals(3, view.nodes().length);
    assertEquals(Set.of("A", "B", "C"), nodes());
  }

  @Test
  @DisplayName("nodes() drops a node when its last member leaves, not before")
  void nodesDropsEmptyNode() {
    view.apply(JOINED, "a1", "A", 1);
    view.apply(JOINED, "a2", "A", 2);
    view.apply(JOINED, "b1", "B", 3);
    view.apply(LEFT, "a1", "A", 4);
    assertEquals(Set.of("A", "B"), nodes());
    view.apply(LEFT, "a2", "A", 5);
    assertEquals(Set.of("B"), nodes());
  }

  @Test
  @DisplayName("a refused event does not change nodes()")
  void refusedEventKeepsNodes() {
    view.apply(JOINED, "alice", "A", 5);
    view.apply(LEFT, "alice", "A", 4);
    assertEquals(Set.of("A"), nodes());
  }

  // --- bounded tombstones ---

  @Test
  @DisplayName("after 2000 join/leave pairs, nodes() holds only the present members' nodes")
  void manyPairsNodes() {
    view.apply(JOINED, "stay", "S", 0);
    long seq = 1;
    for (int i = 0; i < 2000; i++) {
      assertTrue(view.apply(JOINED, "p" + i, "N" + (i % 7), seq++), "join " + i);
      assertTrue(view.apply(LEFT, "p" + i, "N" + (i % 7), seq++), "leave " + i);
    }
    assertEquals(Set.of("S"), nodes());
    assertEquals("S", view.nodeOf("stay"));
    assertTrue(view.apply(STATE, "stay", "S", seq), "a long-present member still takes events");
  }

  @Test
  @DisplayName("after 2000 join/leave pairs, a replayed join older than every kept tombstone is applied again")
  void manyPairsOldJoinReapplied() {
    long seq = 1;
    for (int i = 0; i < 2000; i++) {
      view.apply(JOINED, "p" + i, "N", seq++);
      view.apply(LEFT, "p" + i, "N", seq++);
    }
    // The trade-off RoomView documents: tombstones are bounded, so a join older than all of
    // them is taken as new (a ghost costs a NACK); a recent one is still recognised as stale.
    assertTrue(view.apply(JOINED, "p0", "N", 1));
    assertEquals("N", view.nodeOf("p0"));
    assertFalse(view.apply(JOINED, "p1999", "N", 3999), "a recent tombstone still refuses its replay");
    assertNull(view.nodeOf("p1999"));
  }

  @Test
  @DisplayName("after 2000 join/leave pairs, a late join of a recent departed peer is refused")
  void manyPairsRecentJoinRefused() {
    long seq = 1;
    for (int i = 0; i < 2000; i++) {
      view.apply(JOINED, "p" + i, "N", seq++);
      view.apply(LEFT, "p" + i, "N", seq++);
    }
    // p1999 joined at 3999 and left at 4000: its tombstone is recent.
    assertFalse(view.apply(JOINED, "p1999", "N", 3999));
    assertFalse(view.apply(JOINED, "p1990", "N", 3981));
    assertNull(view.nodeOf("p1999"));
  }

  @Test
  @DisplayName("after 2000 join/leave pairs, a new peer's join and a departed peer's rejoin are accepted")
  void manyPairsNewEventsAccepted() {
    long seq = 1;
    for (int i = 0; i < 2000; i++) {
      view.apply(JOINED, "p" + i, "N", seq++);
      view.apply(LEFT, "p" + i, "N", seq++);
    }
    assertTrue(view.apply(JOINED, "newcomer", "X", seq++));
    assertTrue(view.apply(JOINED, "p0", "Y", seq++));
    assertEquals(Set.of("X", "Y"), nodes());
  }

  @Test
  @DisplayName("pruning tombstones does not refuse a late join of a peer the view never saw")
  void pruningKeepsLateJoinOfUnseenPeer() {
    // No snapshot, or one at seq 0: nothing covers seq 1 yet.
    view.applySnapshot(0, List.of());
    // xavier joins on node B at seq 1; B's event is delayed. Meanwhile node A's room sees 300
    // short visits (seq 2..601), enough departures to prune tombstones.
    long seq = 2;
    for (int i = 0; i < 300; i++) {
      view.apply(JOINED, "p" + i, "A", seq++);
      view.apply(LEFT, "p" + i, "A", seq++);
    }
    // xavier is still in the room: his join is new to this view, not stale.
    assertTrue(view.apply(JOINED, "xavier", "B", 1), "a present peer's join was refused after pruning");
    assertEquals("B", view.nodeOf("xavier"));
    assertEquals(Set.of("B"), nodes());
  }

  // --- holders ---

  @Test
  @DisplayName("release() reports when the last local holder is gone")
  void holders() {
    view.hold();
    view.hold();
    assertTrue(view.isHeld());
    assertFalse(view.release());
    assertTrue(view.release());
    assertFalse(view.isHeld());
  }
}
