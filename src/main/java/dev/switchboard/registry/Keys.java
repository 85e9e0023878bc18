package dev.switchboard.registry;

/**
 * The Redis key layout, in one place. The keys of one room share the hash tag {@code {room}}.
 *
 * <pre>
 * sb:nodes                ZSET  node id -> open connections (least-loaded placement reads it)
 * sb:node:&lt;node&gt;          HASH  url, connections, rooms, state, startedAt, heartbeatAt, version;
 *                               expires when the node stops heartbeating
 * sb:node:&lt;node&gt;:peers    SET   "room/peer" pairs the node holds, for clean-up after it dies
 * sb:reap:&lt;node&gt;          STR   lock: the one node cleaning up after a dead node (expires)
 * sb:reaped:&lt;node&gt;        STR   the node was declared dead and its peers announced as lost (a day)
 * sb:epoch                STR   set once when Redis has none: a new value means Redis lost its data
 * sb:{&lt;room&gt;}:peers       HASH  peer id -> {seq, node, meta, state, role, joinedAt}
 * sb:{&lt;room&gt;}:nodes       HASH  node id -> members of the room on that node
 * sb:{&lt;room&gt;}:seq         STR   the room's event sequence; outlives the room by a day
 * sb:{&lt;room&gt;}:config      HASH  mode, media, maxPeers (rooms created ahead of time)
 * sb:{&lt;room&gt;}:resume      HASH  peer id -> SHA-256 digest of the resume token of its last welcome
 * sb:{&lt;room&gt;}:held:&lt;peer&gt; LIST  frames for a peer whose node died, until it resumes elsewhere
 * sb:{&lt;room&gt;}:held-bytes  HASH  peer id -> bytes in its held list (the bound)
 * sb:rooms                ZSET  room -> member count
 * </pre>
 */
public final class Keys {

  private final String prefix;

  public Keys(String prefix) {
    this.prefix = prefix;
  }

  public String nodes() {
    return prefix + "nodes";
  }

  public String node(String node) {
    return prefix + "node:" + node;
  }

  public String nodePeers(String node) {
    return prefix + "node:" + node + ":peers";
  }

  public String reapLock(String node) {
    return prefix + "reap:" + node;
  }

  public String reaped(String node) {
    return prefix + "reaped:" + node;
  }

  public String epoch() {
    return prefix + "epoch";
  }

  public String rooms() {
    return prefix + "rooms";
  }

  public String roomPeers(String room) {
    return prefix + "{" + room + "}:peers";
  }

  public String roomNodes(String room) {
    return prefix + "{" + room + "}:nodes";
  }

  public String roomSeq(String room) {
    return prefix + "{" + room + "}:seq";
  }

  public String roomConfig(String room) {
    return prefix + "{" + room + "}:config";
  }

  public String roomResumeTokens(String room) {
    return prefix + "{" + room + "}:resume";
  }

  public String held(String room, String peer) {
    return prefix + "{" + room + "}:held:" + peer;
  }

  public String heldBytes(String room) {
    return prefix + "{" + room + "}:held-bytes";
  }
}
