package dev.switchboard.races;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.switchboard.config.ConfigException;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.testing.TestCluster;
import dev.switchboard.testing.TestPeer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Error handling of the HTTP side when Redis fails, and secrets in what a node prints. */
class PlacementFailureRacesTest {

  @Test
  @DisplayName("a full node answers a WebSocket upgrade with 503 even when Redis does not answer the "
      + "placement of a better node")
  void fullNodeAnswersWhenRedisIsDown() throws Exception {
    try (TestCluster cluster = TestCluster.start(1, Map.of("node-hard-capacity", "1", "node-soft-capacity", "1",
        "node-heartbeat", "300ms", "node-heartbeat-ttl", "1s", "redis-timeout", "300ms", "limits-join-timeout", "60s"))) {
      TestPeer filler = cluster.connect(0);
      dev.switchboard.testing.Waits.waitFor(3000, () -> cluster.node(0).record().connections() >= 1);
      cluster.killRedis();
      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), cluster.port(0))) {
        s.setSoTimeout(3000);
        OutputStream out = s.getOutputStream();
        out.write(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
        String status;
        try {
          status = in.readLine();
        } catch (SocketTimeoutException e) {
          fail("the full node gave no answer at all within 3 s to a WebSocket upgrade while Redis is down "
              + "(placement failed; the request hangs)");
          return;
        }
        assertTrue(status != null && status.startsWith("HTTP/1.1 503"), "status line: " + status);
      }
      filler.close();
    }
  }

  @Test
  @DisplayName("a mistyped redis.url that carries a password is not echoed in the start-up error")
  void redisPasswordNotEchoedInConfigError() {
    String secret = "hunter2-redis-password";
    try {
      ConfigLoader.load(List.of("--redis-url", "redis//:" + secret + "@redis.internal:6379"), Map.of());
      fail("a redis.url without a scheme was accepted");
    } catch (ConfigException e) {
      // Main prints this message to stderr, where the log shipper picks it up.
      assertFalse(e.getMessage().contains(secret), "the error message carries the password: " + e.getMessage());
    }
  }
}
