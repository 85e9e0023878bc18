package dev.switchboard.room;

/**
 * How long the traces of a move last (docs/design.md, "Resume through another node"): for
 * {@code fenceWindowNanos} after a move its senders fence their first message to the moved peer,
 * and the moved peer's old node forwards for {@code forwarderLingerMs} after the hand-over, which
 * must outlast the fence window and any relay's wait for its answer. One pair per node
 * ({@link LocalRooms}); tests of what happens once they have passed shorten them.
 */
record MoveWindows(long fenceWindowNanos, long forwarderLingerMs) {

  /** What nodes run with: far longer than anything sent before a move takes to arrive. */
  static final MoveWindows STANDARD = new MoveWindows(30_000_000_000L, 40_000);

  MoveWindows {
    if (forwarderLingerMs * 1_000_000 <= fenceWindowNanos) {
      throw new IllegalArgumentException("the forwarder must outlast the fence window");
    }
  }
}
