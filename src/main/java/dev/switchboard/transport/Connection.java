package dev.switchboard.transport;

import dev.switchboard.config.Config;
import dev.switchboard.protocol.ClientMessage;
import dev.switchboard.protocol.CloseCode;
import dev.switchboard.protocol.Codec;
import dev.switchboard.protocol.Decoded;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.LeaveReason;
import dev.switchboard.protocol.ServerMessage;
import dev.switchboard.registry.NodeLoad;
import dev.switchboard.room.PeerLink;
import dev.switchboard.room.PeerSession;
import dev.switchboard.room.Rooms;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.vertx.core.http.ServerWebSocket;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One browser's WebSocket: join timeout, rate limit, parsing, the outbound side, and the hand-off
 * of each valid message to its {@link PeerSession}. All of it runs on the socket's event loop.
 */
final class Connection implements PeerLink {

  private static final Logger log = LoggerFactory.getLogger(Connection.class);

  private final Vertx vertx;
  private final ServerWebSocket ws;
  private final Context context;
  private final Rooms rooms;
  private final Codec codec;
  private final NodeLoad load;
  private final Config.Limits limits;
  private final RateLimit rate;
  private final long joinTimer;
  private PeerSession session;
  private boolean closed;
  private long slowTimer = -1;

  private final Consumer<Connection> onGone;

  Connection(Vertx vertx, ServerWebSocket ws, Rooms rooms, Codec codec, NodeLoad load, Config.Limits limits,
             Consumer<Connection> onGone) {
    this.onGone = onGone;
    this.vertx = vertx;
    this.ws = ws;
    this.context = vertx.getOrCreateContext();
    this.rooms = rooms;
    this.codec = codec;
    this.load = load;
    this.limits = limits;
    this.rate = new RateLimit(limits.rate(), limits.rateBurst(), limits.rateCloseAfter().toMillis(), now());
    ws.setWriteQueueMaxSize(limits.writeQueueBytes());
    ws.textMessageHandler(this::onText);
    ws.binaryMessageHandler(this::onBinary);
    ws.closeHandler(v -> onClosed());
    ws.exceptionHandler(this::onError);
    ws.drainHandler(v -> cancelSlowTimer());
    joinTimer = vertx.setTimer(limits.joinTimeout().toMillis(), id -> {
      if (session == null) {
        close(CloseCode.JOIN_TIMEOUT, "no join within " + limits.joinTimeout().toMillis() + "ms");
      }
    });
    load.connected();
  }

  /**
   * A text frame. It is parsed before the rate limit applies, so that a refused message's error
   * still repeats its {@code id} (frames are bounded by the frame limit, and a sender that
   * stays over the rate is closed).
   */
  private void onText(String text) {
    if (closed) {
      return;
    }
    Decoded decoded = codec.decode(text);
    switch (rate.take(now())) {
      case ACCEPT -> handle(decoded);
      case REFUSE -> send(ServerMessage.error(ErrorCode.RATE_LIMITED,
          "over " + limits.rate() + " messages/s; this message was dropped", idOf(decoded)));
      case CLOSE -> {
        send(ServerMessage.error(ErrorCode.RATE_LIMITED, "over the rate limit for too long", idOf(decoded)));
        close(CloseCode.RATE_LIMITED, "rate limit exceeded");
      }
      default -> throw new IllegalStateException();
    }
  }

  private static Object idOf(Decoded decoded) {
    return decoded instanceof Decoded.Ok ok ? ok.message().id() : ((Decoded.Rejected) decoded).id();
  }

  /**
   * A frame the WebSocket layer refused: too large (1009), invalid UTF-8 (1007), or another
   * protocol violation. The socket is closed with the code the violation calls for.
   */
  private void onError(Throwable err) {
    log.atDebug().addKeyValue("remote", String.valueOf(ws.remoteAddress()))
        .addKeyValue("error", String.valueOf(err.getMessage())).log("socket error");
    if (err instanceof CorruptedWebSocketFrameException c) {
      close((short) c.closeStatus().code(), c.closeStatus().reasonText());
    } else if (err instanceof IllegalStateException && String.valueOf(err.getMessage()).contains("max message size")) {
      close(CloseCode.TOO_LARGE, "message larger than " + limits.frameBytes() + " bytes");
    }
  }

  private void onBinary(Buffer data) {
    if (!closed) {
      send(ServerMessage.error(ErrorCode.BAD_REQUEST, "binary frames are not accepted; send JSON text", null));
    }
  }

  private void handle(Decoded decoded) {
    if (decoded instanceof Decoded.Rejected r) {
      send(ServerMessage.error(r.code(), r.reason(), r.id()));
      if (session == null) {
        close(CloseCode.BAD_JOIN, "the first message must be a valid join");
      }
      return;
    }
    ClientMessage m = ((Decoded.Ok) decoded).message();
    if (session == null) {
      if (m instanceof ClientMessage.Join join) {
        vertx.cancelTimer(joinTimer);
        session = rooms.newSession(this, context);
        session.join(join);
      } else {
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
      send(ServerMessage.error(ErrorCode.ALREADY_JOINED, "this socket already joined room " + session.room(), m.id()));
      return;
    }
    if (!session.isJoined()) {
      send(ServerMessage.error(ErrorCode.NOT_JOINED, "wait for welcome before sending " + m.type(), m.id()));
      return;
    }
    if (m instanceof ClientMessage.Relay r) {
      session.relay(r);
    } else if (m instanceof ClientMessage.Broadcast b) {
      session.broadcast(b);
    } else if (m instanceof ClientMessage.State s) {
      session.state(s);
    } else if (m instanceof ClientMessage.Leave l) {
      session.leave(LeaveReason.LEFT).onComplete(ar -> {
        if (l.id() != null) {
          send(ServerMessage.ack(l.id()));
        }
        close(CloseCode.NORMAL, "left");
      });
    }
  }

  @Override
  public boolean send(String frame) {
    if (closed || ws.isClosed()) {
      return false;
    }
    ws.writeTextMessage(frame);
    if (slowTimer < 0 && ws.writeQueueFull()) {
      slowTimer = vertx.setTimer(limits.slowConsumerTimeout().toMillis(), id -> {
        slowTimer = -1;
        if (ws.writeQueueFull()) {
          log.atInfo().addKeyValue("room", session == null ? null : session.room())
              .addKeyValue("peer", session == null ? null : session.peer()).log("closing slow consumer");
          close(CloseCode.SLOW_CONSUMER, "slow consumer");
        }
      });
    }
    return true;
  }

  @Override
  public void close(short code, String reason) {
    if (closed) {
      return;
    }
    closed = true;
    ws.close(code, reason);
  }

  private void onClosed() {
    closed = true;
    onGone.accept(this);
    vertx.cancelTimer(joinTimer);
    cancelSlowTimer();
    load.disconnected();
    if (session != null) {
      session.leave(LeaveReason.DISCONNECTED);
    }
  }

  private void cancelSlowTimer() {
    if (slowTimer >= 0) {
      vertx.cancelTimer(slowTimer);
      slowTimer = -1;
    }
  }

  private static long now() {
    return System.nanoTime() / 1_000_000;
  }
}
