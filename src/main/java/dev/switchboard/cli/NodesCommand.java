package dev.switchboard.cli;

import dev.switchboard.ops.RedisTables;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import sun.misc.Signal;

/**
 * {@code nodes [--watch]}: the live nodes and their load, from Redis; with {@code --watch}, the
 * table again every second in place (like {@code top}) until Ctrl-C.
 */
@Command(name = "nodes", mixinStandardHelpOptions = true, abbreviateSynopsis = true, sortOptions = false,
    description = {"The live nodes and their load (connections, rooms, state, last heartbeat), read from Redis."})
final class NodesCommand implements Callable<Integer> {

  static final long REFRESH_MS = 1000;
  /** Terminal controls: cursor home, clear to the end of the line, clear below, hide and show the cursor. */
  private static final String HOME = "\033[H";
  private static final String CLEAR_LINE = "\033[K";
  private static final String CLEAR_BELOW = "\033[J";
  private static final String HIDE_CURSOR = "\033[?25l";
  private static final String SHOW_CURSOR = "\033[?25h";

  private final SwitchboardCli.Context context;
  @Spec
  CommandSpec spec;
  @Option(names = "--watch", description = "show the table again every second, in place, until Ctrl-C")
  boolean watch;

  NodesCommand(SwitchboardCli.Context context) {
    this.context = context;
  }

  @Override
  public Integer call() throws InterruptedException {
    try (RedisCommand redis = RedisCommand.open(context, spec)) {
      if (redis == null) {
        return SwitchboardCli.USAGE;
      }
      if (!watch) {
        context.out().print(RedisTables.nodes(redis.placement));
        return 0;
      }
      return watch(redis);
    } catch (InterruptedException e) {
      throw e;
    } catch (Exception e) { // Future.await() rethrows the connection's IOException as it is
      context.err().println("switchboard: Redis did not answer (" + e.getMessage() + ")");
      return SwitchboardCli.FAILED;
    }
  }

  /**
   * Redraws the table every second over the last one (cursor home, each line cleared to its end,
   * what is left below cleared): no blank frame between two, so no flicker. Ctrl-C ends it with
   * the cursor shown again and exit code 0; a Redis that stops answering is shown, not fatal.
   */
  private int watch(RedisCommand redis) throws InterruptedException {
    CountDownLatch interrupted = new CountDownLatch(1);
    Signal.handle(new Signal("INT"), s -> interrupted.countDown());
    context.out().print("\033[2J" + HIDE_CURSOR);
    try {
      do {
        String table;
        try {
          table = RedisTables.nodes(redis.placement);
        } catch (Exception e) {
          table = "Redis did not answer: " + e.getMessage() + "\n";
        }
        StringBuilder frame = new StringBuilder(HOME);
        frame.append("switchboard nodes - every 1s - ").append(LocalTime.now().truncatedTo(ChronoUnit.SECONDS))
            .append(" - Ctrl-C to stop").append(CLEAR_LINE).append('\n').append(CLEAR_LINE).append('\n');
        table.lines().forEach(line -> frame.append(line).append(CLEAR_LINE).append('\n'));
        frame.append(CLEAR_BELOW);
        context.out().print(frame);
        context.out().flush();
      } while (!interrupted.await(REFRESH_MS, TimeUnit.MILLISECONDS));
      return 0;
    } finally {
      context.out().print(SHOW_CURSOR + "\n");
      context.out().flush();
    }
  }
}
