// A member's two connections to an `sfu` room's media server, negotiated through Switchboard
// (docs/protocol.md, "Media rooms"): one publishes our media (send-only), one receives every
// stream we may see (receive-only: the media server offers them all in one connection, and
// offers again whenever publishers come and go). The server's `subscribe-offer` says which peer
// each `mid` shows, and each track arrives in a MediaStream whose id is that peer's id.
import { SwitchboardError } from './errors.js';

/**
 * States reported through `onStateChange(pc, state)`, `pc` being `publish` or `subscribe`: the
 * `RTCPeerConnection.connectionState` values.
 */
export class MediaRoom {
  #createConnection;
  #request;
  #send;
  #events;
  #canPublish;
  #localStream;
  #publisher = null; // RTCPeerConnection, while we publish
  #publishing = Promise.resolve(); // publish/unpublish steps, one at a time
  #subscriber = null; // RTCPeerConnection, from the first subscribe-offer on
  #offers = Promise.resolve(); // subscribe-offers, applied one at a time
  #waitingOffer = null; // the newest offer not yet applied (a newer one replaces it)
  #streams = new Map(); // peer -> MediaStream we receive
  #shown = new Map(); // peer -> the mids that show it, per the last offer applied
  #closed = false;

  /**
   * @param {object} options
   * @param {() => RTCPeerConnection} options.createConnection a fresh connection, owned from then on
   * @param {(message: object) => Promise<object>} options.request sends a message with an `id`
   *   and resolves with its answer (`publish-answer`, or nothing for an `ack`)
   * @param {(message: object) => void} options.send sends a message without waiting for it
   * @param {boolean} options.canPublish false for a broadcast's viewer
   * @param {MediaStream|null} options.localStream what we publish; null to only receive
   * @param {{onStream?, onStreamEnded?, onStateChange?, onError?}} options.events
   */
  constructor({ createConnection, request, send, canPublish, localStream = null, events = {} }) {
    this.#createConnection = createConnection;
    this.#request = request;
    this.#send = send;
    this.#canPublish = canPublish;
    this.#localStream = localStream;
    this.#events = events;
  }

  /** The publishing connection, or null. */
  get publisher() { return this.#publisher; }
  /** The receiving connection, or null before the first `subscribe-offer`. */
  get subscriber() { return this.#subscriber; }
  /** Peer id → the MediaStream we receive of it. */
  get streams() { return new Map(this.#streams); }

  /** Publishes our stream, if we may and have one (after a welcome). */
  start() {
    if (this.#canPublish && this.#localStream?.getTracks().length) this.publish();
  }

  /**
   * Publishes our stream, or renegotiates what we publish (a track added or removed). Resolves
   * once the media server's answer is applied; a failure is also reported through `onError`.
   */
  publish() {
    return this.#step(() => this.#publish());
  }

  /** Stops publishing: the others' subscriptions drop our streams. */
  unpublish() {
    return this.#step(async () => {
      if (!this.#publisher) return;
      this.#closeConnection(this.#publisher);
      this.#publisher = null;
      await this.#request({ type: 'unpublish' });
    });
  }

  /** Publishes `stream` from now on: tracks are replaced where they can be, else we renegotiate. */
  setLocalStream(stream) {
    this.#localStream = stream;
    if (!this.#canPublish || this.#closed) return Promise.resolve();
    if (!this.#publisher) return stream?.getTracks().length ? this.publish() : Promise.resolve();
    return this.#step(async () => {
      const senders = this.#publisher.getSenders();
      let renegotiate = false;
      for (const track of stream?.getTracks() ?? []) {
        const sender = senders.find((s) => s.track?.kind === track.kind)
          ?? senders.find((s) => !s.track && this.#kindOf(s) === track.kind);
        if (sender) {
          await sender.replaceTrack(track);
        } else {
          this.#publisher.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
          renegotiate = true;
        }
      }
      for (const sender of senders) {
        if (sender.track && !stream?.getTracks().includes(sender.track)) await sender.replaceTrack(null);
      }
      if (renegotiate) await this.#publish();
    });
  }

  /**
   * A `subscribe-offer` from the server: the receiving connection takes it and answers. Offers
   * are applied in order; one that arrives while another is being applied waits, and a newer one
   * replaces it (the server's newest offer describes everything).
   */
  handleOffer(message) {
    if (this.#closed || typeof message.sdp !== 'string') return;
    const waiting = this.#waitingOffer !== null;
    this.#waitingOffer = message;
    if (waiting) return; // the step queued for the older one applies this one
    this.#offers = this.#offers.then(async () => {
      const offer = this.#waitingOffer;
      this.#waitingOffer = null;
      if (offer && !this.#closed) await this.#applyOffer(offer);
    }).catch((cause) => {
      this.#error(new SwitchboardError('negotiation-failed', `the media server's offer failed: ${cause?.message ?? cause}`, { cause }));
    });
  }

  /** Closes both connections (we leave, or our place in the media room is gone). */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#publisher) this.#closeConnection(this.#publisher);
    if (this.#subscriber) this.#closeConnection(this.#subscriber);
    this.#publisher = this.#subscriber = null;
    for (const peer of [...this.#streams.keys()]) this.#ended(peer);
  }

  #step(fn) {
    const run = this.#publishing.then(() => (this.#closed ? undefined : fn()));
    this.#publishing = run.catch(() => {});
    return run.catch((cause) => {
      const error = cause instanceof SwitchboardError ? cause
        : new SwitchboardError('negotiation-failed', `publishing failed: ${cause?.message ?? cause}`, { cause });
      this.#error(error);
      throw error;
    });
  }

  async #publish() {
    const stream = this.#localStream;
    if (!this.#publisher) {
      const pc = this.#createConnection();
      this.#publisher = pc;
      this.#watch(pc, 'publish');
      for (const track of stream?.getTracks() ?? []) pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
    }
    const pc = this.#publisher;
    await pc.setLocalDescription(await pc.createOffer());
    const answer = await this.#request({ type: 'publish', sdp: pc.localDescription.sdp });
    if (this.#closed || pc !== this.#publisher) return; // closed or unpublished meanwhile
    await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
  }

  async #applyOffer(offer) {
    if (!this.#subscriber) {
      const pc = this.#createConnection();
      this.#subscriber = pc;
      this.#watch(pc, 'subscribe');
      pc.ontrack = (e) => this.#onTrack(e);
    }
    const pc = this.#subscriber;
    await pc.setRemoteDescription({ type: 'offer', sdp: offer.sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    if (this.#closed) return;
    this.#send({ type: 'subscribe-answer', sdp: pc.localDescription.sdp });
    this.#follow(Array.isArray(offer.streams) ? offer.streams : []);
  }

  /** What the applied offer shows: peers it no longer shows have ended. */
  #follow(streams) {
    this.#shown.clear();
    for (const s of streams) {
      if (typeof s?.peer !== 'string') continue;
      if (!this.#shown.has(s.peer)) this.#shown.set(s.peer, []);
      this.#shown.get(s.peer).push(s.mid);
    }
    for (const peer of [...this.#streams.keys()]) {
      if (!this.#shown.has(peer)) this.#ended(peer);
    }
  }

  #onTrack({ track, streams, transceiver }) {
    if (this.#closed) return;
    // The server names each stream after its peer (its `streams` says the same per mid).
    const stream = streams?.[0];
    const peer = stream?.id ?? [...this.#shown].find(([, mids]) => mids.includes(transceiver?.mid))?.[0];
    if (!peer || !stream) return;
    if (this.#streams.get(peer) === stream) return;
    this.#streams.set(peer, stream);
    this.#events.onStream?.(peer, stream, track);
  }

  #ended(peer) {
    if (!this.#streams.delete(peer)) return;
    this.#events.onStreamEnded?.(peer);
  }

  #watch(pc, which) {
    pc.onicecandidate = ({ candidate }) => {
      if (this.#closed) return;
      // Candidates may go before the `publish` is answered: the server hands them on in order.
      this.#send({ type: 'trickle', pc: which, candidate: candidate ? toJSON(candidate) : null });
    };
    pc.onconnectionstatechange = () => {
      if (!this.#closed) this.#events.onStateChange?.(which, pc.connectionState);
    };
  }

  #kindOf(sender) {
    return this.#publisher?.getTransceivers().find((t) => t.sender === sender)?.receiver?.track?.kind;
  }

  #closeConnection(pc) {
    pc.onicecandidate = pc.onconnectionstatechange = pc.ontrack = null;
    pc.close();
  }

  #error(error) {
    if (!this.#closed) this.#events.onError?.(error);
  }
}

function toJSON(candidate) {
  return typeof candidate.toJSON === 'function' ? candidate.toJSON() : { ...candidate };
}
