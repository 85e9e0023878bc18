package dev.switchboard.room;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The rooms this node holds members of. Envelopes for a room it does not hold are not for this
 * node (it is not in the room) and are ignored, or answered {@code peer-not-found}. Thread-safe.
 */
public final class LocalRooms {

  private final ConcurrentHashMap<String, LocalRoom> rooms = new ConcurrentHashMap<>();
  private final MoveWindows windows;
  /** Until when the store's rooms may lack members that are only not written back yet. */
  private volatile long restoringUntilNanos = System.nanoTime();

  /** This node's rooms, whose moves leave traces as long as nodes keep them ({@link MoveWindows#STANDARD}). */
  public LocalRooms() {
    this(MoveWindows.STANDARD);
  }

  LocalRooms(MoveWindows windows) {
    this.windows = windows;
  }

  /** How long the traces of a move last on this node. */
  MoveWindows windows() {
    return windows;
  }

  /**
   * The store lost its data and the nodes are writing their members back, for about
   * {@code ms}: until then a room as the store lists it may lack members that did not leave.
   */
  void restoring(long ms) {
    restoringUntilNanos = System.nanoTime() + ms * 1_000_000;
  }

  /** Whether a member missing from the store's listing may only not be written back yet. */
  boolean restoring() {
    return System.nanoTime() - restoringUntilNanos < 0;
  }

  /** The room, or {@code null} when no local peer is in it. */
  LocalRoom get(String room) {
    return rooms.get(room);
  }

  /** Holds {@code room} for one more local peer, creating it if needed. */
  LocalRoom hold(String room) {
    return rooms.compute(room, (k, r) -> {
      LocalRoom held = r == null ? new LocalRoom(room, windows) : r;
      held.holds++;
      return held;
    });
  }

  /** Releases one local peer's hold; the room goes when the last one is released. */
  void release(LocalRoom room) {
    rooms.computeIfPresent(room.id(), (k, r) -> r != room ? r : --r.holds <= 0 ? null : r);
  }

  /** A copy of every local session, for node-wide steps (restore, clean-up). */
  List<PeerSession> sessions() {
    List<PeerSession> all = new ArrayList<>();
    rooms.values().forEach(r -> all.addAll(r.sessions()));
    return all;
  }

  /** The rooms held now (a snapshot, for node-wide steps). */
  List<LocalRoom> rooms() {
    return List.copyOf(rooms.values());
  }

  /** Rooms with at least one local peer. */
  public int size() {
    return rooms.size();
  }
}
