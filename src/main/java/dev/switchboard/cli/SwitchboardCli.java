package dev.switchboard.cli;

import dev.switchboard.config.Config;
import dev.switchboard.config.ConfigException;
import dev.switchboard.config.ConfigLoader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The {@code switchboard} command line: with no command it runs a node ({@code serve}); the
 * commands read the cluster's state ({@code nodes}, {@code rooms}), act on it ({@code kick}),
 * mint development tokens ({@code token}) or load a cluster ({@code bench}). {@code --help},
 * {@code -h} and {@code help} work everywhere; every setting is an option, described from the one
 * settings table.
 *
 * <p>Exit codes: 0 done; 1 failed (Redis or a node did not answer, the node could not start); 2
 * the command line or a setting is wrong (the message names it and points at {@code --help}).
 */
public final class SwitchboardCli {

  /** What {@link #execute} returns for {@code serve}: the node runs on, and the process ends with it. */
  public static final int RUNNING = -1;
  static final int FAILED = 1;
  static final int USAGE = 2;

  private SwitchboardCli() {
  }

  /**
   * Runs the command line {@code args}. {@code serve} gets the loaded configuration and returns
   * {@link #RUNNING}, or an exit code if the node did not start.
   */
  public static int execute(String[] args, Map<String, String> env, PrintStream out, PrintStream err,
                            Function<Config, Integer> serve) {
    Context context = new Context(env, out, err, serve);
    CommandLine cli = new CommandLine(new Root(context));
    cli.addSubcommand(new CommandLine(new Serve(context)));
    cli.addSubcommand(new CommandLine(new NodesCommand(context)));
    cli.addSubcommand(new CommandLine(new RoomsCommand(context)));
    cli.addSubcommand(new CommandLine(new KickCommand(context)));
    cli.addSubcommand(new CommandLine(new TokenCli(context)));
    cli.addSubcommand(BenchCli.commandLine(context));
    cli.addSubcommand(new CommandLine(new CommandLine.HelpCommand()));
    for (String name : List.of("switchboard", "serve", "nodes", "rooms", "kick", "token")) {
      SettingOptions.addTo(name.equals("switchboard") ? cli.getCommandSpec()
          : cli.getSubcommands().get(name).getCommandSpec());
    }
    cli.setOverwrittenOptionsAllowed(true); // a setting given twice: the later one wins, as between sources
    cli.setUsageHelpWidth(100);
    cli.getSubcommands().get("bench").setUsageHelpWidth(160); // its scenario table is laid out by hand
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    cli.setParameterExceptionHandler((e, given) -> {
      CommandLine at = e.getCommandLine();
      err.println("switchboard: " + e.getMessage());
      CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
      err.println("see '" + at.getCommandSpec().qualifiedName() + " --help'");
      return USAGE;
    });
    cli.setExecutionExceptionHandler((e, at, parsed) -> {
      if (e instanceof ConfigException c) {
        err.println("switchboard: " + c.getMessage());
        err.println("see '" + at.getCommandSpec().qualifiedName() + " --help'");
        return USAGE;
      }
      throw e;
    });
    return cli.execute(args);
  }

  /** What every command gets: the environment, the output streams, and how to run a node. */
  record Context(Map<String, String> env, PrintStream out, PrintStream err, Function<Config, Integer> serve) {
    /** The settings given on {@code spec}'s command line, loaded like the node loads them. */
    Config config(CommandSpec spec) {
      return ConfigLoader.load(SettingOptions.given(spec), env);
    }
  }

  @Command(name = "switchboard", mixinStandardHelpOptions = true, abbreviateSynopsis = true, versionProvider = Version.class,
      synopsisSubcommandLabel = "[COMMAND]", sortOptions = false, commandListHeading = "%nCommands:%n",
      optionListHeading = "%nOptions (each setting of the node is one):%n",
      description = {"A clustered WebRTC signaling server. With no command, runs a node with the settings given "
          + "(no redis.url: it starts a local Redis itself).", "",
          "Settings come from conf/switchboard.json (or --config FILE), then SWITCHBOARD_* environment variables, "
          + "then options; later ones win."},
      footerHeading = "%nExit codes:%n",
      footer = {"  0  done", "  1  failed: Redis or a node did not answer, or the node could not start",
          "  2  a wrong option or setting (the message names it)",
          "", "docs/configuration.md describes every setting; docs/operations.md the commands."})
  static final class Root extends RunsNode {
    Root(Context context) {
      super(context);
    }
  }

  @Command(name = "serve", mixinStandardHelpOptions = true, abbreviateSynopsis = true, versionProvider = Version.class, sortOptions = false,
      description = {"Runs a node until SIGTERM, which drains it first (its clients resume on other nodes). "
          + "The same as giving no command."})
  static final class Serve extends RunsNode {
    Serve(Context context) {
      super(context);
    }
  }

  /** A command that runs a node with the settings given: the top one, and {@code serve}. */
  abstract static class RunsNode implements Callable<Integer> {
    private final Context context;
    @Spec
    CommandSpec spec;

    RunsNode(Context context) {
      this.context = context;
    }

    @Override
    public Integer call() {
      return context.serve().apply(context.config(spec));
    }
  }

  /** {@code --version}: the release, from the jar's manifest ({@code dev} when run from classes). */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = SwitchboardCli.class.getPackage().getImplementationVersion();
      return new String[] {"switchboard " + (v == null ? "dev" : v), "Java " + System.getProperty("java.version")};
    }
  }
}
