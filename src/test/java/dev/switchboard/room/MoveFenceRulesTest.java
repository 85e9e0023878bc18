package dev.switchboard.room;

import static dev.switchboard.room.InMemoryCluster.peersOf;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.switchboard.registry.RoomStore;
import dev.switchboard.room.InMemoryCluster.Client;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The move fence, in one JVM: what a peer sent from its old node reaches each receiver before
 * what it sends after resuming through another node ({@link Envelope}'s {@code MoveFence},
 * docs/design.md "Resume through another node", step 5), also when the receiver moves too, the
 * sender leaves and joins again, or the old node leaves. {@code HandoffRacesTest} has the first
 * relay case. Links between nodes are held, so each race is a script.
 */
class MoveFenceRulesTest {

  private static final List<String> FLAGS = List.of("--limits-resume-window", "800ms", "--limits-resume-buffer", "8");

  private InMemoryCluster cluster = new InMemoryCluster(FLAGS, "A", "B", "C");

  @AfterEach
  void stop() {
    cluster.close();
  }

  private static JsonObject message(String to, int n) {
    return new JsonObject().put("type", "message").put("to", to).put("data", n);
  }

  private static JsonObject roomMessage(int n) {
    return new JsonObject().put("type", "message").put("data", n);
  }

  /** Bob sends {@code before} from A while A's link to alice's node is held, then resumes through B. */
  private Client movedWithOneInFlight(Client bob, JsonObject before) {
    cluster.node("A").hold("C");
    bob.send(before);
    cluster.settle();
    Client back = bob.resumedThrough(cluster.node("B"));
    cluster.settle();
    return back;
  }

  private static List<String> described(List<JsonObject> frames) {
    return frames.stream().map(f -> f.getString("type") + " " + f.getValue(f.containsKey("data") ? "data" : "peer"))
        .toList();
  }

  @Test
  @DisplayName("a moved peer's room messages: what it sent to the room from its old node arrives first")
  void movedPeersRoomMessagesKeepOrder() {
    Client[] ab = cluster.aliceAndBob();
    Client alice = ab[0];
    Client back = movedWithOneInFlight(ab[1], roomMessage(1));
    back.send(roomMessage(2));
    cluster.settle();
    assertEquals(List.of(), alice.settled(), "message 2 waits at C for what bob sent from A");
    cluster.node("A").release("C");
    assertEquals(List.of("message 1", "message 2"), described(alice.settled()));
  }

  @Test
  @DisplayName("a moved peer that leaves: its peer-left does not overtake what it sent from its old node")
  void movedPeersLeaveAfterItsMessages() {
    Client[] ab = cluster.aliceAndBob();
    Client alice = ab[0];
    Client back = movedWithOneInFlight(ab[1], message("alice", 1));
    back.send(new JsonObject().put("type", "leave"));
    cluster.settle();
    cluster.node("A").release("C");
    assertEquals(List.of("message 1", "peer-left bob"), described(alice.settled()));
  }

  @Test
  @DisplayName("a broadcast's presenter that moved and leaves: its viewer gets what it sent from its old node, then the room closed")
  void movedPresenterLeavesAfterItsMessages() {
    cluster.store.create("room", new RoomStore.RoomKind("broadcast", "p2p"));
    cluster.store.autoRelease();
    Client bob = cluster.node("A").connect();
    bob.send(new JsonObject().put("type", "join").put("room", "room").put("peer", "bob").put("role", "presenter"));
    bob.expect("welcome");
    Client alice = cluster.node("C").join("room", "alice"); // a viewer: the room's default role
    assertEquals(List.of("bob"), peersOf(alice.welcome));
    Client back = movedWithOneInFlight(bob, message("alice", 1));
    back.send(new JsonObject().put("type", "leave"));
    cluster.settle();
    cluster.node("A").release("C");
    assertEquals(List.of("message", "room-closed"), alice.settled().stream().map(f -> f.getString("type")).toList(),
        "held behind the move, the presenter's leave still closes the viewer's room");
  }

  @Test
  @DisplayName("a moved peer's old node leaves the cluster before its move fence came: what waited for it goes on")
  void movedPeersGateOpensWhenItsOldNodeLeaves() {
    Client[] ab = cluster.aliceAndBob();
    Client alice = ab[0];
    Client back = movedWithOneInFlight(ab[1], message("alice", 1));
    back.send(message("alice", 2));
    cluster.settle();
    assertEquals(List.of(), alice.settled());
    cluster.node("C").sessions.nodeLost("A"); // message 1 is lost with A; nothing more comes through it
    assertEquals(List.of("message 2"), described(alice.settled()));
  }

  @Test
  @DisplayName("a move fence that never comes: its gate opens after 5 s, and only its own; a gate shut later keeps its order")
  void gateOpensAfterItsTimeOnly() throws Exception {
    try (InMemoryCluster four = new InMemoryCluster(FLAGS, "A", "B", "C", "D")) {
      Client[] ab = four.aliceAndBob();
      Client alice = ab[0];
      Client dave = four.node("D").join("room", "dave");
      assertEquals(List.of("peer-joined dave"), described(alice.settled()));
      four.node("A").hold("C"); // bob's move fence will not come in time
      four.node("D").hold("C");
      ab[1].send(message("alice", 1));
      four.settle();
      Client bobOnB = ab[1].resumedThrough(four.node("B")); // alice's gate for bob shuts
      four.settle();
      long bobShut = System.nanoTime();
      Thread.sleep(3_000);
      dave.send(message("alice", 10));
      four.settle();
      Client daveOnB = dave.resumedThrough(four.node("B")); // alice's gate for dave shuts, 3 s later
      four.settle();
      bobOnB.send(message("alice", 2));
      daveOnB.send(message("alice", 11));
      four.settle();
      Thread.sleep(FenceGates.MAX_WAIT_NANOS / 1_000_000 + 600 - (System.nanoTime() - bobShut) / 1_000_000);
      four.settle();
      assertEquals(List.of("message 2"), described(alice.settled()), "bob's gate opened; dave's did not");
      four.node("D").release("C");
      four.settle();
      assertEquals(List.of("message 10", "message 11"), described(alice.settled()), "dave's in order");
    }
  }

  // Found by a review of the move fence: each failed before its fix.

  /**
   * The receiver moves while its gate holds: its old session's gate keeps what the moved sender
   * sent from its new node, and what that sender sends later waits behind it, not forwarded past.
   */
  @Test
  @DisplayName("a receiver that moves while its gate holds a moved sender's messages: they go on in order, before the later ones")
  void receiverMovesWhileItsGateHolds() {
    Client[] ab = cluster.aliceAndBob();
    Client alice = ab[0];
    Client back = movedWithOneInFlight(ab[1], message("alice", 1)); // message 1 stuck on A->C; bob now on B
    back.send(message("alice", 2)); // held at C by alice's gate for bob (via A)
    cluster.settle();
    assertEquals(List.of(), alice.settled());
    Client aliceBack = alice.resumedThrough(cluster.node("B")); // alice C->B while her gate at C holds message 2
    cluster.settle();
    back.send(message("alice", 3));
    cluster.settle();
    cluster.node("A").release("C");
    cluster.settle();
    assertEquals(List.of("message 1", "message 2", "message 3"), described(aliceBack.settled()));
  }

  /**
   * A gated peer-left must not be overtaken by the same peer's fresh join: the receiver would
   * drop the join as a peer it knows, then remove the peer for good when the gate opened.
   */
  @Test
  @DisplayName("a moved sender that leaves and joins again: the receiver sees the leave, then the join, and keeps hearing it")
  void leaveAndJoinAgainWhileGated() {
    Client[] ab = cluster.aliceAndBob();
    Client alice = ab[0];
    Client back = movedWithOneInFlight(ab[1], message("alice", 1));
    back.send(new JsonObject().put("type", "leave"));
    cluster.settle();
    Client again = cluster.node("B").join("room", "bob");
    cluster.settle();
    again.send(message("alice", 2));
    cluster.settle();
    cluster.node("A").release("C");
    cluster.settle();
    assertEquals(List.of("message 1", "peer-left bob", "peer-joined bob", "message 2"), described(alice.settled()));
    again.send(message("alice", 3));
    assertEquals(3, alice.expect("message").getInteger("data"), "alice still hears the bob that joined again");
  }

  /**
   * Alice moved C->D earlier; bob's message 1 from A to D is on its way when bob moves A->B. His
   * new session fences alice's recent move, so D's fence gate takes message 2; when that opens,
   * message 2 must still wait at the move gate for A's move fence.
   */
  @Test
  @DisplayName("what a receiver's fence gate lets through still waits at its move gate for the same sender")
  void fenceGateReleaseWaitsAtTheMoveGate() {
    try (InMemoryCluster four = new InMemoryCluster(FLAGS, "A", "B", "C", "D")) {
      Client[] ab = four.aliceAndBob();
      Client alice = ab[0];
      Client bob = ab[1];
      four.node("B").join("room", "carol"); // B holds the room: its view hears of alice's move
      four.settle();
      Client aliceOnD = alice.resumedThrough(four.node("D")); // alice C->D; C forwards for a while
      four.settle();
      four.node("A").hold("D");
      bob.send(message("alice", 1)); // from A straight to D, on its way
      four.settle();
      Client bobOnB = bob.resumedThrough(four.node("B")); // bob A->B: alice's move gate at D shuts for bob, via A
      four.settle();
      bobOnB.send(message("alice", 2)); // bob's new session fences alice's recent move: via C, and direct to D
      four.settle();
      four.node("A").release("D");
      four.settle();
      assertEquals(List.of("message 1", "message 2"), described(aliceOnD.settled()));
    }
  }

  /**
   * Both peers move: bob's message 1 from A is on its way to alice's old node C when alice
   * resumes through B, then bob too. A's move fence must come through C as well, behind message
   * 1, before bob's message 2 from B goes on.
   */
  @Test
  @DisplayName("both peers move at once: what the sender sent to the receiver's old node comes before what it sends after")
  void bothPeersMoveAtOnce() {
    Client[] ab = cluster.aliceAndBob();
    Client alice = ab[0];
    Client bob = ab[1];
    cluster.node("A").hold("C");
    bob.send(message("alice", 1)); // on its way to C
    cluster.settle();
    Client aliceBack = alice.resumedThrough(cluster.node("B")); // alice C->B: C forwards what still reaches it
    cluster.settle();
    Client bobBack = bob.resumedThrough(cluster.node("B")); // bob A->B
    cluster.settle();
    bobBack.send(message("alice", 2));
    cluster.settle();
    assertEquals(List.of(), described(aliceBack.settled()), "message 2 waits for A's fence through C");
    cluster.node("A").release("C");
    cluster.settle();
    assertEquals(List.of("message 1", "message 2"), described(aliceBack.settled()));
  }

  /**
   * Alice moved C->D; bob then moved A->B, whose view (from the store) has alice on D and never
   * saw her move, so bob fences nothing. D must not drop his room message as the direct copy of
   * one coming through C: that holds only for what he sent from A.
   */
  @Test
  @DisplayName("a room message from a moved sender to a peer that moved before it: delivered once, not dropped")
  void roomMessageFromAMovedSenderToAMovedPeer() {
    try (InMemoryCluster four = new InMemoryCluster(FLAGS, "A", "B", "C", "D")) {
      Client[] ab = four.aliceAndBob();
      Client alice = ab[0];
      Client bob = ab[1];
      Client aliceOnD = alice.resumedThrough(four.node("D"));
      four.settle();
      Client bobOnB = bob.resumedThrough(four.node("B"));
      four.settle();
      bobOnB.send(roomMessage(7));
      four.settle();
      assertEquals(List.of("message 7"), described(aliceOnD.settled()));
    }
  }

  // Found by a second review of the move fence: each failed before its fix.

  /**
   * Alice moved C->B; bob then moves A->D, and A's move fence goes to C as well, so alice's gate
   * at B waits for the copy through C. C dies before it passes the copy on: nothing more comes
   * through it, so the gate must open when C leaves, not 5 s later.
   */
  @Test
  @DisplayName("the receiver's old node leaves before the move fence's copy through it came: the gate opens")
  void gateOpensWhenTheReceiversOldNodeLeaves() {
    try (InMemoryCluster four = new InMemoryCluster(FLAGS, "A", "B", "C", "D")) {
      Client[] ab = four.aliceAndBob();
      Client bob = ab[1];
      Client aliceOnB = ab[0].resumedThrough(four.node("B")); // alice C->B; A's view records the move
      four.settle();
      four.node("A").hold("C"); // the copy of A's move fence for C will not get there
      Client bobOnD = bob.resumedThrough(four.node("D")); // alice's gate at B shuts for bob, via A
      four.settle();
      bobOnD.send(message("alice", 2)); // D -> B directly: held until A's fence came by every road
      four.settle();
      assertEquals(List.of(), described(aliceOnB.settled()));
      four.kill("C");
      four.node("B").sessions.nodeLost("C"); // nothing more comes through C
      assertEquals(List.of("message 2"), described(aliceOnB.settled()),
          "the gate waits for a copy through a node that left");
    }
  }
  /**
   * Alice moved C->B. Bob's message 1 from A and both copies of A's move fence (direct, and
   * through C) are on their way when bob moves A->D and then D->E. The copy of D's move fence
   * that comes through C must not open alice's gate for bob's first move: it says nothing of
   * what bob sent from A.
   */
  @Test
  @DisplayName("a later move fence's copy through the receiver's old node opens the earlier move's gate")
  void laterFenceThroughTheOldNodeOpensTheEarlierGate() {
    try (InMemoryCluster five = new InMemoryCluster(FLAGS, "A", "B", "C", "D", "E")) {
      Client[] ab = five.aliceAndBob();
      Client bob = ab[1];
      five.node("D").join("room", "dave"); // D's view hears of alice's move
      five.settle();
      Client aliceOnB = ab[0].resumedThrough(five.node("B")); // alice C->B
      five.settle();
      five.node("A").hold("B");
      five.node("A").hold("C");
      bob.send(message("alice", 1)); // on its way A->B
      five.settle();
      Client bobOnD = bob.resumedThrough(five.node("D")); // alice's gate shuts for bob, via A
      five.settle();
      bobOnD.send(message("alice", 2));
      five.settle();
      Client bobOnE = bobOnD.resumedThrough(five.node("E"));
      five.settle();
      bobOnE.send(message("alice", 3));
      five.settle();
      assertEquals(List.of(), described(aliceOnB.settled()), "all wait behind what bob sent from A");
      five.node("A").release("B");
      five.node("A").release("C");
      five.settle();
      assertEquals(List.of("message 1", "message 2", "message 3"), described(aliceOnB.settled()));
    }
  }
}
