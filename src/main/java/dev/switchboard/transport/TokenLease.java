package dev.switchboard.transport;

import dev.switchboard.auth.RoomTokens;
import dev.switchboard.protocol.ClientMessage;
import dev.switchboard.protocol.CloseCode;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.ServerMessage;
import io.vertx.core.Context;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How long one socket may stay, on a node that requires room tokens: its join's token is checked,
 * and the socket is closed with 4401 when that token's {@code exp} passes, unless the client sent
 * {@code refresh} with a fresh token for the same room, peer and role first. The session is then
 * away like after any other close: taking it back needs a valid token. Used on the socket's loop.
 */
final class TokenLease {

  private static final Logger log = LoggerFactory.getLogger(TokenLease.class);

  /** What the lease does to its socket. */
  interface Socket {
    /** Sends a frame that answers the client's message (counted with the session's frames). */
    void answer(String frame);

    /** Closes the socket once the answers sent before are written. */
    void closeAfterAnswers(short code, String reason);

    /** The peer id the session has (the server may have picked it), or null before the welcome. */
    String peer();

    boolean isClosed();
  }

  private final RoomTokens tokens;
  private final Context context;
  private final SocketServices services;
  private final Socket socket;
  /** The join as granted: the room and role a refresh must grant again. */
  private ClientMessage.Join granted;
  private long timer = -1;
  /** When the current token expires, in ms since the epoch; 0 for never. */
  private long expiresAtMs;

  TokenLease(SocketServices services, Context context, Socket socket) {
    this.tokens = services.tokens();
    this.services = services;
    this.context = context;
    this.socket = socket;
  }

  /**
   * Checks the join's token (when the node requires one): a granted join goes to {@code joined}
   * (and its token's expiry is watched from then on), a refusal to {@code refused}. Nothing
   * happens for a socket closed meanwhile.
   */
  void admit(ClientMessage.Join join, Consumer<ClientMessage.Join> joined, Consumer<RoomTokens.Refused> refused) {
    if (tokens == null) {
      joined.accept(join);
      return;
    }
    tokens.admit(join).onComplete(ar -> {
      if (socket.isClosed()) {
        return;
      }
      RoomTokens.Admission a = ar.succeeded() ? ar.result()
          : new RoomTokens.Refused(ErrorCode.UNAUTHORIZED, CloseCode.UNAUTHORIZED, "the token could not be checked");
      if (a instanceof RoomTokens.Granted g) {
        granted = g.join();
        hold(g.expiresAtMs());
        joined.accept(g.join());
      } else {
        refused.accept((RoomTokens.Refused) a);
      }
    });
  }

  /**
   * {@code refresh}: a fresh token for the same room, peer and role moves the socket's expiry to
   * its {@code exp} (ack); one that is invalid, expired or grants something else is refused
   * (error, the socket stays until the current token expires).
   */
  void refresh(ClientMessage.Refresh r) {
    if (tokens == null || granted == null) {
      socket.answer(ServerMessage.error(ErrorCode.BAD_REQUEST, "this node does not use room tokens", r.id()));
      return;
    }
    String peer = socket.peer();
    ClientMessage.Join again = new ClientMessage.Join(r.id(), granted.room(), peer, r.token(), granted.meta(),
        granted.role(), null, -1);
    tokens.admit(again).onComplete(ar -> context.runOnContext(v -> {
      if (socket.isClosed()) {
        return;
      }
      if (ar.succeeded() && ar.result() instanceof RoomTokens.Granted g && peer.equals(g.join().peer())) {
        hold(g.expiresAtMs());
        socket.answer(ServerMessage.ack(r.id()));
        return;
      }
      services.refusals().count(Refusal.REFRESH_REFUSED);
      String why = ar.succeeded() && ar.result() instanceof RoomTokens.Refused no ? no.reason()
          : "the token could not be checked";
      ErrorCode code = ar.succeeded() && ar.result() instanceof RoomTokens.Refused no ? no.error()
          : ErrorCode.UNAUTHORIZED;
      socket.answer(ServerMessage.error(code, why + "; the session keeps its current token", r.id()));
    }));
  }

  /** The socket closed: no expiry to watch. */
  void stop() {
    if (timer >= 0) {
      context.owner().cancelTimer(timer);
      timer = -1;
    }
  }

  /** Watches {@code expiresAt} (0: a token that never expires). */
  private void hold(long expiresAt) {
    stop();
    expiresAtMs = expiresAt;
    if (expiresAt > 0) {
      timer = context.owner().setTimer(Math.max(1, expiresAt - System.currentTimeMillis()), t -> expired());
    }
  }

  private void expired() {
    timer = -1;
    if (socket.isClosed() || System.currentTimeMillis() < expiresAtMs) {
      return;
    }
    services.refusals().count(Refusal.TOKEN_EXPIRED);
    log.atInfo().addKeyValue("room", granted.room()).addKeyValue("peer", socket.peer())
        .log("closing a socket whose token expired without a refresh");
    socket.answer(ServerMessage.error(ErrorCode.UNAUTHORIZED, "your token expired; send refresh with a fresh token"
        + " before it does, or join again with one", null));
    socket.closeAfterAnswers(CloseCode.UNAUTHORIZED, "token expired");
  }
}
