package dev.switchboard.room;

import dev.switchboard.cluster.Envelope;
import dev.switchboard.cluster.Envelope.CloseRoom;
import dev.switchboard.cluster.Envelope.Delivered;
import dev.switchboard.cluster.Envelope.Drain;
import dev.switchboard.cluster.Envelope.Membership;
import dev.switchboard.cluster.Envelope.PeerJoined;
import dev.switchboard.cluster.Envelope.PeerLeft;
import dev.switchboard.cluster.Envelope.Relay;
import dev.switchboard.cluster.Envelope.RoomMessage;
import dev.switchboard.cluster.Envelope.Undelivered;
import dev.switchboard.cluster.NodeChannel;
import dev.switchboard.metrics.NodeMetrics;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.LeaveReason;
import dev.switchboard.protocol.ServerMessage;
import dev.switchboard.registry.RoomStore;
import dev.switchboard.webhooks.RoomEvents;
import java.util.Arrays;
import java.util.function.Predicate;

/**
 * The one place that knows whether a node is this one: every envelope the room rules send goes
 * through {@link #send}, {@link #announce} or {@link #answer}, and every envelope that reaches
 * this node, from another node or from itself, through {@link #receive}. The room rules never
 * ask "is that me?".
 *
 * <p>Delivery keeps the order of the node channel: an envelope for this node is routed at once
 * on the caller's thread and handed to each session on the session's event loop, whose task
 * queue is FIFO, so what one thread sends to one session arrives in the order sent, wherever the
 * two are.
 */
public final class Router implements NodeChannel.Receiver {

  /** Where envelopes for other nodes go: the node channel, or a test's loopback. */
  @FunctionalInterface
  public interface Remote {
    void send(String node, Envelope envelope);
  }

  private final NodeMetrics metrics;
  private final RoomEvents events;
  private final String self;
  private final Remote remote;
  private final LocalRooms rooms;
  private final Predicate<String> inCluster;
  private final Runnable drain;
  private final Runnable undrain;

  /**
   * {@code inCluster} says whether a node is in the cluster now; {@code drain} and
   * {@code undrain} are what this node does when an operator drains it, or takes it back.
   */
  public Router(String self, Remote remote, LocalRooms rooms, Predicate<String> inCluster, Runnable drain,
                Runnable undrain) {
    this(self, remote, rooms, inCluster, drain, undrain, new NodeMetrics(), RoomEvents.NONE);
  }

  /**
   * As above, counting what the node's peers send and how they come and go in {@code metrics},
   * and telling other services what happens in the rooms through {@code events} (webhooks).
   */
  public Router(String self, Remote remote, LocalRooms rooms, Predicate<String> inCluster, Runnable drain,
                Runnable undrain, NodeMetrics metrics, RoomEvents events) {
    this.metrics = metrics;
    this.events = events;
    this.self = self;
    this.remote = remote;
    this.rooms = rooms;
    this.inCluster = inCluster;
    this.drain = drain;
    this.undrain = undrain;
  }

  /** The node's metrics, for what its peers do. */
  public NodeMetrics metrics() {
    return metrics;
  }

  /** Where what happens in the rooms (a room started, a peer left...) is told, by the node where it happened. */
  public RoomEvents events() {
    return events;
  }

  /** This node's id. */
  public String self() {
    return self;
  }

  /**
   * Whether {@code node} is in the cluster now (this one always is): nothing comes through a node
   * that left, so nothing is to wait for it.
   */
  boolean inCluster(String node) {
    return self.equals(node) || inCluster.test(node);
  }

  /** Sends {@code envelope} to {@code node}, this one included. */
  public void send(String node, Envelope envelope) {
    if (self.equals(node)) {
      receive(self, envelope);
    } else {
      remote.send(node, envelope);
    }
  }

  /** Sends {@code envelope} to each of {@code nodes}: a room's nodes, for a room-wide envelope. */
  public void announce(Iterable<String> nodes, Envelope envelope) {
    for (String node : nodes) {
      send(node, envelope);
    }
  }

  /** {@link #announce(Iterable, Envelope)} for the array a {@link RoomView} keeps. */
  void announce(String[] nodes, Envelope envelope) {
    announce(Arrays.asList(nodes), envelope);
  }

  /**
   * The store applied {@code peer}'s leave of {@code room} ({@code change}): the room's nodes
   * tell their members {@code peer-left} with {@code reason}, and other services hear
   * {@code peer_left}, and {@code room_finished} when it left the room empty. Only the node whose
   * leave the store applied tells it, so each leave is told once.
   */
  void leaveApplied(String room, String peer, LeaveReason reason, RoomStore.Change change) {
    announce(change.nodes(), new PeerLeft(room, peer, change.seq(), ServerMessage.peerLeft(peer, reason)));
    events.peerLeft(room, change.seq(), peer, reason.wire());
    if (change.nodes().isEmpty()) {
      events.roomFinished(room, change.seq());
    }
  }

  /** Answers {@code relay} to the node it came from. */
  void answer(Relay relay, Envelope answer) {
    send(relay.origin(), answer);
  }

  /**
   * Routes an envelope that reached this node: to a local peer, to the local members of a room,
   * or into a room's view. Runs on the node channel's event loop, or on the sender's for an
   * envelope between two peers of this node; never blocks.
   */
  @Override
  public void receive(String origin, Envelope envelope) {
    if (envelope instanceof Relay r) {
      PeerSession target = session(r.room(), r.to());
      if (target != null) {
        target.deliver(origin, r);
      } else {
        answer(r, Envelope.undelivered(r, ErrorCode.PEER_NOT_FOUND.wire()));
      }
    } else if (envelope instanceof Delivered d) {
      toSender(d.room(), d.sender(), d.session(), d);
    } else if (envelope instanceof Undelivered u) {
      toSender(u.room(), u.sender(), u.session(), u);
    } else if (envelope instanceof Membership m) {
      LocalRoom room = rooms.get(m.room());
      if (room != null) {
        String node = m instanceof PeerJoined j ? j.node() : null;
        // Handed on under the view's lock: two events about one peer, routed on two threads,
        // reach the members in the order the view applied them.
        room.view().apply(RoomView.EventKind.of(m), m.peer(), node, m.seq(), () -> toMembers(room, origin, m));
      }
    } else if (envelope instanceof Envelope.MoveFence) {
      LocalRoom room = rooms.get(envelope.room());
      if (room != null) {
        toMembers(room, origin, envelope); // each holds what the moved peer sent since, until this
      }
    } else if (envelope instanceof RoomMessage || envelope instanceof CloseRoom) {
      LocalRoom room = rooms.get(envelope.room());
      if (room != null) {
        int members = toMembers(room, origin, envelope);
        if (envelope instanceof RoomMessage) {
          metrics.roomDeliveries(members); // the sender is one of them: its session does not echo it
        }
      }
    } else if (envelope instanceof Envelope.PeerMoved m) {
      LocalRoom room = rooms.get(m.room());
      if (room != null) {
        room.view().moved(m.peer(), m.from(), m.node(), m.seq());
        toMembers(room, origin, m); // their relays awaiting an answer from the old node now await the new one's
      }
    } else if (envelope instanceof Envelope.Forwarded f) {
      PeerSession target = session(f.room(), f.peer());
      if (target != null) {
        target.deliverForwarded(f.inner());
      } else if (f.inner() instanceof Relay r) {
        answer(r, Envelope.undelivered(r, ErrorCode.PEER_NOT_FOUND.wire()));
      }
    } else if (envelope instanceof Envelope.Fence f) {
      // The copy through this node is for the session handed over from here; the direct copy, for the peer's.
      LocalRoom room = rooms.get(f.room());
      boolean through = self.equals(f.via());
      PeerSession target = room == null ? null : through ? room.handedOver(f.to(), f.node()) : room.session(f.to());
      if (target != null) {
        target.deliver(origin, f);
      } else if (through && f.node() != null) {
        // Nothing here forwards to that node (its forwarder is done, or the peer joined there
        // anew): nothing of this sender waits here either, so the fence goes straight on.
        send(f.node(), new Envelope.Forwarded(f.room(), f.to(), f));
      }
    } else if (envelope instanceof Envelope.Kick k) {
      PeerSession target = session(k.room(), k.peer());
      if (target != null) {
        target.home().runOnContext(v -> Eviction.kick(target, k.frame()));
      }
    } else if (envelope instanceof Envelope.Claim c) {
      PeerSession holder = session(c.room(), c.peer());
      if (holder != null) {
        holder.deliver(origin, c);
      } else {
        send(c.node(), new Envelope.ClaimRefused(c.room(), c.peer(), Envelope.ClaimRefused.GONE, self));
      }
    } else if (envelope instanceof Envelope.Handover || envelope instanceof Envelope.ClaimRefused) {
      PeerSession claimant = session(envelope.room(), envelope instanceof Envelope.Handover h ? h.peer()
          : ((Envelope.ClaimRefused) envelope).peer());
      if (claimant != null) {
        claimant.deliver(origin, envelope);
      } else if (envelope instanceof Envelope.Handover h) {
        // The claim was given up here (it timed out): the old node is not to forward into nothing.
        send(origin, new Envelope.ClaimRefused(h.room(), h.peer(), Envelope.ClaimRefused.GONE, self));
      }
    } else if (envelope instanceof Drain) {
      drain.run();
    } else if (envelope instanceof Envelope.Undrain) {
      undrain.run();
    }
  }

  /** An answer for the session that sent the relay only: a peer that joined again is another one. */
  private void toSender(String room, String peer, long session, Envelope answer) {
    LocalRoom r = rooms.get(room);
    PeerSession sender = r == null ? null : r.session(peer, session);
    if (sender != null) {
      sender.deliver(self, answer);
    }
  }

  private PeerSession session(String room, String peer) {
    LocalRoom r = rooms.get(room);
    return r == null ? null : r.session(peer);
  }

  /** Hands a room-wide envelope to every session of its room here, each on its own event loop; returns how many. */
  private static int toMembers(LocalRoom room, String origin, Envelope envelope) {
    int n = 0;
    for (PeerSession s : room.sessions()) {
      s.deliver(origin, envelope);
      n++;
    }
    return n;
  }
}
