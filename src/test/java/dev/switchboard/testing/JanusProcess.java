package dev.switchboard.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
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

  private JanusProcess(Process process, int port, Path dir) {
    this.process = process;
    this.port = port;
    this.dir = dir;
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
    return launch(dir, port);
  }

  /** Starts Janus again, as this one was configured (the same port): its rooms and sessions are new. */
  public JanusProcess restart() throws IOException, InterruptedException {
    close();
    return launch(dir, port);
  }

  private static JanusProcess launch(Path dir, int port) throws IOException, InterruptedException {
    Process process = new ProcessBuilder("janus", "-F", dir.toString(), "-C", dir.resolve("janus.jcfg").toString(),
        "-o", "-N", "-L", dir.resolve("janus.log").toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("janus.out").toFile()).start();
    JanusProcess janus = new JanusProcess(process, port, dir);
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
