package dev.switchboard;

import dev.switchboard.cli.SwitchboardCli;
import dev.switchboard.config.Config;
import dev.switchboard.registry.LocalRedis;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process: the command line ({@link SwitchboardCli}: {@code switchboard --help}) decides what
 * to run; running a node is this class's part, since only it may end the process with the node.
 */
public final class Main {

  private Main() {
  }

  public static void main(String[] args) {
    System.setProperty("vertx.logger-delegate-factory-class-name", "io.vertx.core.logging.SLF4JLogDelegateFactory");
    System.setProperty("hazelcast.logging.type", "slf4j");
    int code = SwitchboardCli.execute(args, System.getenv(), System.out, System.err, Main::serve);
    if (code != SwitchboardCli.RUNNING) {
      System.exit(code);
    }
  }

  /**
   * Starts a node with {@code config} (and a local Redis when it names none) and returns
   * {@link SwitchboardCli#RUNNING}: SIGTERM drains and stops it. 1 if it could not start.
   */
  private static int serve(Config config) {
    Logger log = LoggerFactory.getLogger(Main.class);
    LocalRedis localRedis = null;
    if (config.embeddedRedis()) {
      try {
        localRedis = LocalRedis.start();
      } catch (IOException e) {
        System.err.println("switchboard: no redis.url is configured and a local Redis could not start: "
            + e.getMessage());
        return 1;
      }
      config = config.withRedisUrl(localRedis.url());
    }
    Node node;
    try {
      node = Node.start(config).await();
    } catch (Exception e) {
      log.atError().addKeyValue("error", String.valueOf(e.getMessage())).setCause(e).log("node failed to start");
      if (localRedis != null) {
        localRedis.close();
      }
      return 1;
    }
    LocalRedis redisToStop = localRedis;
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        node.drainThenStop().await(); // SIGTERM: the clients move to other nodes first
      } catch (Exception e) {
        log.atWarn().addKeyValue("error", String.valueOf(e.getMessage())).log("unclean stop");
      }
      if (redisToStop != null) {
        redisToStop.close();
      }
    }, "switchboard-shutdown"));
    return SwitchboardCli.RUNNING;
  }
}
