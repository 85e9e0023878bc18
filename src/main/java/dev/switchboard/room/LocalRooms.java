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

  /** The room, or {@code null} when no local peer is in it. */
  LocalRoom get(String room) {
    return rooms.get(room);
  }

  /** Holds {@code room} for one more local peer, creating it if needed. */
  LocalRoom hold(String room) {
    return rooms.compute(room, (k, r) -> {
      LocalRoom held = r == null ? new LocalRoom(room) : r;
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
