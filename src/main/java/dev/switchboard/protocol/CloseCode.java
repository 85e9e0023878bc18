package dev.switchboard.protocol;

/**
 * WebSocket close codes the server uses. Codes below 4000 are RFC 6455's; the 4xxx codes mirror
 * HTTP statuses so they read at a glance.
 *
 * <p>What a client does after each is one contract, written once in docs/protocol.md ("Close
 * codes") and implemented by the browser client's {@code closeAction} (client/src/errors.js):
 * 1007, 1009 and 4400 are terminal (the same messages would be refused again); 4401 and 4403 are
 * terminal unless the client can fetch a fresh token; 1000 follows a {@code leave} or
 * {@code room-closed}; every other code means reconnect, with backoff, and join again.
 */
public final class CloseCode {
  /** After {@code leave}, or after {@code room-closed}. */
  public static final short NORMAL = 1000;
  /** The node is shutting down. */
  public static final short GOING_AWAY = 1001;
  /** The socket's write queue stayed full for too long: a slow consumer (policy violation). */
  public static final short SLOW_CONSUMER = 1008;
  /** A text frame was not valid UTF-8 (RFC 6455 §8.1). */
  public static final short INVALID_DATA = 1007;
  /** A frame or message was larger than the frame limit. */
  public static final short TOO_LARGE = 1009;
  /** The server failed in a way the client could not cause; reconnect. */
  public static final short INTERNAL = 1011;
  /** The first message was not a valid {@code join}. */
  public static final short BAD_JOIN = 4400;
  /** Token missing, invalid or expired. */
  public static final short UNAUTHORIZED = 4401;
  /** The token does not grant this room or role. */
  public static final short FORBIDDEN = 4403;
  /** No {@code join} within the join timeout. */
  public static final short JOIN_TIMEOUT = 4408;
  /** The socket sent nothing, not even a pong, for the pong timeout (an extension of protocol v1). */
  public static final short PONG_TIMEOUT = 4410;
  /** An operator removed the peer from its room: the client is not to rejoin by itself. */
  public static final short KICKED = 4406;
  /** The peer id is already in the room. */
  public static final short PEER_ID_TAKEN = 4409;
  /** The connection stayed over its rate limit for too long. */
  public static final short RATE_LIMITED = 4429;
  /** Room full, server full, or a backing service unavailable at join. */
  public static final short UNAVAILABLE = 4503;

  private CloseCode() {
  }
}
