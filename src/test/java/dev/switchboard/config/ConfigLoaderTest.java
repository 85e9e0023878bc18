package dev.switchboard.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("ConfigLoader")
class ConfigLoaderTest {

  @TempDir
  Path tmp;

  private static Config load(List<String> args, Map<String, String> env) {
    return ConfigLoader.load(args, env);
  }

  private static Config loadArgs(String... args) {
    return load(List.of(args), Map.of());
  }

  private static ConfigException fails(List<String> args, Map<String, String> env) {
    return assertThrows(ConfigException.class, () -> ConfigLoader.load(args, env));
  }

  private Path writeConfig(String json) throws IOException {
    Path file = tmp.resolve("switchboard-test.json");
    Files.writeString(file, json, StandardCharsets.UTF_8);
    return file;
  }

  // --- defaults ---

  @Test
  @DisplayName("with no flags and no environment the HTTP and node defaults load")
  void defaults() {
    Config c = load(List.of(), Map.of());
    assertEquals(8080, c.httpPort());
    assertEquals("0.0.0.0", c.httpHost());
    assertEquals("http://127.0.0.1:8080", c.publicUrl());
    assertTrue(c.verticles() >= 1, "0 verticles means one per core");
    assertEquals("", c.redisUrl());
    assertTrue(c.embeddedRedis());
    assertEquals("sb:", c.redisPrefix());
    assertEquals(Duration.ofSeconds(2), c.redisTimeout());
    assertEquals(new Config.Ice(new JsonArray(), List.of(), "", Duration.ofHours(24)), c.ice());
    assertEquals("", c.clientDir());
  }

  @Test
  @DisplayName("by default the node runs open: no tokens, any origin, no trusted proxies")
  void defaultAccess() {
    Config c = load(List.of(), Map.of());
    assertFalse(c.auth().enabled());
    assertEquals(new Config.Auth("", PublicKeyPem.NONE, "", "", Duration.ofSeconds(30)), c.auth());
    assertEquals(new Config.Access(List.of("*"), List.of(), 100, 10, 40), c.access());
  }

  @Test
  @DisplayName("the default limits are the documented ones")
  void defaultLimits() {
    Config.Limits l = load(List.of(), Map.of()).limits();
    assertEquals(new Config.Limits(65536, 1024, 1024, 25, 50, 100, Duration.ofSeconds(5),
        Duration.ofSeconds(10), Duration.ofSeconds(5), 65536, Duration.ofSeconds(10), 1048576, 268435456L,
        Duration.ofSeconds(15), Duration.ofSeconds(30), Duration.ofSeconds(15), 256, 262144), l);
  }

  @Test
  @DisplayName("the default cluster settings are the documented ones")
  void defaultCluster() {
    Config.Cluster c = load(List.of(), Map.of()).cluster();
    assertEquals(new Config.Cluster("switchboard", "127.0.0.1", 5701, List.of("127.0.0.1"), 0,
        "conf/cluster.xml", 2), c);
  }

  @Test
  @DisplayName("limits.toClientJson() exposes the client-facing limits")
  void clientLimits() {
    JsonObject json = load(List.of(), Map.of()).limits().toClientJson();
    assertEquals(new JsonObject().put("frameBytes", 65536).put("metaBytes", 1024).put("stateBytes", 1024)
        .put("maxPeers", 25).put("rate", 50).put("rateBurst", 100).put("resumeWindowMs", 15000L), json);
  }

  // --- precedence ---

  @Test
  @DisplayName("SWITCHBOARD_HTTP_PORT in the environment overrides the default port")
  void envOverridesDefault() {
    Config c = load(List.of(), Map.of("SWITCHBOARD_HTTP_PORT", "8181"));
    assertEquals(8181, c.httpPort());
    assertEquals("http://127.0.0.1:8181", c.publicUrl());
  }

  @Test
  @DisplayName("an environment variable for a dashed name uses underscores")
  void envDashedName() {
    Config c = load(List.of(), Map.of("SWITCHBOARD_LIMITS_JOIN_TIMEOUT", "3s"));
    assertEquals(Duration.ofSeconds(3), c.limits().joinTimeout());
  }

  @Test
  @DisplayName("--http-port 9000 overrides the environment")
  void flagSpaceOverridesEnv() {
    Config c = load(List.of("--http-port", "9000"), Map.of("SWITCHBOARD_HTTP_PORT", "8181"));
    assertEquals(9000, c.httpPort());
  }

  @Test
  @DisplayName("--http-port=9000 overrides the environment")
  void flagEqualsOverridesEnv() {
    Config c = load(List.of("--http-port=9000"), Map.of("SWITCHBOARD_HTTP_PORT", "8181"));
    assertEquals(9000, c.httpPort());
  }

  @Test
  @DisplayName("--limits-join-timeout 2s overrides the environment")
  void durationFlagOverridesEnv() {
    Config c = load(List.of("--limits-join-timeout", "2s"),
        Map.of("SWITCHBOARD_LIMITS_JOIN_TIMEOUT", "7s"));
    assertEquals(Duration.ofSeconds(2), c.limits().joinTimeout());
  }

  @Test
  @DisplayName("flags with dashes in the second part of the name reach their setting")
  void dashedFlags() {
    Config c = loadArgs("--node-public-url", "https://sb.example.org", "--cluster-bus-port", "7000",
        "--limits-rate-burst", "7", "--redis-url", "redis://localhost:6379/1");
    assertEquals("https://sb.example.org", c.publicUrl());
    assertEquals(7000, c.cluster().busPort());
    assertEquals(7, c.limits().rateBurst());
    assertEquals("redis://localhost:6379/1", c.redisUrl());
  }

  @Test
  @DisplayName("a configuration file given with --config overrides the defaults")
  void fileOverridesDefaults() throws IOException {
    Path file = writeConfig("{\"http\":{\"port\":8282},\"limits\":{\"rate\":7}}");
    Config c = loadArgs("--config", file.toString());
    assertEquals(8282, c.httpPort());
    assertEquals(7, c.limits().rate());
  }

  @Test
  @DisplayName("the environment overrides the configuration file")
  void envOverridesFile() throws IOException {
    Path file = writeConfig("{\"http\":{\"port\":8282}}");
    Config c = load(List.of("--config", file.toString()), Map.of("SWITCHBOARD_HTTP_PORT", "8383"));
    assertEquals(8383, c.httpPort());
  }

  @Test
  @DisplayName("SWITCHBOARD_CONFIG names the configuration file when there is no --config")
  void configFromEnv() throws IOException {
    Path file = writeConfig("{\"http\":{\"port\":8484}}");
    Config c = load(List.of(), Map.of("SWITCHBOARD_CONFIG", file.toString()));
    assertEquals(8484, c.httpPort());
  }

  @Test
  @DisplayName("keys starting with an underscore in the configuration file are ignored as comments")
  void commentKeysIgnored() throws IOException {
    Path file = writeConfig("{\"_comment\":\"hi\",\"http\":{\"_note\":1,\"port\":8585}}");
    assertEquals(8585, loadArgs("--config", file.toString()).httpPort());
  }

  @Test
  @DisplayName("ice.servers from a flag is parsed as a JSON array")
  void iceServersFlag() {
    Config c = loadArgs("--ice-servers", "[{\"urls\":\"stun:stun.example.org:3478\"}]");
    assertEquals(new JsonArray().add(new JsonObject().put("urls", "stun:stun.example.org:3478")),
        c.ice().servers());
  }

  @Test
  @DisplayName("cluster.members is split on commas, blanks dropped")
  void clusterMembers() {
    Config c = loadArgs("--cluster-members", "10.0.0.1:5701, 10.0.0.2 ,,host-3");
    assertEquals(List.of("10.0.0.1:5701", "10.0.0.2", "host-3"), c.cluster().members());
  }

  // --- durations ---

  @Test
  @DisplayName("a duration of 500ms is 500 milliseconds")
  void durationMillis() {
    assertEquals(Duration.ofMillis(500), loadArgs("--limits-join-timeout", "500ms").limits().joinTimeout());
  }

  @Test
  @DisplayName("a duration of 2s is two seconds")
  void durationSeconds() {
    assertEquals(Duration.ofSeconds(2), loadArgs("--limits-ack-timeout", "2s").limits().ackTimeout());
  }

  @Test
  @DisplayName("a duration of 1.5s is 1500 milliseconds")
  void durationFractionalSeconds() {
    assertEquals(Duration.ofMillis(1500), loadArgs("--limits-ack-timeout", "1.5s").limits().ackTimeout());
  }

  @Test
  @DisplayName("a duration of 1m is one minute")
  void durationMinutes() {
    assertEquals(Duration.ofMinutes(1), loadArgs("--limits-join-timeout", "1m").limits().joinTimeout());
  }

  @Test
  @DisplayName("a plain number as a duration is milliseconds")
  void durationPlain() {
    assertEquals(Duration.ofMillis(750), loadArgs("--limits-join-timeout", "750").limits().joinTimeout());
  }

  @Test
  @DisplayName("client.dir must be empty or hold the client's demo/ and src/: a typo is not a site of 404s")
  void clientDir() {
    ConfigException e = fails(List.of("--client-dir", "/no/such/client"), Map.of());
    assertTrue(e.getMessage().contains("client.dir"), e.getMessage());
    fails(List.of("--client-dir", "docs"), Map.of()); // a directory, but not a client
    assertEquals(Path.of("client").toAbsolutePath().toString(),
        loadArgs("--client-dir", Path.of("client").toAbsolutePath().toString()).clientDir());
  }

  @Test
  @DisplayName("a duration that is not one is refused naming the setting")
  void durationInvalid() {
    ConfigException e = fails(List.of("--limits-join-timeout", "soon"), Map.of());
    assertTrue(e.getMessage().contains("limits.join-timeout"), e.getMessage());
  }

  @Test
  @DisplayName("a duration below the setting's minimum is refused naming the setting")
  void durationTooShort() {
    ConfigException e = fails(List.of("--limits-join-timeout", "10ms"), Map.of());
    assertTrue(e.getMessage().contains("limits.join-timeout"), e.getMessage());
  }

  // --- invalid values ---

  @Test
  @DisplayName("a non-numeric port is refused with a message naming http.port and the source")
  void badPort() {
    ConfigException e = fails(List.of("--http-port", "abc"), Map.of());
    assertTrue(e.getMessage().contains("http.port"), e.getMessage());
    assertTrue(e.getMessage().contains("--http-port"), e.getMessage());
    assertTrue(e.getMessage().contains("abc"), e.getMessage());
  }

  @Test
  @DisplayName("a port above 65535 is refused naming http.port")
  void portOutOfRange() {
    ConfigException e = fails(List.of("--http-port", "70000"), Map.of());
    assertTrue(e.getMessage().contains("http.port"), e.getMessage());
  }

  @Test
  @DisplayName("a bad port from the environment is refused naming the setting and the variable")
  void badPortFromEnv() {
    ConfigException e = fails(List.of(), Map.of("SWITCHBOARD_HTTP_PORT", "eighty"));
    assertTrue(e.getMessage().contains("http.port"), e.getMessage());
    assertTrue(e.getMessage().contains("SWITCHBOARD_HTTP_PORT"), e.getMessage());
  }

  @Test
  @DisplayName("a Redis URL that is not redis:// or rediss:// is refused naming redis.url")
  void badRedisUrl() {
    ConfigException e = fails(List.of("--redis-url", "http://x"), Map.of());
    assertTrue(e.getMessage().contains("redis.url"), e.getMessage());
  }

  @Test
  @DisplayName("ice.servers that is not JSON is refused naming ice.servers")
  void badIceJson() {
    ConfigException e = fails(List.of("--ice-servers", "[{\"urls\":"), Map.of());
    assertTrue(e.getMessage().contains("ice.servers"), e.getMessage());
  }

  @Test
  @DisplayName("ice.servers that is a JSON object, not an array, is refused naming ice.servers")
  void iceJsonObject() {
    ConfigException e = fails(List.of("--ice-servers", "{\"urls\":\"stun:x\"}"), Map.of());
    assertTrue(e.getMessage().contains("ice.servers"), e.getMessage());
  }

  @Test
  @DisplayName("an ice server entry without urls is refused naming ice.servers")
  void iceWithoutUrls() {
    ConfigException e = fails(List.of("--ice-servers", "[{\"username\":\"u\"}]"), Map.of());
    assertTrue(e.getMessage().contains("ice.servers"), e.getMessage());
  }

  @Test
  @DisplayName("an unknown flag is refused naming the flag")
  void unknownFlag() {
    ConfigException e = fails(List.of("--http-prot", "9000"), Map.of());
    assertTrue(e.getMessage().contains("--http-prot"), e.getMessage());
  }

  @Test
  @DisplayName("an argument that is not a flag is refused")
  void positionalArgument() {
    ConfigException e = fails(List.of("9000"), Map.of());
    assertTrue(e.getMessage().contains("9000"), e.getMessage());
  }

  @Test
  @DisplayName("a flag without a value is refused naming the flag")
  void flagWithoutValue() {
    ConfigException e = fails(List.of("--http-port"), Map.of());
    assertTrue(e.getMessage().contains("--http-port"), e.getMessage());
  }

  @Test
  @DisplayName("an unknown key in the configuration file is refused naming the key and the file")
  void unknownFileKey() throws IOException {
    Path file = writeConfig("{\"http\":{\"port\":8080,\"colour\":\"blue\"}}");
    ConfigException e = fails(List.of("--config", file.toString()), Map.of());
    assertTrue(e.getMessage().contains("http.colour"), e.getMessage());
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
  }

  @Test
  @DisplayName("an invalid value in the configuration file is refused naming the setting and the file")
  void badFileValue() throws IOException {
    Path file = writeConfig("{\"http\":{\"port\":123456}}");
    ConfigException e = fails(List.of("--config", file.toString()), Map.of());
    assertTrue(e.getMessage().contains("http.port"), e.getMessage());
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
  }

  @Test
  @DisplayName("a configuration file that is not JSON is refused naming the file")
  void fileNotJson() throws IOException {
    Path file = writeConfig("http.port = 8080");
    ConfigException e = fails(List.of("--config", file.toString()), Map.of());
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
  }

  @Test
  @DisplayName("a configuration file named with --config that does not exist is refused")
  void fileMissing() {
    Path missing = tmp.resolve("nope.json");
    ConfigException e = fails(List.of("--config", missing.toString()), Map.of());
    assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
  }

  // --- derived values ---

  @Test
  @DisplayName("an empty node.id generates an id starting with node-")
  void generatedNodeId() {
    Config c = loadArgs("--node-id", "");
    assertTrue(c.nodeId().startsWith("node-"), c.nodeId());
    assertTrue(c.nodeId().length() > "node-".length(), c.nodeId());
  }

  @Test
  @DisplayName("two loads with an empty node.id generate different ids")
  void generatedNodeIdsDiffer() {
    assertNotEquals(load(List.of(), Map.of()).nodeId(), load(List.of(), Map.of()).nodeId());
  }

  @Test
  @DisplayName("an explicit node.id is kept")
  void explicitNodeId() {
    assertEquals("edge-7", loadArgs("--node-id=edge-7").nodeId());
  }

  @Test
  @DisplayName("an invalid node.id is refused naming node.id")
  void badNodeId() {
    ConfigException e = fails(List.of("--node-id", "has space"), Map.of());
    assertTrue(e.getMessage().contains("node.id"), e.getMessage());
  }

  // --- conf/switchboard.json ---

  @Test
  @DisplayName("conf/switchboard.json holds exactly the defaults of Settings.ALL")
  void repoFileMatchesDefaults() {
    Map<String, String> file = ConfigLoader.readFile(Path.of(ConfigLoader.DEFAULT_FILE));
    Set<String> names = Settings.ALL.stream().map(Setting::name)
        .collect(Collectors.toCollection(LinkedHashSet::new));
    assertEquals(names, new LinkedHashSet<>(file.keySet()),
        "the file must list every setting and nothing else");
    for (Setting s : Settings.ALL) {
      Object expected = s.parse(s.defaultValue(), "default");
      Object actual = s.parse(file.get(s.name()), ConfigLoader.DEFAULT_FILE);
      assertEquals(expected, actual, s.name());
    }
  }

  @Test
  @DisplayName("a heartbeat TTL shorter than two heartbeats is refused, naming the setting")
  void heartbeatTtlMustCoverTwoBeats() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> ConfigLoader.load(List.of("--node-heartbeat", "2s", "--node-heartbeat-ttl", "3s"), Map.of()));
    assertTrue(e.getMessage().contains("node.heartbeat-ttl"), e.getMessage());
  }
}
