package dev.switchboard.protocol;

/** The outcome of decoding one text frame: a message, or the reason it was refused. */
public sealed interface Decoded {

  record Ok(ClientMessage message) implements Decoded {
  }

  /**
   * A refused frame. {@code id} is the client's message id when it could be read (so the error
   * can repeat it), and {@code type} the message type when it could be read (so the server can
   * tell a bad {@code join} from a bad relay).
   */
  record Rejected(ErrorCode code, String reason, Object id, String type) implements Decoded {
  }
}
