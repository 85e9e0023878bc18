package dev.switchboard.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.Context;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's own view of which nodes are in it: Hazelcast's member list, each member carrying
 * its Switchboard node id as an attribute. Hazelcast notices a killed node within a fraction of a
 * second (its connections are refused) and a hung or cut-off one after
 * {@code hazelcast.max.no.heartbeat.seconds}; the Redis record's TTL is slower and stays the
 * backstop. What a departure means for rooms is the {@link Listener}'s business.
 */
public final class Membership {

  private static final Logger log = LoggerFactory.getLogger(Membership.class);

  /** The Hazelcast member attribute that holds the Switchboard node id. */
  static final String NODE_ATTRIBUTE = "switchboard.node";

  /** Told, on the context given to {@link #listen}, that a node left the cluster. */
  @FunctionalInterface
  public interface Listener {
    /** {@code node} left; {@code members} nodes are in the cluster now, this one included. */
    void nodeLeft(String node, int members);
  }

  private final HazelcastInstance hazelcast;
  private UUID registration;

  Membership(HazelcastInstance hazelcast) {
    this.hazelcast = hazelcast;
  }

  /** Nodes in the cluster now, as this member sees it, itself included. */
  public int size() {
    return hazelcast.getCluster().getMembers().size();
  }

  /** Whether node {@code node} is in the cluster now, as this member sees it. */
  public boolean contains(String node) {
    for (Member m : hazelcast.getCluster().getMembers()) {
      if (node.equals(m.getAttribute(NODE_ATTRIBUTE))) {
        return true;
      }
    }
    return false;
  }

  /** Starts telling {@code listener}, on {@code context}, of each node that leaves. */
  public void listen(Context context, Listener listener) {
    registration = hazelcast.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent event) {
        // Joins need nothing: a new node registers itself in Redis and on the event bus.
      }

      @Override
      public void memberRemoved(MembershipEvent event) {
        Member member = event.getMember();
        String node = member.getAttribute(NODE_ATTRIBUTE);
        int members = event.getMembers().size();
        if (node == null) {
          log.atWarn().addKeyValue("member", member.getAddress().toString())
              .log("a cluster member without a Switchboard node id left; ignored");
          return;
        }
        log.atInfo().addKeyValue("left", node).addKeyValue("members", members).log("a node left the cluster");
        context.runOnContext(v -> listener.nodeLeft(node, members));
      }
    });
  }

  /** Stops listening (the node is stopping: departures are no longer its concern). */
  public void stop() {
    if (registration != null && hazelcast.getLifecycleService().isRunning()) {
      hazelcast.getCluster().removeMembershipListener(registration);
    }
  }
}
