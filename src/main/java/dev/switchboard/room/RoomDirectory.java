package dev.switchboard.room;

import java.util.concurrent.ConcurrentHashMap;

/**
 * The rooms this node holds members of, each with its {@link RoomView}. A view lives from the
 * moment a local peer starts joining until the last local peer of the room is gone; events for
 * rooms this node does not hold are ignored (the node is not in the room).
 */
public final class RoomDirectory {

  private final ConcurrentHashMap<String, RoomView> rooms = new ConcurrentHashMap<>();

  /** The view of {@code room}, or {@code null} when no local peer is in it. */
  public RoomView get(String room) {
    return rooms.get(room);
  }

  /** Holds the room's view for one more local peer, creating it if needed. */
  public RoomView hold(String room) {
    return rooms.compute(room, (k, v) -> {
      RoomView view = v == null ? new RoomView() : v;
      view.hold();
      return view;
    });
  }

  /** Releases one local peer's hold; the view goes when the last one is released. */
  public void release(String room) {
    rooms.computeIfPresent(room, (k, v) -> v.release() ? null : v);
  }

  /** Rooms with at least one local peer. */
  public int size() {
    return rooms.size();
  }
}
