package dev.switchboard.protocol;

/** The {@code reason} of {@code peer-left}. */
public enum LeaveReason {
  /** The peer sent {@code leave}. */
  LEFT("left"),
  /** The peer's socket closed without {@code leave}. */
  DISCONNECTED("disconnected"),
  /** The peer stopped answering heartbeats, or did not resume in time. */
  TIMEOUT("timeout"),
  /** The node holding the peer's socket died. */
  NODE_LOST("node-lost"),
  /** An operator removed the peer. */
  KICKED("kicked");

  private final String wire;

  LeaveReason(String wire) {
    this.wire = wire;
  }

  public String wire() {
    return wire;
  }
}
