package dev.switchboard.testing;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A node in a JVM process of its own, started with this JVM's class path, as an operator runs it. */
public final class NodeProcess implements AutoCloseable {

  private final Process process;
  private final int port;
  private final String nodeId;
  private final Path log;

  private NodeProcess(Process process, int port, String nodeId, Path log) {
    this.process = process;
    this.port = port;
    this.nodeId = nodeId;
    this.log = log;
  }

  /** Starts {@code dev.switchboard.Main} with these flags plus an HTTP port and node id of its own. */
  public static NodeProcess start(String nodeId, List<String> flags) throws IOException {
    int port = TestCluster.freePort();
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-Dlogback.configurationFile=logback.xml", "-cp", System.getProperty("java.class.path"),
        "dev.switchboard.Main", "--http-host", "127.0.0.1", "--http-port", Integer.toString(port),
        "--node-id", nodeId, "--node-verticles", "1"));
    cmd.addAll(TestCluster.LOOPBACK_CLIENTS);
    cmd.addAll(TestCluster.NO_RESUME);
    cmd.addAll(flags);
    Path log = Files.createTempFile("switchboard-" + nodeId, ".log");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("SWITCHBOARD_"));
    return new NodeProcess(pb.start(), port, nodeId, log);
  }

  public int port() {
    return port;
  }

  public String nodeId() {
    return nodeId;
  }

  public long pid() {
    return process.pid();
  }

  public String log() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return e.toString();
    }
  }

  /**
   * Starts a node and waits until it is healthy. A free port found for it may be taken by
   * another process before the node binds it: the node then exits, and is started again on
   * another port (three times at most).
   */
  public static NodeProcess startHealthy(String nodeId, List<String> flags) throws IOException, InterruptedException {
    for (int attempt = 1; ; attempt++) {
      NodeProcess node = start(nodeId, flags);
      try {
        return node.awaitHealthy();
      } catch (AssertionError e) {
        node.close();
        if (attempt >= 3 || !node.log().contains("Address already in use")) {
          throw e;
        }
      }
    }
  }

  /**
   * SIGTERM, as an orchestrator stops a node (it drains first), and waits for the process to
   * exit; returns how long that took, in ms.
   */
  public long terminate(long timeoutMs) throws InterruptedException {
    long started = System.nanoTime();
    process.destroy();
    if (!process.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
      throw new AssertionError("node " + nodeId + " did not exit within " + timeoutMs + " ms of SIGTERM:\n" + log());
    }
    return (System.nanoTime() - started) / 1_000_000;
  }

  /**
   * Waits until {@code GET /health} answers 200 with this node's id: a port reused by another
   * node does not count.
   */
  public NodeProcess awaitHealthy() throws InterruptedException {
    long deadline = System.currentTimeMillis() + 60_000;
    while (System.currentTimeMillis() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError("node " + nodeId + " exited:\n" + log());
      }
      try {
        HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + "/health").toURL()
            .openConnection();
        c.setConnectTimeout(500);
        if (c.getResponseCode() == 200) {
          String body = new String(c.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
          if (body.contains("\"node\":\"" + nodeId + "\"")) {
            return this;
          }
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new AssertionError("node " + nodeId + " did not become healthy:\n" + log());
  }

  /** SIGKILL: the node dies at once, without a word to anyone. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  /** SIGSTOP or SIGCONT: the node hangs, or wakes up. */
  public void signal(String signal) throws IOException, InterruptedException {
    new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start().waitFor();
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(15, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }
  }
}
