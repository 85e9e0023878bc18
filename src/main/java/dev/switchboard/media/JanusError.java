package dev.switchboard.media;

/**
 * Janus refused a request: a core error ({@code janus: "error"}, codes 403 to 490: an unknown
 * session or handle, a bad secret, bad JSON) or the plugin's ({@code error_code} inside
 * {@code plugindata}, which Janus sends as a {@code success}: for the VideoRoom, 421 to 437).
 * Also what a request that got no answer in time, or whose link went down, fails with
 * ({@link #NO_ANSWER}, {@link #LINK_DOWN}). The reason is Janus's own text, for logs.
 */
public final class JanusError extends RuntimeException {

  /** No answer within {@code media.request-timeout}: the request may or may not have been carried out. */
  public static final int NO_ANSWER = 1;
  /** The link to Janus went down (or was never up) before the answer came. */
  public static final int LINK_DOWN = 2;
  /** Too many requests in flight on one link: refused without sending it. */
  public static final int BUSY = 3;

  /** A core error: the session is gone (Janus restarted, or its session timed out). */
  public static final int SESSION_NOT_FOUND = 458;
  /** A core error: the handle is gone. */
  public static final int HANDLE_NOT_FOUND = 459;
  /** A core error: wrong or missing API secret. */
  public static final int UNAUTHORIZED = 403;
  /** Core errors about what the client gave: a JSEP of unknown type, an invalid SDP, a bad trickle, a wrong element type. */
  private static final int JSEP_UNKNOWN_TYPE = 464;
  private static final int JSEP_INVALID_SDP = 465;
  private static final int TRICKLE_INVALID_STREAM = 466;
  private static final int INVALID_ELEMENT_TYPE = 467;
  /** VideoRoom: no such room. */
  public static final int NO_SUCH_ROOM = 426;
  /** VideoRoom: the room exists already. */
  public static final int ROOM_EXISTS = 427;
  /** VideoRoom: no such feed (the publisher left, or does not publish). */
  public static final int NO_SUCH_FEED = 428;

  private final int code;
  private final boolean plugin;

  public JanusError(int code, String reason, boolean plugin) {
    super((plugin ? "plugin error " : "Janus error ") + code + ": " + reason, null, false, false);
    this.code = code;
    this.plugin = plugin;
  }

  public int code() {
    return code;
  }

  /** Whether the plugin refused it (the core carried it to the plugin). */
  public boolean plugin() {
    return plugin;
  }

  /**
   * Whether what the client gave was refused (an SDP or a candidate Janus cannot take, a request
   * the plugin refuses), as against Janus or the link failing: the client should fix it, not retry.
   */
  public boolean refusesInput() {
    return plugin || code == JSEP_UNKNOWN_TYPE || code == JSEP_INVALID_SDP || code == TRICKLE_INVALID_STREAM
        || code == INVALID_ELEMENT_TYPE;
  }
}
