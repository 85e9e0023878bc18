package dev.switchboard;

import dev.switchboard.bench.BenchCommand;
import dev.switchboard.config.Config;
import dev.switchboard.config.ConfigException;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.ops.Cli;
import dev.switchboard.ops.TokenCommand;
import dev.switchboard.registry.LocalRedis;
import java.io.IOException;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code java -jar switchboard.jar [--setting value ...]} runs one node until SIGTERM;
 * {@code java -jar switchboard.jar nodes|rooms [room] [--redis-url URL]} prints what Redis holds;
 * {@code java -jar switchboard.jar token --room R [--peer P] [--ttl 1h]} prints a room token;
 * {@code java -jar switchboard.jar bench <scenario> [options]} runs a benchmark (docs/benchmarks.md).
 */
public final class Main {

  private Main() {
  }

  public static void main(String[] args) {
    System.setProperty("vertx.logger-delegate-factory-class-name", "io.vertx.core.logging.SLF4JLogDelegateFactory");
    System.setProperty("hazelcast.logging.type", "slf4j");
    if (Help.asked(Arrays.asList(args))) {
      System.out.print(Help.text(Arrays.asList(args)));
      System.exit(0);
      return;
    }
    if (args.length > 0 && "bench".equals(args[0])) {
      BenchCommand.quietClientLogs();
      System.exit(BenchCommand.run(Arrays.asList(args), System.out, System.err));
      return;
    }
    if (args.length > 0 && "token".equals(args[0])) {
      System.exit(TokenCommand.run(Arrays.asList(args), System.getenv(), System.out, System.err));
      return;
    }
    if (args.length > 0 && Cli.isCommand(args[0])) {
      System.exit(Cli.run(Arrays.asList(args), System.getenv(), System.out, System.err));
      return;
    }
    Logger log = LoggerFactory.getLogger(Main.class);
    Config config;
    try {
      config = ConfigLoader.load(Arrays.asList(args), System.getenv());
    } catch (ConfigException e) {
      System.err.println("switchboard: " + e.getMessage());
      System.exit(2);
      return;
    }
    LocalRedis localRedis = null;
    if (config.embeddedRedis()) {
      try {
        localRedis = LocalRedis.start();
      } catch (IOException e) {
        System.err.println("switchboard: no redis.url is configured and a local Redis could not start: "
            + e.getMessage());
        System.exit(1);
        return;
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
      System.exit(1);
      return;
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
  }
}
