package dev.switchboard.cli;

import dev.switchboard.config.Config;
import dev.switchboard.registry.Keys;
import dev.switchboard.registry.Placement;
import dev.switchboard.registry.RedisRoomStore;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import picocli.CommandLine.Model.CommandSpec;

/**
 * A command that reads the cluster's Redis ({@code --redis-url} or {@code SWITCHBOARD_REDIS_URL},
 * like the node): it opens a client for the command's run and closes it after. Not embedded
 * Redis: a command with no Redis URL says how to give one (exit 2).
 */
final class RedisCommand implements AutoCloseable {

  final Config config;
  final Vertx vertx;
  final Redis redis;
  final RedisRoomStore store;
  final Placement placement;

  private RedisCommand(Config config) {
    this.config = config;
    this.vertx = Vertx.vertx();
    this.redis = Redis.createClient(vertx, config.redisUrl());
    Keys keys = new Keys(config.redisPrefix());
    this.store = new RedisRoomStore(redis, keys, config.redisTimeout(), () -> null);
    this.placement = new Placement(redis, keys, config.softCapacity(), config.redisTimeout());
  }

  /** Opens Redis for {@code spec}'s command, or null (and the reason printed) when no URL was given. */
  static RedisCommand open(SwitchboardCli.Context context, CommandSpec spec) {
    Config config = context.config(spec);
    if (config.redisUrl().isEmpty()) {
      context.err().println("switchboard: " + spec.name() + " reads Redis: set --redis-url or SWITCHBOARD_REDIS_URL");
      return null;
    }
    return new RedisCommand(config);
  }

  @Override
  public void close() {
    redis.close();
    vertx.close().await();
  }
}
