// Switchboard browser client: multi-party WebRTC calls through a Switchboard signaling server,
// as a peer-to-peer mesh or through the room's media server (`sfu` rooms), behind one API.
// Dependency-free ES module; see client/README.md for the guide and docs/protocol.md for the
// wire protocol it speaks.
import { Signaling, SwitchboardEvent } from './signaling.js';
import { PeerLink, isPolite } from './peer-link.js';
import { MediaRoom } from './media-room.js';
import { SwitchboardError } from './errors.js';

export { SwitchboardError, SwitchboardEvent, Signaling, PeerLink, MediaRoom, isPolite };
export { backoffDelay } from './backoff.js';

/**
 * A participant in one room: it joins and keeps its calls up across socket drops. In a `p2p`
 * room it sets up one `RTCPeerConnection` per other peer; in an `sfu` room two in all, one
 * publishing to the media server and one receiving everyone it may see ({@link MediaRoom}).
 *
 * Events (`SwitchboardEvent`s, fields as properties):
 * - `statechange` {state}: `idle`, `connecting`, `joined`, `reconnecting`, `closed`
 * - `welcome` {welcome, rejoin}: joined (again)
 * - `peer-joined` {peer, meta, role, state, initial}: a peer is in the room with us, from
 *   `welcome` (`initial: true`) or because it joined later
 * - `peer-left` {peer, reason}: the peer and its media are gone; `reason` is the server's
 *   (`left`, `disconnected`, `timeout`, `node-lost`, `kicked`), `rejoined` when it came back
 *   as a new session, or `reconnected` when our own rejoin replaced every call
 * - `peer-state` {peer, state}: its published state (`audio`, `video`, `data`) changed
 * - `stream` {peer, stream}: its media arrived (a `MediaStream`, for a `<video>`)
 * - `stream-ended` {peer}: (`sfu` rooms) it stopped publishing; it may still be in the room
 * - `peer-connection` {peer, state}: its `RTCPeerConnection.connectionState` changed
 * - `media-connection` {pc, state}: (`sfu` rooms) the `publish` or `subscribe` connection's
 *   `connectionState` changed
 * - `message` {from, data, to}: an application message
 * - `disconnected` {error, retryInMs}: the socket dropped; rejoining
 * - `room-closed` {reason}
 * - `error` {error, code, message, fatal, peer?}: `fatal` errors end the session
 * - `closed` {closeCode, reason, error?}
 */
export class Switchboard extends EventTarget {
  #opts;
  #signaling;
  #peers = new Map(); // id -> {peer, meta, role, state, link}; link null in an sfu room
  #media = null; // MediaRoom, in an sfu room
  #welcome = null;
  #localStream;
  #audio;
  #video;
  #data = undefined;

  /**
   * @param {object} options
   * @param {string} options.room
   * @param {string} [options.url] the server's `/ws` URL; default: `/ws` on this page's host
   * @param {string} [options.peer] our id; default: the server picks one
   * @param {string|(() => Promise<string>|string)} [options.token] a JWT, or a function that
   *   fetches a fresh one for every (re)join
   * @param {object} [options.meta] shown to the others, e.g. `{name: 'Ada'}` (≤ 1 KiB)
   * @param {string} [options.role] `peer`, `presenter` or `viewer`; default: the room's own
   *   (`viewer` in a broadcast room, `peer` otherwise)
   * @param {MediaStream} [options.stream] local media to send to everyone
   * @param {RTCConfiguration} [options.rtcConfiguration] merged over `welcome.iceServers`
   * @param {{baseMs?, maxMs?, attempts?}} [options.reconnect]
   */
  constructor(options = {}) {
    super();
    if (!options.room) throw new TypeError('Switchboard needs a room');
    this.#opts = { ...options };
    this.#opts.RTCPeerConnection ??= globalThis.RTCPeerConnection;
    this.#localStream = options.stream ?? null;
    this.#audio = firstEnabled(this.#localStream, 'audio');
    this.#video = firstEnabled(this.#localStream, 'video');
    const url = options.url ?? defaultUrl();
    this.#signaling = new Signaling({ ...options, url });
    const sig = this.#signaling;
    sig.addEventListener('statechange', (e) => this.#emit('statechange', { state: e.state }));
    sig.addEventListener('welcome', (e) => this.#onWelcome(e));
    sig.addEventListener('signal', (e) => this.#onSignal(e.message));
    sig.addEventListener('disconnected', (e) => this.#emit('disconnected', { error: e.error, closeCode: e.closeCode, retryInMs: e.retryInMs }));
    sig.addEventListener('room-closed', (e) => this.#emit('room-closed', { reason: e.reason }));
    sig.addEventListener('error', (e) => this.#emit('error', { error: e.error, code: e.code, message: e.message, fatal: e.fatal }));
    sig.addEventListener('closed', (e) => {
      this.#closeAll(e.reason === 'left' ? 'left' : 'closed');
      this.#emit('closed', { closeCode: e.closeCode, reason: e.reason, error: e.error });
    });
  }

  /** `idle`, `connecting`, `joined`, `reconnecting` or `closed`. */
  get connectionState() { return this.#signaling.state; }
  /** Our peer id, once joined. */
  get id() { return this.#signaling.peer; }
  get room() { return this.#signaling.room; }
  /** The node holding our socket (informational). */
  get node() { return this.#signaling.node; }
  /** What we publish: `{audio, video, data}`. */
  get localState() { return { audio: this.#audio, video: this.#video, data: this.#data }; }
  /** The room's media (`p2p` or `sfu`) and mode (`mesh` or `broadcast`), once joined. */
  get media() { return this.#welcome?.media ?? null; }
  get mode() { return this.#welcome?.mode ?? null; }
  /** Our role: the one asked for, else the room's default. */
  get role() {
    return this.#opts.role ?? (this.#welcome ? (this.#welcome.mode === 'broadcast' ? 'viewer' : 'peer') : null);
  }

  /**
   * The other peers: id → `{peer, meta, role, state, stream, connectionState}`. A snapshot;
   * listen to the events to follow changes.
   */
  get peers() {
    const out = new Map();
    for (const [id, p] of this.#peers) {
      out.set(id, {
        peer: id, meta: p.meta, role: p.role, state: p.state,
        stream: p.link?.stream ?? this.#media?.streams.get(id) ?? null,
        connectionState: p.link?.connectionState ?? this.#media?.subscriber?.connectionState ?? 'new',
      });
    }
    return out;
  }

  /** Joins the room; resolves with the `welcome` or rejects with a `SwitchboardError`. */
  join() {
    const { room, peer, token, meta, role } = this.#opts;
    return this.#signaling.join({ room, peer, token, meta, role });
  }

  /** Leaves the room and closes every call. */
  async leave() {
    await this.#signaling.leave(); // its `closed` event closes every call
  }

  /** Drops everything at once, without `leave`. */
  close() {
    this.#signaling.close();
    this.#closeAll('closed');
  }

  /** Turns our microphone on or off (the track stays; no renegotiation) and tells the room. */
  setAudio(enabled) {
    this.#audio = Boolean(enabled);
    for (const t of this.#localStream?.getAudioTracks() ?? []) t.enabled = this.#audio;
    return this.#publish({ audio: this.#audio });
  }

  /** Turns our camera on or off and tells the room. */
  setVideo(enabled) {
    this.#video = Boolean(enabled);
    for (const t of this.#localStream?.getVideoTracks() ?? []) t.enabled = this.#video;
    return this.#publish({ video: this.#video });
  }

  /** Publishes application state (a JSON object ≤ 1 KiB) beside audio/video. */
  setData(data) {
    this.#data = data;
    return this.#publish({ data });
  }

  /** Sends local media from now on (e.g. after switching cameras). */
  setStream(stream) {
    this.#localStream = stream;
    for (const { link } of this.#peers.values()) link?.setLocalStream(stream);
    this.#media?.setLocalStream(stream).catch(() => {}); // reported as an `error` event
  }

  /**
   * `sfu` rooms: publishes the local stream (done by itself after joining when there is one, for
   * anyone but a viewer), or stops. Resolves once the media server answered.
   */
  publish() {
    return this.#media ? this.#media.publish() : Promise.reject(notSfu());
  }

  unpublish() {
    return this.#media ? this.#media.unpublish() : Promise.reject(notSfu());
  }

  /** `sfu` rooms: the publishing and receiving `RTCPeerConnection`s (each null until used). */
  get mediaConnections() {
    return { publish: this.#media?.publisher ?? null, subscribe: this.#media?.subscriber ?? null };
  }

  /**
   * Sends application data to one peer (`{to}`) or to everyone else. Resolves when the server
   * accepted it (see docs/protocol.md, acks); rejects with e.g. `peer-not-found`.
   */
  send(data, { to } = {}) {
    const message = { type: 'message', data };
    if (to !== undefined) message.to = to;
    return this.#signaling.send(message, { ack: true });
  }

  /**
   * The `RTCPeerConnection` that brings us `peer`'s media, or null: in an `sfu` room the one
   * receiving connection, shared by every peer we see.
   */
  peerConnection(peer) {
    const p = this.#peers.get(peer);
    return p?.link?.pc ?? (p && this.#media ? this.#media.subscriber : null) ?? null;
  }

  /** `getStats()` of the call with `peer`. */
  getStats(peer) {
    const pc = this.peerConnection(peer);
    return pc ? pc.getStats() : Promise.reject(new SwitchboardError('peer-not-found', `no call with ${peer}`));
  }

  #onWelcome({ welcome, rejoin, resumed }) {
    this.#welcome = welcome;
    const sfu = welcome.media === 'sfu';
    const listed = new Map((welcome.peers ?? []).map((p) => [p.peer, p]));
    if (rejoin) {
      for (const id of [...this.#peers.keys()]) {
        // Without resume the others saw us leave and closed their side: every call restarts.
        if (!resumed || !listed.has(id)) this.#removePeer(id, resumed ? 'left' : 'reconnected');
      }
    }
    // Our media room connections stand across a resume on the same node; anything else (a
    // fresh join, a rejoin, a session moved to another node) needs new ones.
    const mediaKept = resumed && welcome.mediaResumed === true && this.#media !== null;
    if (!mediaKept) {
      this.#media?.close();
      this.#media = sfu ? this.#createMediaRoom() : null;
    }
    this.#emit('welcome', { welcome, rejoin, resumed });
    for (const info of listed.values()) {
      if (this.#peers.has(info.peer)) continue; // resumed: the call is still up
      if (sfu) {
        this.#addPeer(info, false, true, false); // its media comes through the receiving connection
      } else if (resumed) {
        // It joined while we were away and saw us in its welcome: it is the newcomer, it offers.
        this.#addPeer(info, false, false);
      } else {
        // The newcomer offers to everyone already there.
        this.#addPeer(info, true, true);
      }
    }
    if (!mediaKept) this.#media?.start();
    if (resumed) return; // the server kept our published state
    // A peer's state is {} when it joins: publish ours.
    const state = {};
    if (this.#audio !== undefined) state.audio = this.#audio;
    if (this.#video !== undefined) state.video = this.#video;
    if (this.#data !== undefined) state.data = this.#data;
    if (Object.keys(state).length > 0) this.#publish(state);
  }

  #onSignal(message) {
    switch (message.type) {
      case 'peer-joined':
        // Known already: it joined again (e.g. reloaded on another node); replace it.
        if (this.#peers.has(message.peer)) this.#removePeer(message.peer, 'rejoined');
        this.#addPeer(message, false, false, this.#media === null);
        break;
      case 'peer-left':
        this.#removePeer(message.peer, message.reason);
        break;
      case 'peer-state': {
        const p = this.#peers.get(message.peer);
        if (!p) break;
        p.state = message.state ?? {};
        this.#emit('peer-state', { peer: message.peer, state: p.state });
        break;
      }
      case 'offer': case 'answer': case 'candidate':
        this.#peers.get(message.from)?.link?.handle(message);
        break;
      case 'message':
        this.#emit('message', { from: message.from, data: message.data, to: message.to });
        break;
      case 'subscribe-offer':
        this.#media?.handleOffer(message);
        break;
      default:
        break;
    }
  }

  /** A peer in the room with us; `call`: a mesh call of our own with it (p2p rooms). */
  #addPeer(info, initiator, initial, call = true) {
    const id = info.peer;
    const entry = { peer: id, meta: info.meta ?? {}, role: info.role ?? 'peer', state: info.state ?? {}, link: null };
    this.#peers.set(id, entry);
    this.#emit('peer-joined', { peer: id, meta: entry.meta, role: entry.role, state: entry.state, initial });
    if (call) entry.link = this.#createLink(id, initiator);
    // Its stream may have come before it did (the server's offer and its join race).
    const stream = this.#media?.streams.get(id);
    if (stream) this.#emit('stream', { peer: id, stream });
  }

  #createMediaRoom() {
    return new MediaRoom({
      createConnection: () => this.#newConnection(),
      request: (message) => this.#signaling.send(message, { ack: true }),
      send: (message) => { if (this.#signaling.state === 'joined') this.#signaling.send(message); },
      canPublish: this.role !== 'viewer',
      localStream: this.#localStream,
      events: {
        onStream: (peer, stream) => { if (this.#peers.has(peer)) this.#emit('stream', { peer, stream }); },
        onStreamEnded: (peer) => this.#emit('stream-ended', { peer }),
        onStateChange: (pc, state) => this.#emit('media-connection', { pc, state }),
        onError: (error) => this.#emit('error', errorFields(error)),
      },
    });
  }

  #newConnection() {
    const config = { ...(this.#opts.rtcConfiguration ?? {}) };
    config.iceServers ??= this.#signaling.iceServers;
    return new this.#opts.RTCPeerConnection(config);
  }

  #createLink(id, initiator) {
    let pc;
    try {
      pc = this.#newConnection();
    } catch (cause) {
      this.#emit('error', errorFields(new SwitchboardError('negotiation-failed', `cannot create a connection: ${cause.message}`, { cause }), id));
      return null;
    }
    return new PeerLink({
      self: this.#signaling.peer,
      peer: id,
      pc,
      initiator,
      localStream: this.#localStream,
      timers: this.#opts.timers,
      MediaStream: this.#opts.MediaStream,
      restartAfterMs: this.#opts.iceRestartAfterMs,
      signal: (message) => {
        // While we rejoin, the old calls' signals have nowhere to go: the rejoin replaces them.
        if (this.#signaling.state === 'joined') this.#signaling.send({ ...message, to: id });
      },
      events: {
        onStream: (stream) => this.#emit('stream', { peer: id, stream }),
        onStateChange: (state) => this.#emit('peer-connection', { peer: id, state }),
        onError: (error) => this.#emit('error', errorFields(error, id)),
      },
    });
  }

  #removePeer(id, reason) {
    const entry = this.#peers.get(id);
    if (!entry) return;
    this.#peers.delete(id);
    entry.link?.close();
    this.#emit('peer-left', { peer: id, reason });
  }

  #closeAll(reason) {
    this.#media?.close();
    this.#media = null;
    for (const id of [...this.#peers.keys()]) this.#removePeer(id, reason);
  }

  #publish(state) {
    if (this.#signaling.state !== 'joined') return Promise.resolve(); // sent on (re)join
    const sent = this.#signaling.send({ type: 'state', ...state }, { ack: true });
    // Callers may ignore the promise: a refusal is still reported as an event.
    sent.catch((error) => {
      if (error.code !== 'disconnected') this.#emit('error', errorFields(error));
    });
    return sent;
  }

  #emit(type, fields) {
    this.dispatchEvent(new SwitchboardEvent(type, fields));
  }
}

function notSfu() {
  return new SwitchboardError('bad-request', 'publishing through the media server needs an sfu room');
}

function errorFields(error, peer) {
  const fields = { error, code: error.code, message: error.message, fatal: false };
  if (peer !== undefined) fields.peer = peer;
  return fields;
}

function firstEnabled(stream, kind) {
  const tracks = kind === 'audio' ? stream?.getAudioTracks() : stream?.getVideoTracks();
  return tracks && tracks.length > 0 ? tracks[0].enabled : undefined;
}

function defaultUrl() {
  const loc = globalThis.location;
  if (!loc) throw new TypeError('Switchboard needs a url outside a browser');
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/ws`;
}
