package dev.switchboard.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.XmlConfigBuilder;
import dev.switchboard.config.ConfigException;
import dev.switchboard.metrics.NodeMetrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Starts a clustered Vert.x: Hazelcast membership on TCP-IP, the event bus on TCP. */
public final class ClusterBoot {

  /** A started clustered Vert.x, the cluster's member list, and the metrics Vert.x reports to. */
  public record Started(Vertx vertx, Membership membership, NodeMetrics metrics) {
  }

  private ClusterBoot() {
  }

  /**
   * Starts the node's clustered Vert.x, which reports its own metrics (HTTP server, event bus,
   * pools, and the JVM's) to {@code metrics}' registry.
   */
  public static Future<Started> start(dev.switchboard.config.Config config, NodeMetrics metrics) {
    Config hz = hazelcastConfig(config.cluster());
    // Survivors learn from the member list which node left, without asking Redis.
    hz.getMemberAttributeConfig().setAttribute(Membership.NODE_ATTRIBUTE, config.nodeId());
    HazelcastClusterManager manager = new HazelcastClusterManager(hz);
    VertxOptions options = new VertxOptions()
        .setEventBusOptions(new EventBusOptions()
            .setHost(config.cluster().host())
            .setClusterPublicHost(config.cluster().host())
            .setPort(config.cluster().busPort()));
    VertxBuilder builder = Vertx.builder();
    if (metrics.enabled()) {
      options.setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(true));
      builder.withMetrics(new MicrometerMetricsFactory(metrics.registry()));
    }
    return builder
        .with(options)
        .withClusterManager(manager)
        .buildClustered()
        .onSuccess(vertx -> NodeChannel.registerCodec(vertx, config.cluster().wireVersion()))
        .map(vertx -> new Started(vertx, new Membership(manager.getHazelcastInstance()), metrics));
  }

  /** Loads the Hazelcast XML and applies the node's network settings over it. */
  static Config hazelcastConfig(dev.switchboard.config.Config.Cluster cluster) {
    Config hz;
    Path file = Path.of(cluster.configFile());
    try (InputStream in = Files.exists(file) ? Files.newInputStream(file)
        : ClusterBoot.class.getResourceAsStream("/cluster.xml")) {
      if (in == null) {
        throw new ConfigException("invalid cluster.config: " + file + " does not exist");
      }
      hz = new XmlConfigBuilder(in).build();
    } catch (IOException e) {
      throw new ConfigException("invalid cluster.config: cannot read " + file + ": " + e.getMessage());
    }
    hz.setClusterName(cluster.name());
    hz.getNetworkConfig().setPort(cluster.port()).setPortAutoIncrement(true).setPortCount(20);
    hz.getNetworkConfig().setPublicAddress(cluster.host());
    hz.getNetworkConfig().getInterfaces().setEnabled(true).setInterfaces(java.util.List.of(cluster.host()));
    hz.setProperty("hazelcast.local.localAddress", cluster.host());
    JoinConfig join = hz.getNetworkConfig().getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setMembers(cluster.members());
    return hz;
  }
}
