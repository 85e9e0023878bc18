package dev.switchboard.cli;

import dev.switchboard.bench.BenchCommand;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code bench SCENARIO [options]}: the load generator (docs/benchmarks.md). Its options are the
 * scenarios' own, many and shared between them, so they are handed to {@link BenchCommand} as
 * given; picocli gives it its place among the commands and its {@code --help}.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, abbreviateSynopsis = true,
    description = {"Runs a load scenario against running nodes, or starts its own (suite); prints figures. "
        + "docs/benchmarks.md explains each scenario and figure."})
final class BenchCli implements Callable<Integer> {

  private final SwitchboardCli.Context context;
  @Parameters(paramLabel = "SCENARIO [options]", arity = "1..*", description = "see the list below")
  List<String> args = new ArrayList<>();

  private BenchCli(SwitchboardCli.Context context) {
    this.context = context;
  }

  /** The command, taking the scenarios' options as they come, with the scenario list as its help's footer. */
  static CommandLine commandLine(SwitchboardCli.Context context) {
    CommandLine cli = new CommandLine(new BenchCli(context));
    cli.setUnmatchedOptionsArePositionalParams(true);
    cli.getCommandSpec().usageMessage().footer(("%n" + BenchCommand.USAGE.replace("%", "%%")).split("\n"));
    return cli;
  }

  @Override
  public Integer call() {
    BenchCommand.quietClientLogs();
    List<String> all = new ArrayList<>(List.of("bench"));
    all.addAll(args);
    return BenchCommand.run(all, context.out(), context.err());
  }
}
