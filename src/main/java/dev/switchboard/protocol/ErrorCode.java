package dev.switchboard.protocol;

/**
 * The {@code code} of an {@code error} message, as listed in the protocol. The wire name is the
 * lower-case, dash-separated form returned by {@link #wire()}.
 */
public enum ErrorCode {
  /** Malformed JSON, wrong or missing fields, a binary frame. */
  BAD_REQUEST("bad-request"),
  /** A {@code type} the server does not know. */
  UNKNOWN_TYPE("unknown-type"),
  /** A room message before the {@code join} succeeded. */
  NOT_JOINED("not-joined"),
  /** A second {@code join} on a socket that already joined. */
  ALREADY_JOINED("already-joined"),
  UNAUTHORIZED("unauthorized"),
  FORBIDDEN("forbidden"),
  ROOM_FULL("room-full"),
  /** The target of a relay is not in the sender's room (or has just left it). */
  PEER_NOT_FOUND("peer-not-found"),
  PEER_ID_TAKEN("peer-id-taken"),
  /** A {@code presenter} joined a broadcast room that has one. */
  PRESENTER_TAKEN("presenter-taken"),
  RATE_LIMITED("rate-limited"),
  /** An operator removed the peer from its room ({@code DELETE /v1/rooms/R/peers/P}). */
  KICKED("kicked"),
  /** A backing service (Redis, the target's node) did not answer; retry later. */
  UNAVAILABLE("unavailable"),
  DRAINING("draining");

  private final String wire;

  ErrorCode(String wire) {
    this.wire = wire;
  }

  public String wire() {
    return wire;
  }

  /** The code for a wire name, or {@code null} if there is none. */
  public static ErrorCode fromWire(String wire) {
    for (ErrorCode c : values()) {
      if (c.wire.equals(wire)) {
        return c;
      }
    }
    return null;
  }
}
