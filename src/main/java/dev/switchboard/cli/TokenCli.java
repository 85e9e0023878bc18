package dev.switchboard.cli;

import dev.switchboard.auth.RoomTokens;
import dev.switchboard.config.Config;
import dev.switchboard.config.Setting;
import dev.switchboard.protocol.ClientMessage;
import dev.switchboard.protocol.Ids;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code token --room R}: prints a room token signed with the node's {@code auth.secret} (read like
 * the node reads it: file, environment, options), for development and tests. Production tokens
 * come from the application's backend.
 */
@Command(name = "token", mixinStandardHelpOptions = true, abbreviateSynopsis = true, sortOptions = false,
    description = {"Prints a room token signed with auth.secret, for development and tests."})
final class TokenCli implements Callable<Integer> {

  /** Longest token lifetime the command mints: a development token should not outlive the month. */
  static final Duration MAX_TTL = Duration.ofDays(30);

  private final SwitchboardCli.Context context;
  @Spec
  CommandSpec spec;
  @Option(names = "--room", required = true, paramLabel = "ROOM", description = "the room it grants, or * for any")
  String room;
  @Option(names = "--peer", paramLabel = "PEER", description = "the only peer id it grants (and the id of a join"
      + " that names none)")
  String peer;
  @Option(names = "--role", paramLabel = "ROLE", description = "the only role it grants: peer, presenter or viewer;"
      + " without it: peer and viewer")
  String role;
  @Option(names = "--ttl", paramLabel = "DURATION", defaultValue = "1h", description = "how long it is valid"
      + " (default: ${DEFAULT-VALUE}; at most 30d)")
  String ttl;

  TokenCli(SwitchboardCli.Context context) {
    this.context = context;
  }

  @Override
  public Integer call() {
    String wrong = null;
    Duration lifetime = null;
    if (!room.equals("*") && !Ids.isValid(room)) {
      wrong = "--room must be * or match [A-Za-z0-9._-]{1,64}";
    } else if (peer != null && !Ids.isValid(peer)) {
      wrong = "--peer must match [A-Za-z0-9._-]{1,64}";
    } else if (role != null && ClientMessage.Role.fromWire(role) == null) {
      wrong = "--role must be peer, presenter or viewer";
    } else {
      try {
        lifetime = Setting.parseDuration(ttl);
        if (lifetime.toSeconds() < 1 || lifetime.compareTo(MAX_TTL) > 0) {
          wrong = "--ttl must be between 1s and " + MAX_TTL.toDays() + " days";
        }
      } catch (IllegalArgumentException e) {
        wrong = "--ttl " + e.getMessage();
      }
    }
    if (wrong != null) {
      context.err().println("switchboard: " + wrong + "; see 'switchboard token --help'");
      return SwitchboardCli.USAGE;
    }
    Config.Auth auth = context.config(spec).auth();
    if (auth.secret().isEmpty()) {
      context.err().println("switchboard: token signs with auth.secret: set --auth-secret or SWITCHBOARD_AUTH_SECRET"
          + (auth.publicKey().isPresent() ? " (tokens for auth.public-key are signed by the holder of its private key)"
          : ""));
      return SwitchboardCli.USAGE;
    }
    Vertx vertx = Vertx.vertx();
    try {
      context.out().println(RoomTokens.mint(vertx, auth.secret(), room, peer, role, lifetime, auth.issuer(),
          auth.audience()));
      return 0;
    } finally {
      vertx.close().await();
    }
  }
}
