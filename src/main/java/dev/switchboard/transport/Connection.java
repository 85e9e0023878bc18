package dev.switchboard.transport;

import dev.switchboard.config.Config;
import dev.switchboard.protocol.ClientMessage;
import dev.switchboard.protocol.CloseCode;
import dev.switchboard.protocol.Decoded;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.LeaveReason;
import dev.switchboard.protocol.ServerMessage;
import dev.switchboard.room.PeerSocket;
import dev.switchboard.room.PeerSession;
import dev.switchboard.room.PeerSessions;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.internal.http.WebSocketInternal;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One browser's WebSocket: join timeout, token check, rate limit, parsing, heartbeats, the bounded
 * outbound side, and each valid message handed to its {@link PeerSession}; on the socket's loop.
 *
 * <p>A slow consumer ({@link SocketBacklog}) is closed with 1008. Nothing is dropped silently: a
 * frame is either written or the socket is closed, and its peer is away (a resume sends again
 * what the client missed) or leaves the room.
 */
final class Connection implements PeerSocket, InboundMessages.Sink, TokenLease.Socket {

  private static final Logger log = LoggerFactory.getLogger(Connection.class);
  /** RFC 6455 §5.5.2 allows 125 bytes of ping payload; the node sends none. */
  private static final Buffer PING = Buffer.buffer();
  /** The close handshake's own timeout, plus a margin: then the TCP connection is dropped. */
  static final long HARD_CLOSE_MS = SignalingVerticle.CLOSE_HANDSHAKE_SECONDS * 1000L + 500;

  private final SocketServices services;
  private final ServerWebSocket ws;
  private final Context context;
  private final Config.Limits limits;
  private final RateLimit rate;
  private final long joinTimer;
  private final Consumer<Connection> onGone;
  /** Written by the resumed session's loop when this socket takes it over (before its welcome). */
  private volatile PeerSession session;
  private boolean closed;
  private long hardCloseTimer = -1;
  /** True once the socket is closed for good (its close handler ran). */
  private boolean gone;
  private final SocketBacklog backlog;
  private final TokenLease lease;
  /** When the client last sent anything (a frame or a pong), in ms of the monotonic clock. */
  private long lastHeard;

  Connection(SocketServices services, ServerWebSocket ws, Consumer<Connection> onGone) {
    this.services = services;
    this.ws = ws;
    this.onGone = onGone;
    this.context = Vertx.currentContext();
    if (context == null) {
      throw new IllegalStateException("a connection is created on its socket's event loop");
    }
    this.limits = services.limits();
    this.backlog = new SocketBacklog(ws, context, limits, services.outbound(), this::terminateSlow);
    this.lastHeard = now();
    this.rate = new RateLimit(limits.rate(), limits.rateBurst(), limits.rateCloseAfter().toMillis(), lastHeard);
    this.lease = new TokenLease(services, context, this);
    ws.frameHandler(new InboundMessages(limits.frameBytes(), this));
    ws.pongHandler(b -> lastHeard = now());
    ws.closeHandler(v -> onClosed());
    ws.exceptionHandler(this::onError);
    joinTimer = context.owner().setTimer(limits.joinTimeout().toMillis(), id -> {
      if (session == null) {
        services.refusals().count(Refusal.JOIN_TIMEOUT);
        close(CloseCode.JOIN_TIMEOUT, "no join within " + limits.joinTimeout().toMillis() + "ms");
      }
    });
    services.record().connected();
  }

  /**
   * A text frame, parsed before the rate limit applies so that a refused message's error repeats
   * its {@code id} (frames are bounded by the frame limit; a sender over the rate is closed).
   */
  @Override
  public void text(String text) {
    lastHeard = now();
    if (closed) {
      return;
    }
    Decoded decoded = services.codec().decode(text);
    // A ping is not counted by either side (nor is its pong): neither is its refusal.
    boolean ping = decoded instanceof Decoded.Ok ok && ok.message() instanceof ClientMessage.Ping;
    Object id = decoded instanceof Decoded.Ok ok ? ok.message().id() : ((Decoded.Rejected) decoded).id();
    if (withinRate(id, !ping)) {
      handle(decoded);
    }
  }

  /** A rate token for a message with {@code id}: false if refused (closed if over the rate for too long). */
  private boolean withinRate(Object id, boolean counted) {
    switch (rate.take(lastHeard)) {
      case ACCEPT -> {
        return true;
      }
      case REFUSE -> {
        services.refusals().count(Refusal.RATE_LIMITED);
        answer(ServerMessage.error(ErrorCode.RATE_LIMITED,
            "over " + limits.rate() + " messages/s; this message was dropped", id), counted);
        return false;
      }
      default -> {
        services.refusals().count(Refusal.RATE_CLOSED);
        answer(ServerMessage.error(ErrorCode.RATE_LIMITED, "over the rate limit for too long", id), counted);
        closeAfterAnswers(CloseCode.RATE_LIMITED, "rate limit exceeded");
        return false;
      }
    }
  }

  /** A frame Netty's decoder refused (too large: 1009; else 1002): closed with the code it calls for. */
  private void onError(Throwable err) {
    log.atDebug().addKeyValue("remote", String.valueOf(ws.remoteAddress()))
        .addKeyValue("error", String.valueOf(err.getMessage())).log("socket error");
    if (err instanceof CorruptedWebSocketFrameException c) {
      violation((short) c.closeStatus().code(), c.closeStatus().reasonText());
    }
  }

  /** A message too large in sum (1009), or a text message that is not UTF-8 (1007). */
  @Override
  public void violation(short code, String reason) {
    services.refusals().count(Refusal.BAD_FRAME);
    terminate(code, reason, LeaveReason.DISCONNECTED); // at once, as for the other closes the node decides
  }

  /** Binary messages are refused; they count against the rate like any message. */
  @Override
  public void binary() {
    lastHeard = now();
    if (!closed && withinRate(null, true)) {
      services.refusals().count(Refusal.BAD_MESSAGE);
      answer(ServerMessage.error(ErrorCode.BAD_REQUEST, "binary frames are not accepted; send JSON text", null), true);
    }
  }

  private void handle(Decoded decoded) {
    if (decoded instanceof Decoded.Rejected r) {
      services.refusals().count(session == null ? Refusal.BAD_JOIN : Refusal.BAD_MESSAGE);
      answer(ServerMessage.error(r.code(), r.reason(), r.id()), true);
      if (session == null) {
        close(CloseCode.BAD_JOIN, "the first message must be a valid join");
      }
      return;
    }
    ClientMessage m = ((Decoded.Ok) decoded).message();
    if (session == null) {
      if (m instanceof ClientMessage.Join join) {
        context.owner().cancelTimer(joinTimer);
        if (services.record().draining()) { // the socket opened before the drain: go elsewhere
          services.refusals().count(Refusal.DRAINING);
          send(ServerMessage.error(ErrorCode.DRAINING, "this node is draining; connect again and resume", m.id()));
          close(CloseCode.GOING_AWAY, "draining");
          return;
        }
        session = services.sessions().open(this, context);
        admit(join);
      } else {
        services.refusals().count(Refusal.BAD_JOIN);
        send(ServerMessage.error(ErrorCode.NOT_JOINED, "the first message must be join", m.id()));
        close(CloseCode.BAD_JOIN, "the first message must be join");
      }
      return;
    }
    if (m instanceof ClientMessage.Ping) {
      send(ServerMessage.pong(m.id()));
      return;
    }
    if (m instanceof ClientMessage.Join) {
      answer(ServerMessage.error(ErrorCode.ALREADY_JOINED, "this socket already sent join", m.id()), true);
      return;
    }
    if (!session.isJoined()) {
      answer(ServerMessage.error(ErrorCode.NOT_JOINED, "wait for welcome before sending " + m.type(), m.id()), true);
      return;
    }
    if (m instanceof ClientMessage.Relay r) {
      fromClient(s -> s.relay(r));
    } else if (m instanceof ClientMessage.Broadcast b) {
      fromClient(s -> s.broadcast(b));
    } else if (m instanceof ClientMessage.State st) {
      fromClient(s -> s.state(st));
    } else if (m instanceof ClientMessage.Media media) {
      fromClient(s -> s.media(media));
    } else if (m instanceof ClientMessage.Refresh r) {
      lease.refresh(r);
    } else if (m instanceof ClientMessage.Leave l) {
      fromClient(s -> s.leave(LeaveReason.LEFT).onComplete(ar -> context.runOnContext(v -> {
        if (l.id() != null) {
          send(ServerMessage.ack(l.id()));
        }
        close(CloseCode.NORMAL, "left");
      })));
    }
  }

  @Override
  public void answer(String frame) {
    answer(frame, true);
  }

  @Override
  public String peer() {
    return session == null ? null : session.peer();
  }

  @Override
  public boolean isClosed() {
    return closed;
  }

  /**
   * A frame answering the client's own message (an error): through the session once there is
   * one, counted with its frames (a resume depends on the count); else, or for a ping, direct.
   */
  private void answer(String frame, boolean counted) {
    if (session == null || !counted) {
      send(frame);
    } else {
      onSession(s -> s.toClient(this, frame));
    }
  }

  /**
   * A client message for the session, counted there (a resume's welcome says how many it got);
   * dropped if the session no longer serves this socket (its client resumed on another).
   */
  private void fromClient(Consumer<PeerSession> action) {
    onSession(s -> {
      if (s.heard(this)) {
        action.accept(s);
      }
    });
  }

  /** The node is draining: the client is told to reconnect elsewhere and resume, then the socket closes (1001). */
  void migrate() {
    String frame = ServerMessage.reconnect("draining", 0);
    if (session == null) {
      send(frame);
      close(CloseCode.GOING_AWAY, "draining");
    } else {
      onSession(s -> s.sendAway(this, frame));
    }
  }

  /** Closes the socket once the answers handed to the session before are written. */
  @Override
  public void closeAfterAnswers(short code, String reason) {
    if (session == null) {
      close(code, reason);
    } else {
      onSession(s -> s.closeSocket(code, reason));
    }
  }

  /**
   * Runs {@code action} on the session's event loop (another than this socket's for a session
   * resumed here): one thread hands the client's messages over, so they run in the order they came.
   */
  private void onSession(Consumer<PeerSession> action) {
    PeerSession s = session;
    if (s.home() == context) {
      action.accept(s);
    } else {
      s.home().runOnContext(v -> action.accept(s));
    }
  }

  /** Joins, or resumes the session the join's token names (PeerSessions#join). */
  private void join(ClientMessage.Join join) {
    services.sessions().join(join, session, this, context, resumed -> session = resumed).onSuccess(admitted -> {
      if (admitted.outcome() == PeerSessions.Resumed.REFUSED) {
        services.refusals().count(Refusal.RESUME_REFUSED);
      }
      if (admitted.session() != null) {
        session = admitted.session();
        if (closed && admitted.outcome() == PeerSessions.Resumed.RESUMED) {
          onSession(s -> s.socketGone(this, LeaveReason.DISCONNECTED)); // closed while resuming: away again
        }
      }
    });
  }

  /** Joins once the token is checked; a refused token is answered and the socket closed (4401, 4403). */
  private void admit(ClientMessage.Join join) {
    lease.admit(join, this::join, r -> {
      services.refusals().count(r.close() == CloseCode.FORBIDDEN ? Refusal.FORBIDDEN : Refusal.UNAUTHORIZED);
      log.atInfo().addKeyValue("room", join.room()).addKeyValue("remote", String.valueOf(ws.remoteAddress()))
          .addKeyValue("code", r.close()).addKeyValue("reason", r.reason()).log("join refused");
      send(ServerMessage.error(r.error(), r.reason(), join.id()));
      close(r.close(), r.error().wire());
    });
  }

  @Override
  public boolean send(String frame) {
    if (closed || ws.isClosed()) {
      return false;
    }
    return backlog.write(frame);
  }

  /**
   * Every {@code limits.ping-interval}: pings the client, or closes a socket silent (not even a
   * pong) for {@code limits.pong-timeout}; its peer is away, or leaves with {@code timeout}.
   */
  void heartbeat(long nowMs) {
    if (closed) {
      return;
    }
    if (nowMs - lastHeard > limits.pongTimeout().toMillis()) {
      services.refusals().count(Refusal.PONG_TIMEOUT);
      log.atInfo().addKeyValue("room", session == null ? null : session.room())
          .addKeyValue("peer", session == null ? null : session.peer())
          .addKeyValue("silentMs", nowMs - lastHeard).log("closing a socket that stopped answering pings");
      terminate(CloseCode.PONG_TIMEOUT, "no pong within " + limits.pongTimeout().toMillis() + "ms",
          LeaveReason.TIMEOUT);
      return;
    }
    ws.writePing(PING);
  }

  private void terminateSlow(String why) {
    services.refusals().count(Refusal.SLOW_CONSUMER);
    log.atInfo().addKeyValue("room", session == null ? null : session.room())
        .addKeyValue("peer", session == null ? null : session.peer())
        .addKeyValue("pendingBytes", backlog.pendingBytes()).addKeyValue("why", why).log("closing slow consumer");
    terminate(CloseCode.SLOW_CONSUMER, "slow consumer", LeaveReason.DISCONNECTED);
  }

  /** Closes the socket and tells its session now: a client that does not read may take the whole close handshake. */
  private void terminate(short code, String text, LeaveReason reason) {
    close(code, text);
    if (session != null) {
      onSession(s -> s.socketGone(this, reason));
    }
  }

  /**
   * Starts the close handshake. Vert.x times the handshake out only once the close frame has
   * been written, which never happens for a client that stopped reading (the frame waits behind
   * its backlog): a backstop timer then drops the TCP connection, so no socket outlives its close
   * by more than {@link #HARD_CLOSE_MS}.
   */
  @Override
  public void close(short code, String reason) {
    if (closed) {
      return;
    }
    closed = true;
    ws.close(code, reason);
    hardCloseTimer = context.owner().setTimer(HARD_CLOSE_MS, id -> {
      hardCloseTimer = -1;
      if (!gone && ws instanceof WebSocketInternal internal) {
        log.atDebug().addKeyValue("remote", String.valueOf(ws.remoteAddress()))
            .log("dropping a socket that did not finish its close handshake");
        // The handler context's close() starts below Vert.x's own handler, which would otherwise
        // turn it back into the same stuck graceful close.
        internal.channelHandlerContext().close();
      }
    });
  }

  private void onClosed() {
    closed = true;
    gone = true;
    if (hardCloseTimer >= 0) {
      context.owner().cancelTimer(hardCloseTimer);
    }
    onGone.accept(this);
    context.owner().cancelTimer(joinTimer);
    lease.stop();
    backlog.stop();
    services.record().disconnected();
    if (session != null) {
      onSession(s -> s.socketGone(this, LeaveReason.DISCONNECTED));
    }
  }

  static long now() {
    return System.nanoTime() / 1_000_000;
  }
}
