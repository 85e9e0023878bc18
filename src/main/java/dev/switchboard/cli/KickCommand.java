package dev.switchboard.cli;

import dev.switchboard.config.Config;
import dev.switchboard.protocol.Ids;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code kick ROOM PEER}: removes a peer from its room through a node's admin API
 * ({@code DELETE /v1/rooms/R/peers/P}, with {@code admin.key}), whichever node holds it.
 */
@Command(name = "kick", mixinStandardHelpOptions = true, abbreviateSynopsis = true, sortOptions = false,
    description = {"Removes a peer from its room through a node's admin API (admin.key): its client gets "
        + "error kicked and close 4406, the others peer-left kicked. Any node will do."})
final class KickCommand implements Callable<Integer> {

  private final SwitchboardCli.Context context;
  @Spec
  CommandSpec spec;
  @Parameters(index = "0", paramLabel = "ROOM", description = "the room")
  String room;
  @Parameters(index = "1", paramLabel = "PEER", description = "the peer to remove")
  String peer;
  @Option(names = "--node", paramLabel = "URL", description = "a node's HTTP URL; default: node.public-url, which"
      + " defaults to http://127.0.0.1:<http.port>")
  String node;

  KickCommand(SwitchboardCli.Context context) {
    this.context = context;
  }

  @Override
  public Integer call() throws IOException, InterruptedException {
    if (!Ids.isValid(room) || !Ids.isValid(peer)) {
      context.err().println("switchboard: ROOM and PEER must match [A-Za-z0-9._-]{1,64}; see 'switchboard kick --help'");
      return SwitchboardCli.USAGE;
    }
    Config config = context.config(spec);
    if (config.adminKey().isEmpty()) {
      context.err().println("switchboard: kick uses the admin API: set --admin-key or SWITCHBOARD_ADMIN_KEY");
      return SwitchboardCli.USAGE;
    }
    String base = node != null ? node : config.publicUrl();
    URI uri = URI.create(base.replaceAll("/+$", "") + "/v1/rooms/" + encode(room) + "/peers/" + encode(peer));
    HttpResponse<String> r;
    try {
      r = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build().send(HttpRequest.newBuilder(uri)
          .timeout(Duration.ofSeconds(15)).header("Authorization", "Bearer " + config.adminKey()).DELETE().build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      context.err().println("switchboard: no answer from " + base + " (" + e.getMessage() + ")");
      return SwitchboardCli.FAILED;
    }
    if (r.statusCode() == 200) {
      context.out().println("kicked " + peer + " from " + room);
      return 0;
    }
    String why;
    try {
      why = new JsonObject(r.body()).getString("message", r.body());
    } catch (RuntimeException notJson) {
      why = r.body();
    }
    context.err().println("switchboard: " + base + " answered " + r.statusCode() + ": " + why);
    return SwitchboardCli.FAILED;
  }

  private static String encode(String id) {
    return URLEncoder.encode(id, StandardCharsets.UTF_8);
  }
}
