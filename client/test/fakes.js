// Test doubles for the browser APIs the client uses: WebSocket, timers, RTCPeerConnection,
// MediaStream; plus an in-memory relay and a small protocol-v1 server. Only what Node 18 has
// (EventTarget, Event, DOMException, setImmediate) is used.
//
// Everything asynchronous in here goes through `macrotask()` or the peer connection's operations
// chain, both counted in `activity.busy`, so that `settle()` can wait until nothing is in flight.
// The manual clock is separate: its timers run only when a test calls `advance()`.

// ---------------------------------------------------------------------------------------------
// Scheduling helpers

export const activity = { busy: 0 };

/** Runs `fn` in a later macrotask (like a browser task), counted as activity. */
export function macrotask(fn) {
  activity.busy++;
  setImmediate(() => {
    activity.busy--;
    fn();
  });
}

/** One macrotask: every pending microtask has run when it resolves. */
export function tick() {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Waits until no fake has anything in flight (two quiet macrotask rounds in a row). */
export async function settle({ maxRounds = 1000 } = {}) {
  let quiet = 0;
  for (let round = 0; round < maxRounds; round++) {
    await tick();
    if (activity.busy === 0) {
      if (++quiet >= 2) return round;
    } else {
      quiet = 0;
    }
  }
  // Something keeps itself busy (e.g. two connections renegotiating forever): stop every fake
  // connection so that the rest of the file can still run, and fail.
  const busy = activity.busy;
  for (const pc of everyPeerConnection) pc.close();
  throw new Error(`settle(): still busy after ${maxRounds} rounds (${busy} in flight)`);
}

const everyPeerConnection = new Set();

/** A promise with its resolve/reject exposed. */
export function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

/** How a promise stands right now (after the pending microtasks ran): fulfilled/rejected/pending. */
export async function status(promise) {
  let outcome = 'pending';
  let value;
  promise.then((v) => { outcome = 'fulfilled'; value = v; }, (e) => { outcome = 'rejected'; value = e; });
  await tick();
  return { outcome, value };
}

/**
 * `promise` itself once it has settled (by the next macrotask), else a rejection saying it is
 * still pending: `await assert.rejects(settledNow(p), ...)` fails at once instead of hanging the
 * file when the client never settles `p`.
 */
export async function settledNow(promise) {
  const { outcome } = await status(promise);
  if (outcome === 'pending') throw new Error('the promise is still pending');
  return promise;
}

/** Records the events of `target` by type: `rec.of('welcome')`, `rec.types`. */
export function recordEvents(target, types) {
  const all = [];
  for (const type of types) target.addEventListener(type, (event) => all.push(event));
  return {
    all,
    of: (type) => all.filter((e) => e.type === type),
    get types() { return all.map((e) => e.type); },
    clear: () => { all.length = 0; },
  };
}

/**
 * Joins the client of setup `s` (`{sb, ws}`): its socket opens and the server answers `welcome`;
 * resolves once everything the welcome set off has settled.
 */
export async function joinWith(s, welcome) {
  const joining = s.sb.join();
  s.ws().open();
  await tick();
  s.ws().receive(welcome);
  await settledNow(joining);
  await settle();
  return s;
}

// ---------------------------------------------------------------------------------------------
// Manual clock

/**
 * `{setTimeout, clearTimeout, now}` driven by hand. `advance(ms)` runs every callback due within
 * the next `ms` milliseconds in time order (ties in scheduling order), moving `now()` to each
 * callback's time before it runs, so callbacks that schedule further timers behave as in a real
 * event loop.
 */
export class ManualClock {
  #now;
  #seq = 0;
  #timers = new Map(); // id -> {id, at, fn, args, delay}

  constructor(start = 1_000_000) {
    this.#now = start;
    // Usable detached (`const {setTimeout} = clock`) as well as as methods.
    this.setTimeout = this.setTimeout.bind(this);
    this.clearTimeout = this.clearTimeout.bind(this);
    this.now = this.now.bind(this);
  }

  now() { return this.#now; }

  setTimeout(fn, ms = 0, ...args) {
    if (typeof fn !== 'function') throw new TypeError('ManualClock.setTimeout needs a function');
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const id = ++this.#seq;
    this.#timers.set(id, { id, at: this.#now + delay, fn, args, delay });
    return id;
  }

  clearTimeout(id) { this.#timers.delete(id); }

  /** The timers still scheduled: [{delay, in}] (`in`: ms from now), soonest first. */
  get pending() {
    return [...this.#timers.values()]
      .sort((a, b) => a.at - b.at || a.id - b.id)
      .map((t) => ({ delay: t.delay, in: t.at - this.#now }));
  }

  /** Runs every timer due within `ms` ms, synchronously. */
  advance(ms) {
    if (!(ms >= 0)) throw new RangeError(`advance(${ms})`);
    const target = this.#now + ms;
    for (let guard = 0; ; guard++) {
      if (guard > 100_000) throw new Error('ManualClock: a timer keeps rescheduling itself at the same time');
      const next = this.#due(target);
      if (!next) break;
      this.#timers.delete(next.id);
      this.#now = next.at;
      next.fn(...next.args);
    }
    this.#now = target;
  }

  /** Like `advance`, but lets the fakes settle before and after each timer. */
  async advanceAsync(ms) {
    const target = this.#now + ms;
    await settle();
    for (;;) {
      const next = this.#due(target);
      if (!next) break;
      this.#timers.delete(next.id);
      this.#now = next.at;
      next.fn(...next.args);
      await settle();
    }
    this.#now = target;
    await settle();
  }

  #due(target) {
    let best = null;
    for (const t of this.#timers.values()) {
      if (t.at > target) continue;
      if (best === null || t.at < best.at || (t.at === best.at && t.id < best.id)) best = t;
    }
    return best;
  }
}

// ---------------------------------------------------------------------------------------------
// WebSocket

function makeEvent(type, fields = {}) {
  const event = new Event(type);
  for (const [key, value] of Object.entries(fields)) {
    Object.defineProperty(event, key, { value, enumerable: true });
  }
  return event;
}

/** Calls `target.on<type>` then the listeners; a throwing handler fails the test run. */
function fire(target, type, fields) {
  const event = makeEvent(type, fields);
  const handler = target[`on${type}`];
  if (typeof handler === 'function') {
    try {
      handler.call(target, event);
    } catch (error) {
      setImmediate(() => { throw error; });
    }
  }
  target.dispatchEvent(event);
  return event;
}

/**
 * A WebSocket driven by the test. `sent` holds the frames the client sent, parsed; `open()`,
 * `receive(obj)` and `serverClose(code, reason)` play the server. Every instance is kept in
 * `FakeWebSocket.instances` (`FakeWebSocket.last` is the newest).
 */
export class FakeWebSocket extends EventTarget {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;
  static instances = [];
  static get last() { return FakeWebSocket.instances[FakeWebSocket.instances.length - 1] ?? null; }
  static reset() { FakeWebSocket.instances.length = 0; }

  constructor(url, protocols) {
    super();
    this.url = String(url);
    this.protocols = protocols;
    this.readyState = FakeWebSocket.CONNECTING;
    this.protocol = '';
    this.extensions = '';
    this.binaryType = 'blob';
    this.bufferedAmount = 0;
    this.sent = []; // parsed frames
    this.rawSent = []; // the text as sent
    this.clientClose = null; // {code, reason} once close() was called
    this.closedBy = null; // 'client' or 'server'
    this.onopen = this.onmessage = this.onclose = this.onerror = null;
    this.server = null; // {onFrame(ws, text, msg), onClientClose(ws, code, reason)} for FakeServer
    FakeWebSocket.instances.push(this);
  }

  get CONNECTING() { return 0; }
  get OPEN() { return 1; }
  get CLOSING() { return 2; }
  get CLOSED() { return 3; }

  /** The `type`s of the frames sent so far. */
  get types() { return this.sent.map((m) => m.type); }
  sentOfType(type) { return this.sent.filter((m) => m.type === type); }
  clearSent() { this.sent.length = 0; this.rawSent.length = 0; }

  send(data) {
    if (this.readyState === FakeWebSocket.CONNECTING) {
      throw new DOMException("Failed to execute 'send' on 'WebSocket': Still in CONNECTING state.", 'InvalidStateError');
    }
    if (this.readyState !== FakeWebSocket.OPEN) return; // a browser drops it silently
    if (typeof data !== 'string') throw new TypeError('the client must send text frames');
    this.rawSent.push(data);
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      msg = { invalidJson: data };
    }
    this.sent.push(msg);
    this.server?.onFrame(this, data, msg);
  }

  close(code, reason = '') {
    if (code !== undefined && code !== 1000 && !(code >= 3000 && code <= 4999)) {
      throw new DOMException(`The close code must be 1000 or 3000-4999, not ${code}`, 'InvalidAccessError');
    }
    if (this.readyState === FakeWebSocket.CLOSING || this.readyState === FakeWebSocket.CLOSED) return;
    this.clientClose = { code, reason };
    this.closedBy = 'client';
    const wasOpen = this.readyState === FakeWebSocket.OPEN;
    this.readyState = FakeWebSocket.CLOSING;
    macrotask(() => {
      if (this.readyState === FakeWebSocket.CLOSED) return;
      this.readyState = FakeWebSocket.CLOSED;
      this.server?.onClientClose(this, code, reason);
      if (!wasOpen) fire(this, 'error');
      fire(this, 'close', { code: wasOpen ? code ?? 1005 : 1006, reason: wasOpen ? reason : '', wasClean: wasOpen });
    });
  }

  // --- the server's side ---

  open() {
    if (this.readyState !== FakeWebSocket.CONNECTING) throw new Error(`open(): the socket is in state ${this.readyState}`);
    this.readyState = FakeWebSocket.OPEN;
    fire(this, 'open');
  }

  /**
   * Delivers a message (an object is sent as JSON; a string as is). A browser drops messages
   * for a socket that is not open; `{force: true}` delivers anyway, to check that the client
   * itself ignores sockets it gave up on.
   */
  receive(message, { force = false } = {}) {
    if (this.readyState !== FakeWebSocket.OPEN && !force) {
      throw new Error(`receive(): the socket is in state ${this.readyState}`);
    }
    fire(this, 'message', { data: typeof message === 'string' ? message : JSON.stringify(message) });
  }

  /** The server closes the connection (1006: it was lost; an `error` comes first). */
  serverClose(code = 1006, reason = '') {
    if (this.readyState === FakeWebSocket.CLOSED) throw new Error('serverClose(): already closed');
    this.readyState = FakeWebSocket.CLOSED;
    this.closedBy ??= 'server';
    if (code === 1006) fire(this, 'error');
    fire(this, 'close', { code, reason, wasClean: code !== 1006 });
  }
}

// ---------------------------------------------------------------------------------------------
// Media

let trackSeq = 0;
let streamSeq = 0;

export class FakeMediaStreamTrack extends EventTarget {
  constructor(kind, { id, label = '', remote = false } = {}) {
    super();
    if (kind !== 'audio' && kind !== 'video') throw new TypeError(`bad track kind ${kind}`);
    this.kind = kind;
    this.id = id ?? `${remote ? 'remote-' : ''}${kind}-${++trackSeq}`;
    this.label = label;
    this.enabled = true;
    this.muted = remote;
    this.readyState = 'live';
    this.remote = remote;
    this.stopCalls = 0;
    this.onended = this.onmute = this.onunmute = null;
  }

  stop() {
    this.stopCalls++;
    this.readyState = 'ended';
  }

  /** Ended by the browser (its peer connection closed): no `stop()` call. */
  _end() { this.readyState = 'ended'; }

  clone() {
    const copy = new FakeMediaStreamTrack(this.kind, { label: this.label });
    copy.enabled = this.enabled;
    return copy;
  }

  getSettings() { return {}; }
}

export class FakeMediaStream extends EventTarget {
  #tracks = [];

  /** `new MediaStream()`, `new MediaStream(tracks)` or `new MediaStream(stream)`. */
  constructor(tracksOrStream) {
    super();
    this.id = `stream-${++streamSeq}`;
    const tracks = tracksOrStream == null ? []
      : Array.isArray(tracksOrStream) ? tracksOrStream : tracksOrStream.getTracks();
    for (const t of tracks) this.addTrack(t);
    this.onaddtrack = this.onremovetrack = null;
  }

  /** What a receiving browser builds for the remote stream `id` (from the SDP's msid). */
  static _remote(id) {
    const stream = new FakeMediaStream();
    stream.id = id;
    return stream;
  }

  get active() { return this.#tracks.some((t) => t.readyState === 'live'); }
  getTracks() { return [...this.#tracks]; }
  getAudioTracks() { return this.#tracks.filter((t) => t.kind === 'audio'); }
  getVideoTracks() { return this.#tracks.filter((t) => t.kind === 'video'); }
  getTrackById(id) { return this.#tracks.find((t) => t.id === id) ?? null; }
  addTrack(track) { if (!this.#tracks.includes(track)) this.#tracks.push(track); }
  removeTrack(track) { this.#tracks = this.#tracks.filter((t) => t !== track); }
  clone() { return new FakeMediaStream(this.#tracks.map((t) => t.clone())); }
}

/** A local stream with an audio and/or a video track. */
export function fakeStream({ audio = true, video = true } = {}) {
  const tracks = [];
  if (audio) tracks.push(new FakeMediaStreamTrack('audio', { label: 'mic' }));
  if (video) tracks.push(new FakeMediaStreamTrack('video', { label: 'camera' }));
  return new FakeMediaStream(tracks);
}

// ---------------------------------------------------------------------------------------------
// RTCPeerConnection

const hasSend = (d) => d === 'sendrecv' || d === 'sendonly';
const hasRecv = (d) => d === 'sendrecv' || d === 'recvonly';
const makeDirection = (send, recv) => (send && recv ? 'sendrecv' : send ? 'sendonly' : recv ? 'recvonly' : 'inactive');
/** What an answerer whose transceiver wants `wanted` answers to an m-section offered as `offered`. */
const answerDirection = (wanted, offered) => makeDirection(hasSend(wanted) && hasRecv(offered), hasRecv(wanted) && hasSend(offered));
const reverse = (d) => ({ sendonly: 'recvonly', recvonly: 'sendonly' }[d] ?? d);
const DIRECTIONS = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

let ufragSeq = 0;
const newUfrag = () => `uf${(++ufragSeq).toString(36).padStart(4, '0')}`;

const invalidState = (text) => new DOMException(text, 'InvalidStateError');
const operationError = (text) => new DOMException(text, 'OperationError');

/**
 * The fake SDP: a few real-looking lines and one `a=x-fake:` line holding the session as JSON:
 * {session, version, ufrag, media: [{mid, kind, direction, msid: [streamId], trackId, tid}]}.
 */
function encodeSdp(session) {
  return `v=0\r\no=- ${session.session} ${session.version} IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n`
    + `a=ice-ufrag:${session.ufrag}\r\na=x-fake:${JSON.stringify(session)}\r\n`;
}

export function decodeSdp(sdp) {
  if (typeof sdp !== 'string') throw new TypeError('sdp must be a string');
  const line = sdp.split('\r\n').find((l) => l.startsWith('a=x-fake:'));
  if (!line) throw operationError('Failed to parse SessionDescription. Invalid SDP line.');
  try {
    return JSON.parse(line.slice('a=x-fake:'.length));
  } catch {
    throw operationError('Failed to parse SessionDescription.');
  }
}

function description(type, sdp) {
  return Object.freeze({ type, sdp, toJSON() { return { type, sdp }; } });
}

export class FakeRTCIceCandidate {
  constructor({ candidate = '', sdpMid = null, sdpMLineIndex = null, usernameFragment = null } = {}) {
    this.candidate = candidate;
    this.sdpMid = sdpMid;
    this.sdpMLineIndex = sdpMLineIndex;
    this.usernameFragment = usernameFragment;
  }

  toJSON() {
    return { candidate: this.candidate, sdpMid: this.sdpMid, sdpMLineIndex: this.sdpMLineIndex, usernameFragment: this.usernameFragment };
  }
}

class FakeRTCRtpSender {
  constructor(kind, track, streams) {
    this._kind = kind;
    this.track = track;
    this._streams = streams;
    this.replaceTrackCalls = [];
  }

  async replaceTrack(track) {
    if (track && track.kind !== this._kind) throw new TypeError(`cannot replace a ${this._kind} track with a ${track.kind} one`);
    activity.busy++;
    try {
      await tick();
      this.track = track;
      this.replaceTrackCalls.push(track);
    } finally {
      activity.busy--;
    }
  }

  setStreams(...streams) { this._streams = streams; }
  getParameters() { return { encodings: [{}] }; }
  getStats() { return Promise.resolve(new Map()); }
}

let transceiverSeq = 0;

class FakeRTCRtpTransceiver {
  #direction;
  #onChange;

  constructor({ kind, direction, track = null, streams = [], fromAddTrack = false, onChange }) {
    this._tid = ++transceiverSeq;
    this.kind = kind;
    this.mid = null;
    this.#direction = direction;
    this.currentDirection = null;
    this.stopped = false;
    this.sender = new FakeRTCRtpSender(kind, track, streams);
    this.receiver = { track: new FakeMediaStreamTrack(kind, { remote: true }), getStats: () => Promise.resolve(new Map()) };
    this._fromAddTrack = fromAddTrack; // a remote offer may take it over
    this._descDirection = null; // our direction in the last local description that covered it
    this._remoteSending = false;
    this._everSent = false;
    this.#onChange = onChange;
  }

  get direction() { return this.stopped ? 'stopped' : this.#direction; }

  set direction(value) {
    if (!DIRECTIONS.includes(value)) throw new TypeError(`bad direction ${value}`);
    if (this.stopped) throw invalidState('the transceiver is stopped');
    if (value === this.#direction) return;
    this.#direction = value;
    this.#onChange();
  }

  _setDirection(value) { this.#direction = value; }

  stop() {
    if (this.stopped) return;
    this._stop();
    this.#onChange();
  }

  _stop() {
    this.stopped = true;
    this.currentDirection = 'stopped';
    this.receiver.track._end();
  }

  setCodecPreferences() {}
}

let pcSeq = 0;

/**
 * An RTCPeerConnection without media, with the signaling-state machine of a real one:
 *
 * - every `setLocalDescription`/`setRemoteDescription`/`addIceCandidate`/`createOffer`/
 *   `createAnswer` goes through an operations chain, one at a time, each taking at least one
 *   macrotask;
 * - `setLocalDescription()` without a description creates an offer in `stable`/
 *   `have-local-offer` and an answer in `have-remote-offer`;
 * - a remote offer in `have-local-offer` rolls the local one back first (as Chromium does);
 * - an answer in `stable`, an answer that does not match the offer, a rollback in `stable`...
 *   throw `InvalidStateError`/`OperationError`, as a browser would;
 * - `negotiationneeded` is fired in a later task, only when stable with an empty chain and only
 *   when something really needs negotiating (a transceiver not yet in a local description, a
 *   direction change, a pending ICE restart); a local offer that is rolled back leaves its
 *   changes to negotiate again;
 * - `addIceCandidate` rejects without a remote description or when the candidate's ufrag is not
 *   the remote description's; `candidate` null/undefined is end-of-candidates;
 * - after each local description with new ICE credentials it gathers `gatherCandidates` host
 *   candidates, then fires the null candidate;
 * - `track` fires while a remote description is applied, for each transceiver the remote side
 *   starts sending on, with the remote streams named in the SDP.
 *
 * `connectionState`/`iceConnectionState` change only through the test helpers.
 */
export class FakeRTCPeerConnection extends EventTarget {
  static instances = [];
  static gatherCandidates = 1;
  static reset() { FakeRTCPeerConnection.instances.length = 0; }

  #closed = false;
  #ops = 0;
  #chain = Promise.resolve();
  #transceivers = [];
  #version = 0;
  #ufrag = newUfrag();
  #restartPending = false;
  #nnFired = false;
  #nnQueued = false;
  #remoteStreams = new Map();
  #gathered = new Set();
  #offerSnapshot = null; // what a rollback of our offer restores
  #remoteSnapshot = null; // what a rollback of a remote offer restores

  constructor(configuration = {}) {
    super();
    this.configuration = configuration;
    this.id = `pc${++pcSeq}`;
    this.signalingState = 'stable';
    this.connectionState = 'new';
    this.iceConnectionState = 'new';
    this.iceGatheringState = 'new';
    this.currentLocalDescription = null;
    this.pendingLocalDescription = null;
    this.currentRemoteDescription = null;
    this.pendingRemoteDescription = null;
    this.gatherCandidates = FakeRTCPeerConnection.gatherCandidates;
    // What happened, for assertions.
    this.log = []; // [{op, ...}] in the order things took effect
    this.appliedCandidates = []; // candidates applied (null: end of candidates)
    this.remoteOffersApplied = 0;
    this.remoteAnswersApplied = 0;
    this.localOffers = 0;
    this.localAnswers = 0;
    this.rollbacks = 0;
    this.restartIceCalls = 0;
    this.negotiationNeededCount = 0;
    this.closeCalls = 0;
    this.onnegotiationneeded = this.onicecandidate = this.ontrack = null;
    this.onsignalingstatechange = this.onconnectionstatechange = this.oniceconnectionstatechange = null;
    this.onicegatheringstatechange = this.ondatachannel = null;
    FakeRTCPeerConnection.instances.push(this);
    everyPeerConnection.add(this);
  }

  get localDescription() { return this.pendingLocalDescription ?? this.currentLocalDescription; }
  get remoteDescription() { return this.pendingRemoteDescription ?? this.currentRemoteDescription; }
  /** Our current ICE username fragment. */
  get iceUfrag() { return this.#ufrag; }
  get closed() { return this.#closed; }
  /** Operations queued or running. */
  get operations() { return this.#ops; }

  getConfiguration() { return { ...this.configuration }; }
  getTransceivers() { return [...this.#transceivers]; }
  getSenders() { return this.#transceivers.filter((t) => !t.stopped).map((t) => t.sender); }
  getReceivers() { return this.#transceivers.filter((t) => !t.stopped).map((t) => t.receiver); }
  getStats() { return Promise.resolve(new Map([['fake', { type: 'peer-connection', id: this.id }]])); }

  addTrack(track, ...streams) {
    this.#assertOpen();
    if (!track || (track.kind !== 'audio' && track.kind !== 'video')) throw new TypeError('addTrack needs a track');
    if (this.#transceivers.some((t) => !t.stopped && t.sender.track === track)) {
      throw new DOMException('A sender already exists for the track.', 'InvalidAccessError');
    }
    // A sender that never sent anything and has no track is reused (even one from a remote offer).
    let t = this.#transceivers.find((x) => !x.stopped && x.kind === track.kind && x.sender.track === null && !x._everSent);
    if (t) {
      t.sender.track = track;
      t.sender._streams = streams;
      if (t.direction === 'recvonly') t._setDirection('sendrecv');
      else if (t.direction === 'inactive') t._setDirection('sendonly');
    } else {
      t = this.#newTransceiver({ kind: track.kind, direction: 'sendrecv', track, streams, fromAddTrack: true });
    }
    this.log.push({ op: 'addTrack', kind: track.kind, trackId: track.id, mid: t.mid });
    this.#maybeNegotiate();
    return t.sender;
  }

  removeTrack(sender) {
    this.#assertOpen();
    const t = this.#transceivers.find((x) => x.sender === sender);
    if (!t || t.sender.track === null) return;
    t.sender.track = null;
    if (t.direction === 'sendrecv') t._setDirection('recvonly');
    else if (t.direction === 'sendonly') t._setDirection('inactive');
    this.log.push({ op: 'removeTrack', kind: t.kind, mid: t.mid });
    this.#maybeNegotiate();
  }

  addTransceiver(trackOrKind, { direction = 'sendrecv', streams = [] } = {}) {
    this.#assertOpen();
    const track = typeof trackOrKind === 'string' ? null : trackOrKind;
    const kind = typeof trackOrKind === 'string' ? trackOrKind : trackOrKind?.kind;
    if (kind !== 'audio' && kind !== 'video') throw new TypeError(`bad kind ${kind}`);
    if (!DIRECTIONS.includes(direction)) throw new TypeError(`bad direction ${direction}`);
    const t = this.#newTransceiver({ kind, direction, track, streams });
    this.log.push({ op: 'addTransceiver', kind, direction });
    this.#maybeNegotiate();
    return t;
  }

  restartIce() {
    if (this.#closed) return;
    this.restartIceCalls++;
    this.#restartPending = true;
    this.log.push({ op: 'restartIce' });
    this.#maybeNegotiate();
  }

  createOffer() {
    return this.#enqueue(() => {
      if (this.signalingState !== 'stable' && this.signalingState !== 'have-local-offer') {
        throw invalidState(`cannot create an offer in ${this.signalingState}`);
      }
      return description('offer', encodeSdp(this.#buildOffer()));
    });
  }

  createAnswer() {
    return this.#enqueue(() => {
      if (this.signalingState !== 'have-remote-offer') throw invalidState(`cannot create an answer in ${this.signalingState}`);
      return description('answer', encodeSdp(this.#buildAnswer()));
    });
  }

  setLocalDescription(desc) {
    return this.#enqueue(() => {
      let type = desc?.type;
      let sdp = desc?.sdp;
      if (type === 'rollback') {
        this.#rollback('local');
        return;
      }
      if (!sdp) {
        type ??= this.signalingState === 'have-remote-offer' ? 'answer' : 'offer';
        if (type === 'offer') {
          if (this.signalingState !== 'stable' && this.signalingState !== 'have-local-offer') {
            throw invalidState(`Failed to execute 'setLocalDescription': cannot set a local offer in state ${this.signalingState}`);
          }
          sdp = encodeSdp(this.#buildOffer());
        } else if (type === 'answer') {
          if (this.signalingState !== 'have-remote-offer') {
            throw invalidState(`Failed to execute 'setLocalDescription': cannot set a local answer in state ${this.signalingState}`);
          }
          sdp = encodeSdp(this.#buildAnswer());
        } else {
          throw new TypeError(`bad description type ${type}`);
        }
      }
      const parsed = decodeSdp(sdp);
      if (type === 'offer') this.#applyLocalOffer(parsed, description('offer', sdp));
      else if (type === 'answer') this.#applyLocalAnswer(parsed, description('answer', sdp));
      else throw new TypeError(`bad description type ${type}`);
    });
  }

  setRemoteDescription(desc) {
    if (!desc || typeof desc.type !== 'string') return Promise.reject(new TypeError('setRemoteDescription needs a description'));
    return this.#enqueue(() => {
      const { type, sdp } = desc;
      if (type === 'rollback') {
        this.#rollback('remote');
        return;
      }
      if (type !== 'offer' && type !== 'answer') throw new TypeError(`bad description type ${type}`);
      const parsed = decodeSdp(sdp);
      if (type === 'offer') this.#applyRemoteOffer(parsed, description('offer', sdp));
      else this.#applyRemoteAnswer(parsed, description('answer', sdp));
    });
  }

  addIceCandidate(candidate) {
    const end = candidate == null || candidate.candidate === '' || candidate.candidate === undefined;
    if (!end && candidate.sdpMid == null && candidate.sdpMLineIndex == null) {
      return Promise.reject(new TypeError('Candidate missing values for both sdpMid and sdpMLineIndex'));
    }
    const argCount = arguments.length;
    return this.#enqueue(() => {
      const remote = this.remoteDescription;
      if (!remote) throw invalidState("Failed to execute 'addIceCandidate': The remote description was null");
      const remoteUfrag = decodeSdp(remote.sdp).ufrag;
      const ufrag = candidate?.usernameFragment ?? null;
      if (ufrag !== null && ufrag !== remoteUfrag) {
        throw operationError(`Failed to execute 'addIceCandidate': the ufrag ${ufrag} is not the remote description's (${remoteUfrag})`);
      }
      if (end) {
        this.appliedCandidates.push(null);
      } else {
        const { candidate: line, sdpMid = null, sdpMLineIndex = null, usernameFragment = null } = candidate;
        this.appliedCandidates.push({ candidate: line, sdpMid, sdpMLineIndex, usernameFragment });
      }
      this.log.push({ op: 'addIceCandidate', end, argCount });
    });
  }

  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.closeCalls++;
    everyPeerConnection.delete(this);
    // As in a browser, close() changes the states without firing events.
    this.signalingState = 'closed';
    this.connectionState = 'closed';
    this.iceConnectionState = 'closed';
    for (const t of this.#transceivers) t._stop();
    this.log.push({ op: 'close' });
  }

  // --- helpers for tests ---

  setIceConnectionState(state) {
    if (this.#closed) throw new Error('the connection is closed');
    this.iceConnectionState = state;
    fire(this, 'iceconnectionstatechange');
  }

  setConnectionState(state) {
    if (this.#closed) throw new Error('the connection is closed');
    this.connectionState = state;
    fire(this, 'connectionstatechange');
  }

  /** Fires `icecandidate` with `init` (a candidate init, or null for the end of candidates). */
  emitCandidate(init) {
    const candidate = init === null ? null : new FakeRTCIceCandidate({ sdpMid: '0', sdpMLineIndex: 0, usernameFragment: this.#ufrag, ...init });
    fire(this, 'icecandidate', { candidate });
    return candidate;
  }

  // --- internals ---

  #assertOpen() {
    if (this.#closed) throw invalidState('The RTCPeerConnection is closed.');
  }

  #newTransceiver(init) {
    const t = new FakeRTCRtpTransceiver({ ...init, onChange: () => this.#maybeNegotiate() });
    this.#transceivers.push(t);
    return t;
  }

  #enqueue(fn) {
    if (this.#closed) return Promise.reject(invalidState('The RTCPeerConnection is closed.'));
    this.#ops++;
    activity.busy++;
    const result = this.#chain.then(async () => {
      await tick(); // the work happens elsewhere; the page goes on meanwhile
      if (this.#closed) throw invalidState('The RTCPeerConnection was closed.');
      return fn();
    });
    this.#chain = result.then(() => {}, () => {}).then(() => {
      this.#ops--;
      activity.busy--;
      if (this.#ops === 0) this.#maybeNegotiate();
    });
    return result;
  }

  #setSignalingState(state) {
    if (this.signalingState === state) return;
    this.signalingState = state;
    this.log.push({ op: 'signalingstatechange', state });
    fire(this, 'signalingstatechange');
  }

  #needed() {
    if (this.#restartPending) return true;
    return this.#transceivers.some((t) => !t.stopped && (t.mid === null || t._descDirection !== t.direction));
  }

  /** The "update the negotiation-needed flag" steps, simplified. */
  #maybeNegotiate() {
    if (this.#closed || this.#nnQueued) return;
    this.#nnQueued = true;
    macrotask(() => {
      this.#nnQueued = false;
      // Not now: the chain emptying or the return to stable calls this again.
      if (this.#closed || this.#ops > 0 || this.signalingState !== 'stable') return;
      if (!this.#needed()) {
        this.#nnFired = false;
        return;
      }
      if (this.#nnFired) return; // already told; an offer resets this
      this.#nnFired = true;
      this.negotiationNeededCount++;
      this.log.push({ op: 'negotiationneeded' });
      fire(this, 'negotiationneeded');
    });
  }

  #nextMid() {
    let max = -1;
    for (const t of this.#transceivers) if (t.mid !== null && /^\d+$/.test(t.mid)) max = Math.max(max, Number(t.mid));
    return max + 1;
  }

  #buildOffer() {
    let next = this.#nextMid();
    const media = this.#transceivers.filter((t) => !t.stopped).map((t) => ({
      mid: t.mid ?? String(next++),
      tid: t._tid,
      kind: t.kind,
      direction: t.direction,
      msid: t.sender._streams.map((s) => s.id),
      trackId: t.sender.track?.id ?? null,
    }));
    const ufrag = this.#restartPending ? newUfrag() : this.#ufrag;
    return { session: this.id, version: ++this.#version, ufrag, media };
  }

  #buildAnswer() {
    const offer = decodeSdp(this.pendingRemoteDescription.sdp);
    const media = offer.media.map((m) => {
      const t = this.#transceivers.find((x) => x.mid === m.mid);
      const wanted = t && !t.stopped ? t.direction : 'inactive';
      return {
        mid: m.mid,
        tid: t?._tid ?? null,
        kind: m.kind,
        direction: answerDirection(wanted, m.direction),
        msid: t ? t.sender._streams.map((s) => s.id) : [],
        trackId: t?.sender.track?.id ?? null,
      };
    });
    const previousRemote = this.currentRemoteDescription ? decodeSdp(this.currentRemoteDescription.sdp).ufrag : null;
    const remoteRestarted = previousRemote !== null && previousRemote !== offer.ufrag;
    const ufrag = this.#restartPending || remoteRestarted ? newUfrag() : this.#ufrag;
    return { session: this.id, version: ++this.#version, ufrag, media };
  }

  #applyLocalOffer(parsed, desc) {
    if (this.signalingState !== 'stable' && this.signalingState !== 'have-local-offer') {
      throw invalidState(`Failed to execute 'setLocalDescription': cannot set a local offer in state ${this.signalingState}`);
    }
    if (this.signalingState === 'stable') {
      this.#offerSnapshot = {
        ufrag: this.#ufrag,
        restartPending: this.#restartPending,
        transceivers: this.#transceivers.map((t) => ({ t, mid: t.mid, descDirection: t._descDirection })),
      };
    }
    for (const m of parsed.media) {
      const t = this.#transceivers.find((x) => x._tid === m.tid);
      if (!t) throw operationError('the offer does not match this connection');
      if (t.mid === null) t.mid = m.mid;
      t._descDirection = m.direction;
    }
    if (parsed.ufrag !== this.#ufrag) {
      this.#ufrag = parsed.ufrag;
      this.#restartPending = false;
    }
    this.pendingLocalDescription = desc;
    this.localOffers++;
    this.#nnFired = false;
    this.log.push({ op: 'setLocalDescription', type: 'offer', sdp: desc.sdp });
    this.#setSignalingState('have-local-offer');
    this.#gather();
  }

  #applyLocalAnswer(parsed, desc) {
    if (this.signalingState !== 'have-remote-offer') {
      throw invalidState(`Failed to execute 'setLocalDescription': cannot set a local answer in state ${this.signalingState}`);
    }
    for (const m of parsed.media) {
      const t = this.#transceivers.find((x) => x.mid === m.mid);
      if (!t) continue;
      t.currentDirection = m.direction;
      t._descDirection = t.direction;
      if (hasSend(m.direction)) t._everSent = true;
    }
    if (parsed.ufrag !== this.#ufrag) {
      this.#ufrag = parsed.ufrag;
      this.#restartPending = false;
    }
    this.currentRemoteDescription = this.pendingRemoteDescription;
    this.pendingRemoteDescription = null;
    this.currentLocalDescription = desc;
    this.pendingLocalDescription = null;
    this.#remoteSnapshot = null;
    this.localAnswers++;
    this.log.push({ op: 'setLocalDescription', type: 'answer', sdp: desc.sdp });
    this.#setSignalingState('stable');
    this.#gather();
  }

  #applyRemoteOffer(parsed, desc) {
    if (this.signalingState === 'have-local-offer') {
      this.#rollback('local', true); // what Chromium does for a remote offer in glare
    }
    if (this.signalingState !== 'stable' && this.signalingState !== 'have-remote-offer') {
      throw invalidState(`Failed to execute 'setRemoteDescription': cannot set a remote offer in state ${this.signalingState}`);
    }
    if (this.signalingState === 'stable') {
      this.#remoteSnapshot = {
        transceivers: this.#transceivers.map((t) => ({ t, mid: t.mid })),
        count: this.#transceivers.length,
      };
    }
    const tracks = [];
    for (const m of parsed.media) {
      let t = this.#transceivers.find((x) => x.mid === m.mid);
      if (!t) {
        t = this.#transceivers.find((x) => !x.stopped && x.mid === null && x.kind === m.kind && x._fromAddTrack);
        if (t) t.mid = m.mid;
      }
      if (!t) {
        t = this.#newTransceiver({ kind: m.kind, direction: 'recvonly' });
        t.mid = m.mid;
      }
      tracks.push(...this.#remoteMedia(t, m));
    }
    this.pendingRemoteDescription = desc;
    this.remoteOffersApplied++;
    this.log.push({ op: 'setRemoteDescription', type: 'offer', sdp: desc.sdp });
    this.#setSignalingState('have-remote-offer');
    for (const event of tracks) fire(this, 'track', event);
  }

  #applyRemoteAnswer(parsed, desc) {
    if (this.signalingState !== 'have-local-offer') {
      throw invalidState(`Failed to execute 'setRemoteDescription': Failed to set remote answer sdp: Called in wrong state: ${this.signalingState}`);
    }
    const offered = decodeSdp(this.pendingLocalDescription.sdp).media.map((m) => m.mid);
    const answered = parsed.media.map((m) => m.mid);
    if (offered.join(',') !== answered.join(',')) {
      throw operationError(`Failed to set remote answer sdp: the answer's m-lines (${answered}) do not match the offer's (${offered})`);
    }
    const tracks = [];
    for (const m of parsed.media) {
      const t = this.#transceivers.find((x) => x.mid === m.mid);
      if (!t) continue;
      t.currentDirection = reverse(m.direction);
      if (hasSend(t.currentDirection)) t._everSent = true;
      tracks.push(...this.#remoteMedia(t, m));
    }
    this.currentLocalDescription = this.pendingLocalDescription;
    this.pendingLocalDescription = null;
    this.currentRemoteDescription = desc;
    this.pendingRemoteDescription = null;
    this.#offerSnapshot = null;
    this.remoteAnswersApplied++;
    this.log.push({ op: 'setRemoteDescription', type: 'answer', sdp: desc.sdp });
    this.#setSignalingState('stable');
    for (const event of tracks) fire(this, 'track', event);
  }

  /** The `track` events for m-section `m` (the remote side's view) applied to `t`. */
  #remoteMedia(t, m) {
    const sending = hasSend(m.direction);
    const track = t.receiver.track;
    const streams = (m.msid ?? []).map((id) => {
      let s = this.#remoteStreams.get(id);
      if (!s) {
        s = FakeMediaStream._remote(id);
        this.#remoteStreams.set(id, s);
      }
      return s;
    });
    if (sending && !t._remoteSending) {
      t._remoteSending = true;
      track.muted = false;
      for (const s of streams) s.addTrack(track);
      return [{ track, streams, receiver: t.receiver, transceiver: t }];
    }
    if (!sending && t._remoteSending) {
      t._remoteSending = false;
      for (const s of this.#remoteStreams.values()) s.removeTrack(track);
    }
    return [];
  }

  #rollback(which, implicit = false) {
    if (which === 'local') {
      if (this.signalingState !== 'have-local-offer') throw invalidState(`cannot roll back in ${this.signalingState}`);
      const snap = this.#offerSnapshot;
      for (const { t, mid, descDirection } of snap.transceivers) {
        t.mid = mid;
        t._descDirection = descDirection;
      }
      this.#ufrag = snap.ufrag;
      this.#restartPending = this.#restartPending || snap.restartPending;
      this.pendingLocalDescription = null;
      this.#offerSnapshot = null;
    } else {
      if (this.signalingState !== 'have-remote-offer') throw invalidState(`cannot roll back in ${this.signalingState}`);
      const snap = this.#remoteSnapshot;
      for (const { t, mid } of snap.transceivers) t.mid = mid;
      for (const t of this.#transceivers.slice(snap.count)) {
        if (t.sender.track === null) t._stop();
      }
      this.#transceivers = this.#transceivers.filter((t) => !t.stopped || snap.transceivers.some((s) => s.t === t));
      this.pendingRemoteDescription = null;
      this.#remoteSnapshot = null;
    }
    this.rollbacks++;
    this.#nnFired = false;
    this.log.push({ op: 'rollback', which, implicit });
    this.#setSignalingState('stable');
  }

  #gather() {
    const ufrag = this.#ufrag;
    if (this.#gathered.has(ufrag) || this.gatherCandidates <= 0) return;
    this.#gathered.add(ufrag);
    const count = this.gatherCandidates;
    macrotask(() => {
      if (this.#closed || this.#ufrag !== ufrag) return; // rolled back, or restarted since
      const mid = this.#transceivers.find((t) => t.mid !== null)?.mid ?? '0';
      this.iceGatheringState = 'gathering';
      fire(this, 'icegatheringstatechange');
      for (let i = 1; i <= count && !this.#closed; i++) {
        const candidate = new FakeRTCIceCandidate({
          candidate: `candidate:${i} 1 udp 2122260223 192.0.2.${i} ${50000 + i} typ host ufrag ${ufrag}`,
          sdpMid: mid,
          sdpMLineIndex: 0,
          usernameFragment: ufrag,
        });
        fire(this, 'icecandidate', { candidate });
      }
      if (this.#closed) return;
      this.iceGatheringState = 'complete';
      fire(this, 'icecandidate', { candidate: null });
      fire(this, 'icegatheringstatechange');
    });
  }
}

// ---------------------------------------------------------------------------------------------
// A relay for PeerLinks

/**
 * Carries signals between PeerLinks like the server would: in order, one macrotask later, with
 * `from` set by the relay. `hold()` keeps everything until `release()`, to make messages cross.
 */
export class FakeRelay {
  #endpoints = new Map();
  #held = null;
  log = []; // [{from, to, type, ...}] in sending order

  connect(id, deliver) { this.#endpoints.set(id, deliver); }
  /** The `signal` function for a PeerLink `from` → `to`. */
  signalFrom(from, to) { return (message) => this.send(from, to, message); }

  send(from, to, message) {
    const frame = JSON.parse(JSON.stringify({ ...message, from }));
    this.log.push({ to, ...frame });
    if (this.#held) this.#held.push([to, frame]);
    else macrotask(() => this.#endpoints.get(to)?.(frame));
  }

  hold() { this.#held ??= []; }

  /** Removes the first held frame matching `pred` and returns it (to deliver it by hand). */
  take(pred) {
    const i = (this.#held ?? []).findIndex(([to, frame]) => pred(frame, to));
    if (i < 0) return null;
    return this.#held.splice(i, 1)[0][1];
  }

  release() {
    const held = this.#held ?? [];
    this.#held = null;
    for (const [to, frame] of held) macrotask(() => this.#endpoints.get(to)?.(frame));
  }

  sentBy(from, type) { return this.log.filter((m) => m.from === from && (type === undefined || m.type === type)); }
}

// ---------------------------------------------------------------------------------------------
// A small protocol-v1 server

/**
 * Enough of a Switchboard node for clients to meet: join/welcome/peer-joined, relays with
 * `from` set by the server (and the client's `from` thrown away), acks, `state`/`peer-state`,
 * `leave`, `ping`/`pong`, `peer-left` when a socket goes. Frames travel one macrotask each way,
 * in order per socket. Use `server.WebSocket` as the clients' WebSocket.
 */
export class FakeServer {
  #sessions = new Map(); // ws -> {ws, room, peer, meta, state, role}
  #uuid = 0;

  constructor({ limits = {}, iceServers = [{ urls: 'stun:stun.example.org:3478' }], node = 'node-test', autoOpen = true } = {}) {
    this.limits = { frameBytes: 65536, metaBytes: 1024, stateBytes: 1024, maxPeers: 25, rate: 50, rateBurst: 100, ...limits };
    this.iceServers = iceServers;
    this.node = node;
    this.autoOpen = autoOpen;
    this.frames = []; // every frame received: {peer, ...message}
    this.sockets = [];
    this.refuseJoin = null; // (join) => ({code, closeCode}) | null
    const server = this;
    this.WebSocket = class ServerWebSocket extends FakeWebSocket {
      constructor(url, protocols) {
        super(url, protocols);
        server.#accept(this);
      }
    };
  }

  /** Peer ids in `room`. */
  peersIn(room) { return [...this.#sessions.values()].filter((s) => s.room === room).map((s) => s.peer); }
  socketOf(peer) { return [...this.#sessions.values()].find((s) => s.peer === peer)?.ws ?? null; }
  session(peer) { return [...this.#sessions.values()].find((s) => s.peer === peer) ?? null; }

  /** The connection of `peer` is lost (or closed by the server with `code`). */
  drop(peer, code = 1006, reason = '') {
    const s = this.session(peer);
    if (!s) throw new Error(`no session ${peer}`);
    this.#remove(s.ws, 'disconnected');
    if (s.ws.readyState !== FakeWebSocket.CLOSED) s.ws.serverClose(code, reason);
  }

  #accept(ws) {
    this.sockets.push(ws);
    ws.server = {
      onFrame: (w, text, msg) => macrotask(() => this.#onFrame(w, msg)),
      onClientClose: (w) => macrotask(() => this.#remove(w, 'disconnected')),
    };
    if (this.autoOpen) macrotask(() => { if (ws.readyState === FakeWebSocket.CONNECTING) ws.open(); });
  }

  #deliver(ws, message) {
    macrotask(() => { if (ws.readyState === FakeWebSocket.OPEN) ws.receive(message); });
  }

  #close(ws, code, reason = '') {
    macrotask(() => { if (ws.readyState === FakeWebSocket.OPEN) ws.serverClose(code, reason); });
  }

  #error(ws, code, id, text = code) {
    this.#deliver(ws, { type: 'error', code, message: text, ...(id !== undefined ? { id } : {}) });
  }

  #others(session) {
    return [...this.#sessions.values()].filter((s) => s.room === session.room && s !== session);
  }

  #remove(ws, reason) {
    const s = this.#sessions.get(ws);
    if (!s) return;
    this.#sessions.delete(ws);
    for (const other of this.#others(s)) this.#deliver(other.ws, { type: 'peer-left', peer: s.peer, reason });
  }

  #onFrame(ws, msg) {
    const s = this.#sessions.get(ws);
    this.frames.push({ peer: s?.peer ?? null, ...msg });
    if (!s) {
      if (msg.type !== 'join') {
        this.#error(ws, 'not-joined', msg.id);
        this.#close(ws, 4400);
        return;
      }
      this.#join(ws, msg);
      return;
    }
    const ack = () => { if (msg.id !== undefined) this.#deliver(ws, { type: 'ack', id: msg.id }); };
    switch (msg.type) {
      case 'offer': case 'answer': case 'candidate': case 'message': {
        if (msg.type === 'message' && !('to' in msg)) {
          for (const other of this.#others(s)) this.#deliver(other.ws, { type: 'message', from: s.peer, data: msg.data });
          ack();
          return;
        }
        const target = [...this.#sessions.values()].find((x) => x.room === s.room && x.peer === msg.to);
        if (!target) {
          this.#error(ws, 'peer-not-found', msg.id, `no peer ${msg.to} in ${s.room}`);
          return;
        }
        const out = { type: msg.type, from: s.peer };
        if (msg.type === 'offer' || msg.type === 'answer') out.sdp = msg.sdp;
        if (msg.type === 'candidate') out.candidate = msg.candidate;
        if (msg.type === 'message') { out.data = msg.data; out.to = msg.to; }
        this.#deliver(target.ws, out);
        ack();
        return;
      }
      case 'state':
        if (typeof msg.audio === 'boolean') s.state.audio = msg.audio;
        if (typeof msg.video === 'boolean') s.state.video = msg.video;
        if (msg.data && typeof msg.data === 'object') s.state.data = msg.data;
        ack();
        for (const other of this.#others(s)) this.#deliver(other.ws, { type: 'peer-state', peer: s.peer, state: { ...s.state } });
        return;
      case 'leave':
        ack();
        this.#remove(ws, 'left');
        this.#close(ws, 1000, 'left');
        return;
      case 'ping':
        this.#deliver(ws, { type: 'pong', ...(msg.id !== undefined ? { id: msg.id } : {}) });
        return;
      case 'join':
        this.#error(ws, 'already-joined', msg.id);
        return;
      default:
        this.#error(ws, 'unknown-type', msg.id);
    }
  }

  #join(ws, msg) {
    const refusal = this.refuseJoin?.(msg);
    if (refusal) {
      this.#error(ws, refusal.code, msg.id);
      this.#close(ws, refusal.closeCode);
      return;
    }
    const inRoom = [...this.#sessions.values()].filter((x) => x.room === msg.room);
    if (msg.peer != null && inRoom.some((x) => x.peer === msg.peer)) {
      this.#error(ws, 'peer-id-taken', msg.id);
      this.#close(ws, 4409);
      return;
    }
    const session = {
      ws, room: msg.room, peer: msg.peer ?? `u${++this.#uuid}`, meta: msg.meta ?? {}, state: {}, role: msg.role ?? 'peer',
    };
    this.#sessions.set(ws, session);
    this.#deliver(ws, {
      type: 'welcome', peer: session.peer, room: session.room, node: this.node,
      peers: inRoom.map((x) => ({ peer: x.peer, meta: x.meta, state: { ...x.state }, role: x.role })),
      iceServers: this.iceServers, limits: this.limits,
    });
    for (const other of inRoom) {
      this.#deliver(other.ws, { type: 'peer-joined', peer: session.peer, meta: session.meta, state: {}, role: session.role });
    }
  }
}
