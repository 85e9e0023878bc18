package dev.switchboard.testing;

import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * A real Janus (Debian's {@code janus} package, 1.1.2) for a test: its own configuration folder,
 * generated here, with only the VideoRoom plugin and the WebSocket transport loaded, the
 * WebSocket API on 127.0.0.1 on a free port, no STUN server, string room ids, and the API secret
 * and VideoRoom admin key the test asks for. It starts in well under a second; {@link #close}
 * stops it (SIGTERM, then SIGKILL).
 */
public final class JanusProcess implements AutoCloseable {

  /** Where Debian puts Janus's modules (the multiarch folder differs between machines). */
  private static final Path MODULES = findModules();

  /** The admin API's secret (its WebSocket listens on 127.0.0.1 too, on a port of its own). */
  public static final String ADMIN_SECRET = "janus-admin-secret-for-tests";

  private final Process process;
  private final int port;
  private final Path dir;
  private final String apiSecret;
  private final String adminKey;

  private JanusProcess(Process process, int port, Path dir, String apiSecret, String adminKey) {
    this.process = process;
    this.port = port;
    this.dir = dir;
    this.apiSecret = apiSecret;
    this.adminKey = adminKey;
  }

  /** A node's settings that point it at this Janus (URL, API secret, admin key), with {@code more}. */
  public Map<String, String> nodeSettings(Map<String, String> more) {
    Map<String, String> settings = new java.util.HashMap<>(more);
    settings.put("media-janus-url", url());
    settings.put("media-janus-api-secret", apiSecret);
    settings.put("media-janus-admin-key", adminKey);
    return settings;
  }

  /** The admin API's WebSocket URL (subprotocol {@code janus-admin-protocol}, {@link #ADMIN_SECRET}). */
  public String adminUrl() {
    try {
      return "ws://127.0.0.1:" + Files.readString(dir.resolve("admin.port")).trim() + "/";
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The {@code opaque_id} of every handle Janus holds now, sorted, read through its admin API
   * ({@code list_sessions}, {@code list_handles}, {@code handle_info}) on a WebSocket of
   * {@code vertx} opened for the call. A node names each handle {@code <node>/<room>/<peer>}
   * (docs/media.md), so this is who Janus still holds media for.
   */
  public List<String> opaqueIds(Vertx vertx) {
    // Janus has been seen (1 run in 4, on a loaded 2-core machine) not to answer an admin
    // question about handles being set up at that moment: the whole listing is asked again.
    for (int attempt = 1; ; attempt++) {
      try {
        return listOpaqueIds(vertx);
      } catch (java.util.concurrent.CompletionException e) {
        if (!(e.getCause() instanceof java.util.concurrent.TimeoutException) || attempt == 3) {
          throw e;
        }
      }
    }
  }

  private List<String> listOpaqueIds(Vertx vertx) {
    WebSocket admin = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxMessageSize(1 << 20))
        .connect(new WebSocketConnectOptions().setAbsoluteURI(adminUrl()).addSubProtocol("janus-admin-protocol"))
        .await();
    Map<String, CompletableFuture<JsonObject>> answers = new ConcurrentHashMap<>();
    admin.textMessageHandler(text -> {
      JsonObject m = new JsonObject(text);
      CompletableFuture<JsonObject> f = answers.remove(m.getString("transaction", ""));
      if (f != null) {
        f.complete(m);
      }
    });
    Function<JsonObject, JsonObject> ask = request -> {
      String tx = UUID.randomUUID().toString();
      CompletableFuture<JsonObject> f = new CompletableFuture<>();
      answers.put(tx, f);
      admin.writeTextMessage(request.put("transaction", tx).put("admin_secret", ADMIN_SECRET).encode());
      return f.orTimeout(2, TimeUnit.SECONDS).join();
    };
    List<String> ids = new ArrayList<>();
    try {
      for (Object session : ask.apply(new JsonObject().put("janus", "list_sessions")).getJsonArray("sessions")) {
        long s = ((Number) session).longValue();
        // A session or handle that went between the listing and the next question is answered
        // with an error (no handles, no info): it is not held any more, so it is not listed.
        JsonArray handles = ask.apply(new JsonObject().put("janus", "list_handles").put("session_id", s))
            .getJsonArray("handles", new JsonArray());
        for (Object handle : handles) {
          JsonObject info = ask.apply(new JsonObject().put("janus", "handle_info").put("session_id", s)
              .put("handle_id", ((Number) handle).longValue())).getJsonObject("info");
          if (info != null && info.getString("opaque_id") != null) {
            ids.add(info.getString("opaque_id"));
          }
        }
      }
    } finally {
      admin.close();
    }
    return ids.stream().sorted().toList();
  }

  /**
   * Starts Janus with {@code apiSecret} and {@code adminKey} (each empty for none) and a session
   * timeout of {@code sessionTimeoutS}, and waits until its WebSocket port takes connections.
   */
  public static JanusProcess start(String apiSecret, String adminKey, int sessionTimeoutS)
      throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory("janus-test");
    int port = TestCluster.freePort();
    int adminPort = TestCluster.freePort();
    Files.writeString(dir.resolve("admin.port"), Integer.toString(adminPort));
    Files.writeString(dir.resolve("janus.jcfg"), String.join("\n",
        "general: {",
        "  configs_folder = \"" + dir + "\"",
        "  plugins_folder = \"" + MODULES.resolve("plugins") + "\"",
        "  transports_folder = \"" + MODULES.resolve("transports") + "\"",
        "  events_folder = \"" + MODULES.resolve("events") + "\"",
        "  loggers_folder = \"" + MODULES.resolve("loggers") + "\"",
        "  debug_level = 4",
        "  session_timeout = " + sessionTimeoutS,
        apiSecret.isEmpty() ? "" : "  api_secret = \"" + apiSecret + "\"",
        "  admin_secret = \"" + ADMIN_SECRET + "\"",
        "}",
        "media: {",
        "  rtp_port_range = \"20000-40000\"",
        "}",
        "nat: {",
        "}",
        "plugins: {",
        "  disable = \"" + othersThan(MODULES.resolve("plugins"), "libjanus_videoroom.so") + "\"",
        "}",
        "transports: {",
        "  disable = \"" + othersThan(MODULES.resolve("transports"), "libjanus_websockets.so") + "\"",
        "}",
        "loggers: {",
        "  disable = \"" + othersThan(MODULES.resolve("loggers"), "") + "\"",
        "}",
        "events: {",
        "  broadcast = false",
        "  disable = \"" + othersThan(MODULES.resolve("events"), "") + "\"",
        "}",
        ""));
    Files.writeString(dir.resolve("janus.transport.websockets.jcfg"), String.join("\n",
        "general: {",
        "  json = \"compact\"",
        "  ws = true",
        "  ws_port = " + port,
        "  ws_ip = \"127.0.0.1\"",
        "  wss = false",
        "}",
        "admin: {",
        "  admin_ws = true",
        "  admin_ws_port = " + adminPort,
        "  admin_ws_ip = \"127.0.0.1\"",
        "  admin_wss = false",
        "}",
        ""));
    Files.writeString(dir.resolve("janus.plugin.videoroom.jcfg"), String.join("\n",
        "general: {",
        adminKey.isEmpty() ? "" : "  admin_key = \"" + adminKey + "\"",
        "  string_ids = true",
        "  events = false",
        "}",
        ""));
    return launch(dir, port, apiSecret, adminKey);
  }

  /** Starts Janus again, as this one was configured (the same port): its rooms and sessions are new. */
  public JanusProcess restart() throws IOException, InterruptedException {
    close();
    return launch(dir, port, apiSecret, adminKey);
  }

  private static JanusProcess launch(Path dir, int port, String apiSecret, String adminKey)
      throws IOException, InterruptedException {
    Process process = new ProcessBuilder("janus", "-F", dir.toString(), "-C", dir.resolve("janus.jcfg").toString(),
        "-o", "-N", "-L", dir.resolve("janus.log").toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("janus.out").toFile()).start();
    JanusProcess janus = new JanusProcess(process, port, dir, apiSecret, adminKey);
    janus.awaitListening();
    return janus;
  }

  /** The WebSocket API's URL. */
  public String url() {
    return "ws://127.0.0.1:" + port + "/";
  }

  /** What Janus logged, for a failing test's message. */
  public String log() {
    try {
      return Files.readString(dir.resolve("janus.log"));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  /** Sends Janus {@code signal} ({@code STOP}: it answers nothing until {@code CONT}). */
  public void signal(String signal) throws IOException, InterruptedException {
    new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start().waitFor();
  }

  /** Kills Janus at once (SIGKILL): its sessions and rooms are gone. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(5, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(3, TimeUnit.SECONDS)) {
      kill();
    }
  }

  private void awaitListening() throws InterruptedException, IOException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IOException("janus exited with " + process.exitValue() + ": "
            + Files.readString(dir.resolve("janus.out")));
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException notYet) {
        Thread.sleep(20);
      }
    }
    close();
    throw new IOException("janus did not listen on " + port + " within 10 s: " + log());
  }

  /** The module files ({@code .so}) in {@code folder} but {@code keep}, comma-separated, for a {@code disable} list. */
  private static String othersThan(Path folder, String keep) throws IOException {
    try (Stream<Path> files = Files.list(folder)) {
      List<String> names = new ArrayList<>(files.map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".so") && !n.equals(keep)).sorted().toList());
      return String.join(",", names);
    }
  }

  private static Path findModules() {
    try (Stream<Path> dirs = Files.list(Path.of("/usr/lib"))) {
      return dirs.map(d -> d.resolve("janus")).filter(d -> Files.isDirectory(d.resolve("plugins"))).findFirst()
          .orElseThrow(() -> new IllegalStateException("no Janus modules under /usr/lib/*/janus: install the janus"
              + " package (.ci/run does)"));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
