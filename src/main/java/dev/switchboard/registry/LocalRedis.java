package dev.switchboard.registry;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.embedded.core.ExecutableProvider;

/**
 * A Redis server this process starts for itself, on 127.0.0.1 and a free port, without
 * persistence: the development default when no Redis is configured, and the Redis of the tests.
 * It runs {@code redis-server} from PATH, else the binary shipped in the embedded-redis artifact.
 * Blocking: call it from {@code main} or a test's set-up, never from an event loop.
 */
public final class LocalRedis implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(LocalRedis.class);
  private static final long START_TIMEOUT_MS = 10_000;

  private final Process process;
  private final int port;
  private final String binary;

  private LocalRedis(Process process, int port, String binary) {
    this.process = process;
    this.port = port;
    this.binary = binary;
  }

  /** Starts a server on a free port. */
  public static LocalRedis start() throws IOException {
    return start(freePort());
  }

  /** Starts a server on {@code port} (a test restarting Redis on the same port uses this). */
  public static LocalRedis start(int port) throws IOException {
    String binary = findBinary();
    ProcessBuilder pb = new ProcessBuilder(List.of(binary,
        "--port", Integer.toString(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
        "--protected-mode", "yes", "--loglevel", "warning", "--daemonize", "no"));
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
    Process p = pb.start();
    LocalRedis redis = new LocalRedis(p, port, binary);
    long deadline = System.currentTimeMillis() + START_TIMEOUT_MS;
    while (!redis.ping()) {
      if (!p.isAlive() || System.currentTimeMillis() > deadline) {
        redis.close();
        throw new IOException("redis-server (" + binary + ") did not start on port " + port);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        redis.close();
        throw new IOException("interrupted while starting redis-server", e);
      }
    }
    log.atInfo().addKeyValue("port", port).addKeyValue("binary", binary).addKeyValue("pid", p.pid())
        .log("started a local Redis (no redis.url configured)");
    return redis;
  }

  public int port() {
    return port;
  }

  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  public String binary() {
    return binary;
  }

  public long pid() {
    return process.pid();
  }

  /** True if the server answers PING. */
  public boolean ping() {
    return answersPing(port);
  }

  /** True if a Redis on 127.0.0.1:{@code port} answers PING (a plain socket, no client). */
  public static boolean answersPing(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      s.setSoTimeout(500);
      OutputStream out = s.getOutputStream();
      out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      return new String(in.readNBytes(7), StandardCharsets.US_ASCII).equals("+PONG\r\n");
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Kills the server at once, as a crash would (tests of Redis outages). */
  public void kill() {
    process.destroyForcibly();
    try {
      process.waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The {@code redis-server} on PATH, else the one shipped in the embedded-redis artifact. */
  public static String findBinary() throws IOException {
    String path = System.getenv("PATH");
    if (path != null) {
      for (String dir : path.split(File.pathSeparator)) {
        Path candidate = Path.of(dir, "redis-server");
        if (Files.isExecutable(candidate)) {
          return candidate.toString();
        }
      }
    }
    File shipped = ExecutableProvider.newJarResourceProvider().get();
    if (!shipped.canExecute() && !shipped.setExecutable(true)) {
      throw new IOException("cannot make " + shipped + " executable");
    }
    return shipped.getAbsolutePath();
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
