package dev.switchboard.registry;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import redis.embedded.core.ExecutableProvider;

/** The Redis a node starts for itself when none is configured. */
class LocalRedisTest {

  @Test
  @DisplayName("a local Redis starts on a free loopback port, answers PING, and is gone after close")
  void startsAndStops() throws Exception {
    LocalRedis redis = LocalRedis.start();
    assertTrue(redis.ping());
    assertTrue(redis.url().startsWith("redis://127.0.0.1:"));
    redis.close();
    assertFalse(redis.ping());
  }

  @Test
  @DisplayName("the Redis binary shipped in the Maven artifact runs on this machine (the fallback without PATH)")
  void shippedBinaryRuns() throws Exception {
    File binary = ExecutableProvider.newJarResourceProvider().get();
    assertTrue(binary.setExecutable(true) || binary.canExecute());
    int port = LocalRedis.freePort();
    Process p = new ProcessBuilder(List.of(binary.getAbsolutePath(), "--port", Integer.toString(port),
        "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"))
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    try {
      long deadline = System.currentTimeMillis() + 10_000;
      while (!LocalRedis.answersPing(port) && System.currentTimeMillis() < deadline) {
        Thread.sleep(20);
      }
      assertTrue(LocalRedis.answersPing(port), "shipped redis-server answers PING");
    } finally {
      p.destroyForcibly().waitFor();
    }
  }
}
