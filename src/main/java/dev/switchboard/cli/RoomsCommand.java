package dev.switchboard.cli;

import dev.switchboard.ops.RedisTables;
import dev.switchboard.protocol.Ids;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code rooms [ROOM]}: the busiest rooms, or one room's configuration and members, from Redis. */
@Command(name = "rooms", mixinStandardHelpOptions = true, abbreviateSynopsis = true, sortOptions = false,
    description = {"The busiest rooms (at most " + RedisTables.ROOMS_LISTED + "), or one room's configuration and"
        + " members, read from Redis."})
final class RoomsCommand implements Callable<Integer> {

  private final SwitchboardCli.Context context;
  @Spec
  CommandSpec spec;
  @Parameters(arity = "0..1", paramLabel = "ROOM", description = "a room id: show its members")
  String room;

  RoomsCommand(SwitchboardCli.Context context) {
    this.context = context;
  }

  @Override
  public Integer call() {
    if (room != null && !Ids.isValid(room)) {
      context.err().println("switchboard: ROOM must match [A-Za-z0-9._-]{1,64}; see 'switchboard rooms --help'");
      return SwitchboardCli.USAGE;
    }
    try (RedisCommand redis = RedisCommand.open(context, spec)) {
      if (redis == null) {
        return SwitchboardCli.USAGE;
      }
      if (room == null) {
        context.out().print(RedisTables.rooms(redis.store));
        return 0;
      }
      Optional<String> shown = RedisTables.room(redis.store, room);
      if (shown.isEmpty()) {
        context.err().println("switchboard: no room " + room);
        return SwitchboardCli.FAILED;
      }
      context.out().print(shown.get());
      return 0;
    } catch (Exception e) { // Future.await() rethrows the connection's IOException as it is
      context.err().println("switchboard: Redis did not answer (" + e.getMessage() + ")");
      return SwitchboardCli.FAILED;
    }
  }
}
