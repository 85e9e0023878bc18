// One RTCPeerConnection to one remote peer, negotiated with the "perfect negotiation" pattern
// (https://w3c.github.io/webrtc-pc/#perfect-negotiation-example): either side may renegotiate
// at any time; when both offer at once, the impolite side ignores the other's offer and the
// polite side rolls its own back.
import { SwitchboardError } from './errors.js';

/**
 * Who yields when two offers cross. Both ends compute it from the same two ids and reach
 * opposite answers, so exactly one of them is polite. Peer ids are ASCII
 * (`[A-Za-z0-9._-]`), so `<` compares them the same way in every browser.
 */
export function isPolite(selfId, remoteId) {
  return selfId < remoteId;
}

const MAX_QUEUED_SIGNALS = 512; // offers, answers and candidates waiting to be applied
const MAX_EARLY_CANDIDATES = 256; // candidates waiting for the remote description

/**
 * States reported through `onStateChange`: the `RTCPeerConnection.connectionState` values
 * (`new`, `connecting`, `connected`, `disconnected`, `failed`, `closed`).
 */
export class PeerLink {
  #pc;
  #signal;
  #events;
  #timers;
  #restartAfterMs;
  #MediaStream;
  #localStream;
  #initiator;
  #tracksAdded = false;
  #makingOffer = false;
  #ignoreOffer = false;
  #settingRemoteAnswer = false;
  #earlyCandidates = [];
  #queue = Promise.resolve();
  #queued = 0;
  #restartTimer = null;
  #closed = false;
  #stream = null;
  #announced = false;
  #iceRestarts = 0;

  /**
   * @param {object} options
   * @param {string} options.self our peer id
   * @param {string} options.peer the remote peer id
   * @param {RTCPeerConnection} options.pc a fresh connection, owned by this link from now on
   * @param {(message: object) => void} options.signal sends `offer`/`answer`/`candidate`
   *   (without `to`; the caller adds it)
   * @param {boolean} options.initiator true for the newcomer, who sends the first offer
   * @param {MediaStream|null} options.localStream what we send; null to only receive
   * @param {{onStream?, onStateChange?, onError?}} options.events
   */
  constructor({ self, peer, pc, signal, initiator, localStream = null, events = {}, timers, restartAfterMs = 4000, MediaStream: Stream }) {
    this.self = self;
    this.peer = peer;
    this.polite = isPolite(self, peer);
    this.#pc = pc;
    this.#signal = signal;
    this.#initiator = initiator;
    this.#localStream = localStream;
    this.#events = events;
    this.#timers = timers ?? { setTimeout: (f, ms) => setTimeout(f, ms), clearTimeout: (t) => clearTimeout(t) };
    this.#restartAfterMs = restartAfterMs;
    this.#MediaStream = Stream ?? globalThis.MediaStream;

    pc.onnegotiationneeded = () => { this.#negotiate(); };
    pc.onicecandidate = ({ candidate }) => {
      if (this.#closed) return;
      this.#signal({ type: 'candidate', candidate: candidate ? toJSON(candidate) : null });
    };
    pc.ontrack = (event) => { this.#onTrack(event); };
    pc.onconnectionstatechange = () => { this.#onConnectionState(); };
    pc.oniceconnectionstatechange = () => { this.#onIceState(); };
    if (initiator) this.#addLocalMedia();
  }

  /** The underlying connection, for `getStats()` and anything the app needs beyond this. */
  get pc() { return this.#pc; }
  /** The remote peer's media, once its first track arrived. */
  get stream() { return this.#stream; }
  get connectionState() { return this.#pc.connectionState; }
  get closed() { return this.#closed; }
  /** ICE restarts this link asked for (after `failed`, or `disconnected` for too long). */
  get iceRestarts() { return this.#iceRestarts; }

  /**
   * Applies an `offer`, `answer` or `candidate` from the remote peer. Signals are applied one
   * at a time, in arrival order, because each step depends on the signaling state the previous
   * one left.
   */
  handle(message) {
    if (this.#closed) return;
    if (this.#queued >= MAX_QUEUED_SIGNALS) {
      this.#error(new SwitchboardError('queue-full', `more than ${MAX_QUEUED_SIGNALS} signals from ${this.peer} wait to be applied`));
      return;
    }
    this.#queued++;
    this.#queue = this.#queue
      .then(() => this.#apply(message))
      .catch((cause) => {
        this.#error(new SwitchboardError('negotiation-failed', `${message.type} from ${this.peer} failed: ${cause?.message ?? cause}`, { cause }));
      })
      .finally(() => { this.#queued--; });
  }

  /** Sends `stream` instead of the current local media (replacing tracks where it can). */
  setLocalStream(stream) {
    this.#localStream = stream;
    if (this.#closed || !this.#tracksAdded) return;
    const transceivers = this.#pc.getTransceivers().filter((t) => t.direction !== 'stopped');
    for (const track of stream?.getTracks() ?? []) {
      // The transceiver already sending this kind, else one that only receives it.
      const t = transceivers.find((x) => x.sender.track?.kind === track.kind)
        ?? transceivers.find((x) => !x.sender.track && x.receiver.track?.kind === track.kind);
      if (!t) {
        this.#pc.addTrack(track, stream); // renegotiates
        continue;
      }
      t.sender.replaceTrack(track).catch((cause) => this.#error(new SwitchboardError('negotiation-failed', `replaceTrack failed: ${cause.message}`, { cause })));
      if (t.direction === 'recvonly') t.direction = 'sendrecv'; // renegotiates
      t.sender.setStreams?.(stream);
    }
  }

  /** Asks for new ICE credentials (renegotiates). */
  restartIce() {
    if (this.#closed) return;
    this.#iceRestarts++;
    this.#pc.restartIce();
  }

  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearRestart();
    const pc = this.#pc;
    pc.onnegotiationneeded = pc.onicecandidate = pc.ontrack = null;
    pc.onconnectionstatechange = pc.oniceconnectionstatechange = null;
    pc.close();
    for (const track of this.#stream?.getTracks() ?? []) track.stop?.();
    this.#earlyCandidates.length = 0;
  }

  async #apply(message) {
    if (this.#closed) return;
    const pc = this.#pc;
    if (message.type === 'candidate') {
      await this.#addCandidate(message.candidate);
      return;
    }
    const type = message.type; // 'offer' or 'answer'
    if (typeof message.sdp !== 'string') throw new Error(`${type} without sdp`);
    const readyForOffer = !this.#makingOffer && (pc.signalingState === 'stable' || this.#settingRemoteAnswer);
    const collision = type === 'offer' && !readyForOffer;
    this.#ignoreOffer = !this.polite && collision;
    if (this.#ignoreOffer) return; // ours wins; theirs is rolled back on their side
    this.#settingRemoteAnswer = type === 'answer';
    try {
      await pc.setRemoteDescription({ type, sdp: message.sdp }); // rolls ours back if we collided
    } finally {
      this.#settingRemoteAnswer = false;
    }
    if (this.#closed) return;
    await this.#flushCandidates();
    if (type === 'offer') {
      // The answering side sends its media in the transceivers the offer created.
      if (!this.#tracksAdded) this.#addLocalMedia();
      await pc.setLocalDescription();
      if (this.#closed) return;
      this.#signal({ type: 'answer', sdp: pc.localDescription.sdp });
    }
  }

  async #addCandidate(candidate) {
    const pc = this.#pc;
    if (!pc.remoteDescription) {
      // Candidates can overtake the description they belong to while it is being applied.
      if (this.#earlyCandidates.length >= MAX_EARLY_CANDIDATES) this.#earlyCandidates.shift();
      this.#earlyCandidates.push(candidate);
      return;
    }
    try {
      await (candidate === null ? pc.addIceCandidate() : pc.addIceCandidate(candidate));
    } catch (cause) {
      // Candidates of an offer we ignored do not match anything: expected, not an error.
      if (!this.#ignoreOffer) throw cause;
    }
  }

  async #flushCandidates() {
    const early = this.#earlyCandidates.splice(0);
    for (const candidate of early) {
      try {
        await (candidate === null ? this.#pc.addIceCandidate() : this.#pc.addIceCandidate(candidate));
      } catch {
        // Buffered candidates may belong to an earlier, ignored description.
      }
    }
  }

  async #negotiate() {
    if (this.#closed) return;
    try {
      this.#makingOffer = true;
      await this.#pc.setLocalDescription();
      if (this.#closed || this.#pc.signalingState !== 'have-local-offer') return;
      this.#signal({ type: 'offer', sdp: this.#pc.localDescription.sdp });
    } catch (cause) {
      this.#error(new SwitchboardError('negotiation-failed', `offer to ${this.peer} failed: ${cause?.message ?? cause}`, { cause }));
    } finally {
      this.#makingOffer = false;
    }
  }

  #addLocalMedia() {
    this.#tracksAdded = true;
    const tracks = this.#localStream?.getTracks() ?? [];
    for (const track of tracks) this.#pc.addTrack(track, this.#localStream);
    if (this.#initiator) {
      // Receive what we do not send, so that the offer asks for the other side's media too.
      for (const kind of ['audio', 'video']) {
        if (!tracks.some((t) => t.kind === kind)) this.#pc.addTransceiver(kind, { direction: 'recvonly' });
      }
    }
  }

  #onTrack({ track, streams }) {
    if (this.#closed) return;
    let stream = streams?.[0];
    if (!stream) {
      this.#stream ??= new this.#MediaStream();
      stream = this.#stream;
      stream.addTrack(track);
    }
    if (stream !== this.#stream || !this.#announced) {
      this.#stream = stream;
      this.#announced = true;
      this.#events.onStream?.(stream, track);
    } else {
      this.#events.onTrack?.(stream, track);
    }
  }

  #onConnectionState() {
    if (this.#closed) return;
    this.#events.onStateChange?.(this.#pc.connectionState);
  }

  #onIceState() {
    if (this.#closed) return;
    const state = this.#pc.iceConnectionState;
    if (state === 'failed') {
      this.#clearRestart();
      this.restartIce();
    } else if (state === 'disconnected') {
      // Often recovers by itself (a moment of packet loss); restart if it does not.
      if (this.#restartTimer === null) {
        this.#restartTimer = this.#timers.setTimeout(() => {
          this.#restartTimer = null;
          if (!this.#closed && this.#pc.iceConnectionState === 'disconnected') this.restartIce();
        }, this.#restartAfterMs);
      }
    } else {
      this.#clearRestart();
    }
  }

  #clearRestart() {
    if (this.#restartTimer !== null) {
      this.#timers.clearTimeout(this.#restartTimer);
      this.#restartTimer = null;
    }
  }

  #error(error) {
    if (this.#closed) return;
    error.peer = this.peer;
    this.#events.onError?.(error);
  }
}

function toJSON(candidate) {
  return typeof candidate.toJSON === 'function' ? candidate.toJSON() : { ...candidate };
}
