package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.config.Config;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.config.Setting;
import dev.switchboard.config.Settings;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The manifests in k8s/ agree with the code: every SWITCHBOARD_ variable is a setting and the
 * node accepts its value, the ports the node binds are the ports declared, the member list
 * names exactly the StatefulSet's pods, and every selector and reference finds its target.
 * No cluster is needed; a typo here would otherwise show up only as a pod that never forms a
 * cluster.
 */
class K8sManifestsTest {

  private static final Path K8S = Path.of("k8s");
  private static final String POD_IP = "10.20.30.40";
  private static final List<Map<String, Object>> DOCS = new ArrayList<>();

  @BeforeAll
  static void read() throws IOException {
    try (var files = Files.list(K8S)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        for (Object doc : new Yaml().loadAll(Files.readString(f))) {
          if (doc != null) {
            DOCS.add(map(doc));
          }
        }
      }
    }
    assertFalse(DOCS.isEmpty());
  }

  @Test
  @DisplayName("every document names its apiVersion, kind and name, each name once per kind")
  void wellFormed() {
    Set<String> seen = new HashSet<>();
    for (Map<String, Object> d : DOCS) {
      assertNotNull(d.get("apiVersion"), d::toString);
      String id = d.get("kind") + "/" + map(d.get("metadata")).get("name");
      assertTrue(seen.add(id), "twice: " + id);
    }
    assertTrue(seen.containsAll(List.of("StatefulSet/switchboard", "Service/switchboard", "Service/switchboard-cluster",
        "Ingress/switchboard", "PodDisruptionBudget/switchboard", "NetworkPolicy/switchboard",
        "Deployment/switchboard-redis", "Service/switchboard-redis")), seen.toString());
  }

  @Test
  @DisplayName("the node's environment is valid configuration, and binds the declared ports on the pod's address")
  void environmentIsValidConfig() {
    Map<String, String> env = environment();
    Set<String> known = Settings.ALL.stream().map(Setting::envName).collect(Collectors.toSet());
    for (String name : env.keySet()) {
      assertTrue(!name.startsWith("SWITCHBOARD_") || known.contains(name), "not a setting: " + name);
    }
    Config config = ConfigLoader.load(List.of(), env);
    Map<String, Integer> ports = containerPorts();
    assertEquals(ports.get("http"), config.httpPort());
    assertEquals(ports.get("hazelcast"), config.cluster().port());
    assertEquals(ports.get("event-bus"), config.cluster().busPort());
    assertEquals(POD_IP, config.cluster().host());
    assertEquals("http://" + POD_IP + ":" + ports.get("http"), config.publicUrl());
    assertFalse(config.auth().secret().isEmpty(), "tokens are required");
    assertFalse(config.adminKey().isEmpty(), "the admin API is on");
  }

  @Test
  @DisplayName("the Hazelcast member list is exactly the StatefulSet's pods on its headless Service")
  void membersMatchReplicas() {
    Map<String, Object> sts = find("StatefulSet", "switchboard");
    Map<String, Object> spec = map(sts.get("spec"));
    int replicas = (Integer) spec.get("replicas");
    String service = (String) spec.get("serviceName");
    List<String> expected = IntStream.range(0, replicas).mapToObj(i -> "switchboard-" + i + "." + service).toList();
    Config config = ConfigLoader.load(List.of(), environment());
    assertEquals(expected, config.cluster().members());

    Map<String, Object> headless = map(find("Service", service).get("spec"));
    assertEquals("None", headless.get("clusterIP"));
    assertEquals(Boolean.TRUE, headless.get("publishNotReadyAddresses"), "members must resolve before they are ready");
  }

  @Test
  @DisplayName("Services, PDB and NetworkPolicy select the pods; named ports exist; the Ingress finds its Service")
  void selectorsAndPorts() {
    Map<String, Object> labels = map(map(map(map(find("StatefulSet", "switchboard").get("spec")).get("template"))
        .get("metadata")).get("labels"));
    Map<String, Integer> ports = containerPorts();
    for (String name : List.of("switchboard", "switchboard-cluster")) {
      Map<String, Object> spec = map(find("Service", name).get("spec"));
      assertTrue(labels.entrySet().containsAll(map(spec.get("selector")).entrySet()), name + " selects no pod");
      for (Object p : list(spec.get("ports"))) {
        assertTrue(ports.containsKey(map(p).get("targetPort")), name + ": no container port " + map(p).get("targetPort"));
      }
    }
    Map<String, Object> pdb = map(find("PodDisruptionBudget", "switchboard").get("spec"));
    assertTrue(labels.entrySet().containsAll(map(map(pdb.get("selector")).get("matchLabels")).entrySet()));
    Map<String, Object> policy = map(find("NetworkPolicy", "switchboard").get("spec"));
    assertTrue(labels.entrySet().containsAll(map(map(policy.get("podSelector")).get("matchLabels")).entrySet()));
    for (Object rule : list(policy.get("ingress"))) {
      for (Object p : list(map(rule).get("ports"))) {
        assertTrue(ports.containsKey(map(p).get("port")), "NetworkPolicy port " + map(p).get("port"));
      }
    }
    Map<String, Object> backend = map(map(map(list(map(map(list(map(find("Ingress", "switchboard").get("spec"))
        .get("rules")).get(0)).get("http")).get("paths")).get(0)).get("backend")).get("service"));
    Map<String, Object> service = map(find("Service", (String) backend.get("name")).get("spec"));
    String portName = (String) map(backend.get("port")).get("name");
    assertTrue(list(service.get("ports")).stream().anyMatch(p -> portName.equals(map(p).get("name"))), portName);
  }

  @Test
  @DisplayName("probes use /health (liveness, start-up) and /ready (readiness) on the HTTP port")
  void probes() {
    Map<String, Object> c = container();
    assertEquals("/health", map(map(c.get("livenessProbe")).get("httpGet")).get("path"));
    assertEquals("/health", map(map(c.get("startupProbe")).get("httpGet")).get("path"));
    Map<String, Object> ready = map(map(c.get("readinessProbe")).get("httpGet"));
    assertEquals("/ready", ready.get("path"));
    assertEquals("http", ready.get("port"));
  }

  @Test
  @DisplayName("the grace period covers the preStop pause, the whole drain and the stop after it")
  void graceCoversTheDrain() {
    Map<String, Object> pod = map(map(map(find("StatefulSet", "switchboard").get("spec")).get("template")).get("spec"));
    int grace = (Integer) pod.get("terminationGracePeriodSeconds");
    List<Object> preStop = list(map(map(map(container().get("lifecycle")).get("preStop")).get("exec")).get("command"));
    assertEquals("sleep", preStop.get(0));
    int pause = Integer.parseInt(String.valueOf(preStop.get(1)));
    Config config = ConfigLoader.load(List.of(), environment());
    long drainSeconds = config.drain().timeout().toSeconds();
    assertTrue(config.drain().period().compareTo(config.drain().timeout()) <= 0);
    assertTrue(grace >= pause + drainSeconds + 5, "terminationGracePeriodSeconds " + grace
        + " must cover the preStop pause (" + pause + " s), node.drain-timeout (" + drainSeconds
        + " s) and the stop after it; otherwise the kubelet kills the node mid-drain");
  }

  @Test
  @DisplayName("Redis URL points at the Redis Service and port; secrets are the ones the header tells you to create")
  void references() throws IOException {
    URI redis = URI.create(environment().get("SWITCHBOARD_REDIS_URL"));
    Map<String, Object> svc = map(find("Service", redis.getHost()).get("spec"));
    assertEquals(redis.getPort(), map(list(svc.get("ports")).get(0)).get("port"));
    String text = Files.readString(K8S.resolve("switchboard.yaml"));
    for (Object e : list(container().get("env"))) {
      Map<String, Object> from = map(map(e).getOrDefault("valueFrom", Map.of()));
      if (from.containsKey("secretKeyRef")) {
        Map<String, Object> ref = map(from.get("secretKeyRef"));
        assertTrue(text.contains("kubectl create secret generic " + ref.get("name")), "how to create " + ref);
        assertTrue(text.contains("--from-literal=" + ref.get("key") + "="), "how to create key " + ref.get("key"));
      }
    }
  }

  @Test
  @DisplayName("the Dockerfile copies the shaded jar and exposes the container ports")
  void dockerfile() throws IOException {
    String docker = Files.readString(K8S.resolve("Dockerfile"));
    assertTrue(docker.contains("target/switchboard.jar"));
    assertTrue(Files.readString(Path.of("pom.xml")).contains("<finalName>switchboard</finalName>"));
    Matcher m = Pattern.compile("(?m)^EXPOSE (.+)$").matcher(docker);
    assertTrue(m.find());
    Set<Integer> exposed = new HashSet<>();
    for (String p : m.group(1).trim().split("\\s+")) {
      exposed.add(Integer.parseInt(p));
    }
    assertEquals(new HashSet<>(containerPorts().values()), exposed);
  }

  /**
   * The container's environment as the kubelet gives it: literals with {@code $(VAR)}
   * expanded, the pod IP from the downward API, and a stand-in for each secret.
   */
  private static Map<String, String> environment() {
    Map<String, String> env = new LinkedHashMap<>();
    for (Object o : list(container().get("env"))) {
      Map<String, Object> e = map(o);
      String name = (String) e.get("name");
      if (e.containsKey("value")) {
        Matcher m = Pattern.compile("\\$\\(([A-Z_]+)\\)").matcher((String) e.get("value"));
        StringBuilder out = new StringBuilder();
        while (m.find()) {
          String ref = env.get(m.group(1));
          assertNotNull(ref, name + " uses $(" + m.group(1) + ") before it is defined");
          m.appendReplacement(out, Matcher.quoteReplacement(ref));
        }
        m.appendTail(out);
        env.put(name, out.toString());
      } else {
        Map<String, Object> from = map(e.get("valueFrom"));
        if (from.containsKey("fieldRef")) {
          assertEquals("status.podIP", map(from.get("fieldRef")).get("fieldPath"));
          env.put(name, POD_IP);
        } else {
          env.put(name, "k8s-test-secret-0123456789abcdef0123456789abcdef0123456789abcdef");
        }
      }
    }
    return env;
  }

  private static Map<String, Integer> containerPorts() {
    Map<String, Integer> ports = new HashMap<>();
    for (Object p : list(container().get("ports"))) {
      ports.put((String) map(p).get("name"), (Integer) map(p).get("containerPort"));
    }
    return ports;
  }

  private static Map<String, Object> container() {
    Map<String, Object> pod = map(map(map(find("StatefulSet", "switchboard").get("spec")).get("template")).get("spec"));
    return map(list(pod.get("containers")).get(0));
  }

  private static Map<String, Object> find(String kind, String name) {
    return DOCS.stream()
        .filter(d -> kind.equals(d.get("kind")) && name.equals(map(d.get("metadata")).get("name")))
        .findFirst().orElseThrow(() -> new AssertionError("no " + kind + "/" + name + " in k8s/"));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    assertTrue(o instanceof Map, () -> "expected a mapping, got " + o);
    return (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  private static List<Object> list(Object o) {
    assertTrue(o instanceof List, () -> "expected a list, got " + o);
    return (List<Object>) o;
  }
}
