package dev.switchboard.ops;

import dev.switchboard.auth.RoomTokens;
import dev.switchboard.config.Config;
import dev.switchboard.config.ConfigException;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.config.Setting;
import dev.switchboard.protocol.ClientMessage;
import dev.switchboard.protocol.Ids;
import io.vertx.core.Vertx;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code token --room R [--peer P] [--role ROLE] [--ttl 1h]}: prints an HS256 room token signed
 * with the node's {@code auth.secret} (read like the node reads it: file, environment, flags),
 * for development and tests. Production tokens come from the application's backend.
 */
public final class TokenCommand {

  /** Longest token lifetime the command mints: a development token should not outlive the day. */
  static final Duration MAX_TTL = Duration.ofDays(30);

  private TokenCommand() {
  }

  public static int run(List<String> args, Map<String, String> env, PrintStream out, PrintStream err) {
    Map<String, String> own = new HashMap<>();
    List<String> rest = new ArrayList<>();
    for (int i = 1; i < args.size(); i++) {
      String a = args.get(i);
      if (List.of("--room", "--peer", "--role", "--ttl").contains(a)) {
        if (i + 1 >= args.size()) {
          err.println("switchboard: " + a + " needs a value");
          return 2;
        }
        own.put(a, args.get(++i));
      } else {
        rest.add(a);
      }
    }
    String room = own.get("--room");
    if (room == null || !(room.equals("*") || Ids.isValid(room))) {
      err.println("usage: switchboard token --room ROOM|* [--peer PEER] [--role peer|presenter|viewer] [--ttl 1h]");
      return 2;
    }
    String peer = own.get("--peer");
    if (peer != null && !Ids.isValid(peer)) {
      err.println("switchboard: --peer must match [A-Za-z0-9._-]{1,64}");
      return 2;
    }
    String role = own.get("--role");
    if (role != null && ClientMessage.Role.fromWire(role) == null) {
      err.println("switchboard: --role must be peer, presenter or viewer");
      return 2;
    }
    Duration ttl;
    try {
      ttl = Setting.parseDuration(own.getOrDefault("--ttl", "1h"));
    } catch (IllegalArgumentException e) {
      err.println("switchboard: --ttl " + e.getMessage());
      return 2;
    }
    if (ttl.toSeconds() < 1 || ttl.compareTo(MAX_TTL) > 0) {
      err.println("switchboard: --ttl must be between 1s and " + MAX_TTL.toDays() + " days");
      return 2;
    }
    Config config;
    try {
      config = ConfigLoader.load(rest, env);
    } catch (ConfigException e) {
      err.println("switchboard: " + e.getMessage());
      return 2;
    }
    Config.Auth auth = config.auth();
    if (auth.secret().isEmpty()) {
      err.println("switchboard: token signs with auth.secret: set --auth-secret or SWITCHBOARD_AUTH_SECRET"
          + (auth.publicKey().isPresent() ? " (tokens for auth.public-key are signed by the holder of its private key)" : ""));
      return 2;
    }
    Vertx vertx = Vertx.vertx();
    try {
      out.println(RoomTokens.mint(vertx, auth.secret(), room, peer, role, ttl, auth.issuer(), auth.audience()));
      return 0;
    } finally {
      vertx.close().await();
    }
  }
}
