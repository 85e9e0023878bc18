package dev.switchboard.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The near-physical limit the relay figures are divided by: a bare single-process Vert.x
 * WebSocket relay, started inside the bench. It answers {@code join} with a bare
 * {@code welcome} and forwards each later frame, unparsed, to the socket named by its first
 * {@code "to":"..."} field: no event bus, no Redis, no validation, no acks. Anything this does
 * not do (rooms, room-wide messages, errors) the relay scenario does not need.
 *
 * <p>It runs on a Vert.x of its own with as many event loops as the machine has cores, one
 * server verticle per loop, like a node.
 */
final class BaselineRelay implements AutoCloseable {

  /** Sockets the baseline takes: far above any run, low enough that a runaway cannot eat the heap. */
  private static final int MAX_PEERS = 200_000;

  private static final String TO = "\"to\":\"";

  private final Vertx vertx;
  private final int port;

  private BaselineRelay(Vertx vertx, int port) {
    this.vertx = vertx;
    this.port = port;
  }

  /** Starts the relay on 127.0.0.1 and an ephemeral port. */
  static BaselineRelay start() {
    return start(freePort());
  }

  /** Starts the relay on 127.0.0.1 and {@code port}. */
  static BaselineRelay start(int port) {
    int loops = Runtime.getRuntime().availableProcessors();
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(loops));
    ConcurrentHashMap<String, ServerWebSocket> peers = new ConcurrentHashMap<>();
    for (int i = 0; i < loops; i++) {
      vertx.deployVerticle(new Server(peers, port)).await();
    }
    return new BaselineRelay(vertx, port);
  }

  String url() {
    return "ws://127.0.0.1:" + port + "/ws";
  }

  @Override
  public void close() {
    vertx.close().await();
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** One event loop's share of the listening socket (Vert.x spreads connections over them). */
  private static final class Server extends VerticleBase {
    private final ConcurrentHashMap<String, ServerWebSocket> peers;
    private final int port;

    Server(ConcurrentHashMap<String, ServerWebSocket> peers, int port) {
      this.peers = peers;
      this.port = port;
    }

    @Override
    public Future<?> start() {
      HttpServer server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(port))
          .webSocketHandler(this::socket);
      return server.listen();
    }

    private void socket(ServerWebSocket ws) {
      String[] self = new String[1];
      ws.textMessageHandler(text -> {
        if (self[0] == null) {
          String peer = new JsonObject(text).getString("peer");
          if (peer == null || peers.size() >= MAX_PEERS || peers.putIfAbsent(peer, ws) != null) {
            ws.close((short) 4400, "bad join");
            return;
          }
          self[0] = peer;
          ws.writeTextMessage(new JsonObject().put("type", "welcome").put("peer", peer).encode());
          return;
        }
        int at = text.indexOf(TO);
        int end = at < 0 ? -1 : text.indexOf('"', at + TO.length());
        if (end >= 0) {
          ServerWebSocket target = peers.get(text.substring(at + TO.length(), end));
          if (target != null) {
            target.writeTextMessage(text);
          }
        }
      });
      ws.closeHandler(v -> {
        if (self[0] != null) {
          peers.remove(self[0], ws);
        }
      });
    }
  }
}
