// The protocol v1 session: one WebSocket at a time, the join, acks, pacing, heartbeats and
// reconnection. It knows nothing of WebRTC; `Switchboard` (switchboard.js) builds the mesh on
// top of it. The wire contract is docs/protocol.md.
import { SwitchboardError, codeForClose, closeAction } from './errors.js';
import { backoffDelay } from './backoff.js';

/** An event whose fields are set as properties: `event.peer`, `event.code`, ... */
export class SwitchboardEvent extends Event {
  constructor(type, fields = {}) {
    super(type);
    Object.assign(this, fields);
  }
}

const DEFAULTS = Object.freeze({
  ackTimeoutMs: 10_000, // longer than the server's own 5 s relay ack timeout
  joinTimeoutMs: 15_000, // from opening the socket to `welcome`
  pingIntervalMs: 25_000,
  pongTimeoutMs: 10_000,
  maxQueued: 1024, // messages waiting for the rate limit
  maxPendingAcks: 256, // the server refuses more than 256 relays awaiting their ack
  maxResent: 1024, // messages kept since the last welcome, to send again those a resume says were lost
  // 40 failed attempts in a row: 4.5 to 9 minutes of trying, then `closed` and the app decides.
  reconnect: Object.freeze({ baseMs: 500, maxMs: 15_000, attempts: 40 }),
});

// Until `welcome` says otherwise: the server's defaults.
const DEFAULT_LIMITS = Object.freeze({ frameBytes: 65_536, rate: 50, rateBurst: 100 });
// Stay under the server's token bucket with a margin for clock drift and pings.
const RATE_MARGIN = 0.9;

const encoder = new TextEncoder();
// How long before its token expires a session sends a fresh one (at most half of what is left).
const REFRESH_BEFORE_MS = 30_000;
// How long after a draining node's `retryAfterMs` we wait for it to close the socket itself.
const RECONNECT_GRACE_MS = 10_000;

/**
 * A signaling session. States: `idle` → `connecting` → `joined`, then `reconnecting` ↔
 * `joined` while the socket drops and comes back, and `closed` for good.
 *
 * Events (all `SwitchboardEvent`s):
 * - `statechange` {state}
 * - `welcome` {welcome, rejoin, resumed}: every successful join, the first and each rejoin
 * - `signal` {message}: a room message (`peer-joined`, `peer-left`, `peer-state`, `offer`,
 *   `answer`, `candidate`, `message`, `subscribe-offer`)
 * - `room-closed` {reason}
 * - `disconnected` {error, closeCode, retryInMs}: the socket dropped; a rejoin is scheduled
 * - `error` {error, code, message, fatal}: a refusal nobody awaited, or the end of the session
 * - `closed` {closeCode, reason, error?}: the session is over (after `leave`, `close`, a
 *   fatal close code, `room-closed`, or when reconnect attempts ran out)
 */
export class Signaling extends EventTarget {
  #opts;
  #WebSocket;
  #timers;
  #state = 'idle';
  #params = null; // the app's join parameters
  #peerId = null; // the id we rejoin with
  #fixedPeer = false; // the app chose the peer id
  #resume = null; // welcome.resume, once the server sends one
  #welcome = null;
  #everJoined = false;
  #ws = null;
  #sentResume = false;
  #lastError = null; // the `error` that precedes a close
  #joinWaiter = null;
  #leaveWaiter = null;
  #leaving = false;
  #roomClosed = false;
  #attempt = 0;
  #idTaken = 0;
  #nextId = 1;
  #pending = new Map(); // id -> {resolve, reject, timer}
  #queue = []; // [{text, id}] waiting for the rate limit
  #tokens = 0;
  #refilledAt = 0;
  #limits = DEFAULT_LIMITS;
  #timer = { retry: null, drain: null, ping: null, pong: null, join: null, leave: null, reconnect: null, refresh: null };
  #joinedWith = null; // the token the last join carried
  // Resume: what went each way since the last welcome, so that neither side loses what a dead
  // socket swallowed. The server says in its resumed welcome how many of ours it got.
  #received = 0; // server messages since the last welcome, `pong` aside
  #sentSinceWelcome = []; // texts sent since the last welcome, `ping` aside (the latest maxResent)
  #sentForgotten = 0; // texts sent since the last welcome that fell out of #sentSinceWelcome
  #reconnectAfterMs = null; // a draining node's hint, applied when it closes the socket

  /**
   * @param {object} options
   * @param {string|(() => string)} options.url the `/ws` endpoint, or a function giving it for
   *   each attempt (so a reconnect can go elsewhere)
   * @param {typeof WebSocket} [options.WebSocket] defaults to the global one
   * @param {{setTimeout: Function, clearTimeout: Function, now: () => number}} [options.timers]
   * @param {() => number} [options.random] for the reconnect jitter
   */
  constructor(options = {}) {
    super();
    if (!options.url) throw new TypeError('Signaling needs a url');
    this.#opts = {
      ...DEFAULTS,
      ...options,
      reconnect: { ...DEFAULTS.reconnect, ...(options.reconnect ?? {}) },
    };
    this.#WebSocket = options.WebSocket ?? globalThis.WebSocket;
    if (typeof this.#WebSocket !== 'function') throw new TypeError('no WebSocket implementation');
    this.#timers = options.timers ?? {
      setTimeout: (f, ms) => setTimeout(f, ms),
      clearTimeout: (t) => clearTimeout(t),
      now: () => Date.now(),
    };
  }

  get state() { return this.#state; }
  /** Our peer id (from the last `welcome`), or null before the first one. */
  get peer() { return this.#welcome?.peer ?? null; }
  get room() { return this.#welcome?.room ?? this.#params?.room ?? null; }
  get node() { return this.#welcome?.node ?? null; }
  get iceServers() { return this.#welcome?.iceServers ?? []; }
  get limits() { return this.#limits; }

  /**
   * Joins a room. Resolves with the first `welcome`; rejects with a `SwitchboardError` whose
   * `code` is the protocol's (`room-full`, `unauthorized`, `peer-id-taken`, ...) when the server
   * refuses, or `disconnected`/`timeout` when it cannot be reached. After that first welcome,
   * drops are repaired by rejoining, announced by further `welcome` events.
   *
   * @param {{room: string, peer?: string, token?: string|(() => Promise<string>|string),
   *   meta?: object, role?: string}} params
   */
  join(params) {
    if (this.#state !== 'idle') {
      return Promise.reject(new SwitchboardError('already-joined', 'join() was already called'));
    }
    if (!params || typeof params.room !== 'string' || params.room === '') {
      return Promise.reject(new SwitchboardError('bad-request', 'join needs a room'));
    }
    this.#params = { ...params };
    this.#peerId = params.peer ?? null;
    this.#fixedPeer = params.peer != null;
    return new Promise((resolve, reject) => {
      this.#joinWaiter = { resolve, reject };
      this.#connect();
    });
  }

  /**
   * Sends a room message. With `{ack: true}` it gets an `id` and the promise settles on the
   * server's `ack` (resolves; with the answer itself for a `publish`: its `publish-answer`) or
   * `error` (rejects with its code), or rejects with `timeout` or
   * `disconnected`. Without, it returns whether the message was queued; a refusal then comes
   * as an `error` event.
   */
  send(message, { ack = false } = {}) {
    const fail = (code, text) => {
      const error = new SwitchboardError(code, text);
      if (ack) return Promise.reject(error);
      this.#emitError(error, false);
      return false;
    };
    if (this.#state !== 'joined' || this.#leaving) {
      return fail('not-joined', `cannot send ${message.type} while ${this.#leaving ? 'leaving' : this.#state}`);
    }
    if (this.#queue.length >= this.#opts.maxQueued) {
      return fail('queue-full', `more than ${this.#opts.maxQueued} messages wait for the rate limit`);
    }
    if (ack && this.#pending.size >= this.#opts.maxPendingAcks) {
      return fail('queue-full', `more than ${this.#opts.maxPendingAcks} messages await their ack`);
    }
    const id = ack ? this.#nextId++ : undefined;
    const text = JSON.stringify(id === undefined ? message : { ...message, id });
    if (utf8Length(text, this.#limits.frameBytes) > this.#limits.frameBytes) {
      return fail('too-large', `${message.type} is larger than the ${this.#limits.frameBytes}-byte frame limit`);
    }
    this.#queue.push({ text, id });
    let promise = true;
    if (ack) {
      promise = new Promise((resolve, reject) => {
        const entry = { resolve, reject, type: message.type, timer: null };
        entry.timer = this.#ackTimer(id, entry);
        this.#pending.set(id, entry);
      });
    }
    this.#pump();
    return promise;
  }

  /** The clock of one answer; stopped while the socket is down and a resume may bring it. */
  #ackTimer(id, entry) {
    return this.#timers.setTimeout(() => {
      this.#pending.delete(id);
      // Still waiting for the rate limit: it must not go out after we said it failed.
      const queued = this.#queue.findIndex((q) => q.id === id);
      if (queued >= 0) this.#queue.splice(queued, 1);
      const what = queued >= 0 ? 'was still queued (rate limit)' : 'got no answer';
      entry.reject(new SwitchboardError('timeout', `${entry.type} ${what} after ${this.#opts.ackTimeoutMs} ms; it was not applied${queued >= 0 ? '' : ' as far as we know'}`, { id }));
    }, this.#opts.ackTimeoutMs);
  }

  /** Remembers a sent text until the next welcome, for a resume to send again if it was lost. */
  #sent(text) {
    this.#sentSinceWelcome.push(text);
    if (this.#sentSinceWelcome.length > this.#opts.maxResent) {
      this.#sentSinceWelcome.shift();
      this.#sentForgotten++;
    }
  }

  /**
   * Leaves the room: sends `leave` after what is already queued, then waits for the server's
   * close (at most 3 s after the `leave` went out).
   */
  leave() {
    if (this.#state === 'closed' || this.#state === 'idle') return Promise.resolve();
    if (this.#leaveWaiter) return this.#leaveWaiter.promise;
    let resolve;
    const promise = new Promise((r) => { resolve = r; });
    this.#leaveWaiter = { promise, resolve };
    if (this.#state === 'joined') {
      this.#queue.push({
        text: JSON.stringify({ type: 'leave' }),
        onSent: () => {
          this.#timer.leave = this.#timers.setTimeout(() => this.#finish(1000, 'left', null), 3000);
        },
      });
      this.#leaving = true;
      this.#pump();
    } else {
      this.#finish(1000, 'left', null);
    }
    return promise;
  }

  /** Closes at once, without `leave` (the others see `peer-left` `disconnected`). */
  close() {
    if (this.#state === 'closed') return;
    this.#finish(1000, 'closed by the application', null);
  }

  #connect() {
    this.#setState(this.#everJoined ? 'reconnecting' : 'connecting');
    this.#lastError = null;
    let ws;
    try {
      const url = typeof this.#opts.url === 'function' ? this.#opts.url() : this.#opts.url;
      ws = new this.#WebSocket(url);
    } catch (cause) {
      // A malformed URL: no retry can fix it.
      this.#fail(new SwitchboardError('bad-request', `cannot open the socket: ${cause.message}`, { cause }), 1006, true);
      return;
    }
    this.#ws = ws;
    this.#timer.join = this.#timers.setTimeout(
      () => this.#abandon(ws, new SwitchboardError('timeout', `no welcome within ${this.#opts.joinTimeoutMs} ms`)),
      this.#opts.joinTimeoutMs);
    ws.onopen = () => { this.#sendJoin(ws); };
    ws.onmessage = (event) => { if (ws === this.#ws) this.#receive(event.data); };
    ws.onclose = (event) => { if (ws === this.#ws) this.#closed(event.code, event.reason); };
    ws.onerror = () => {}; // a close event follows
  }

  async #sendJoin(ws) {
    let token = this.#params.token;
    if (typeof token === 'function') {
      try {
        token = await token();
      } catch (cause) {
        if (ws === this.#ws) {
          this.#abandon(ws, new SwitchboardError('unauthorized', `the token provider failed: ${cause?.message ?? cause}`, { cause }));
        }
        return;
      }
      if (ws !== this.#ws) return;
    }
    const join = { type: 'join', room: this.#params.room };
    if (this.#peerId != null) join.peer = this.#peerId;
    if (token != null) join.token = token;
    this.#joinedWith = token ?? null;
    if (this.#params.meta != null) join.meta = this.#params.meta;
    if (this.#params.role != null) join.role = this.#params.role;
    this.#sentResume = this.#resume != null && this.#peerId != null;
    if (this.#sentResume) {
      join.resume = this.#resume;
      join.received = this.#received;
    }
    ws.send(JSON.stringify(join));
  }

  #receive(data) {
    let message;
    try {
      message = typeof data === 'string' ? JSON.parse(data) : null;
    } catch {
      message = null;
    }
    if (message === null || typeof message !== 'object' || typeof message.type !== 'string') {
      return; // not a protocol message; nothing to answer
    }
    this.#alive();
    if (message.type !== 'welcome' && message.type !== 'pong') this.#received++;
    switch (message.type) {
      case 'welcome': this.#welcomed(message); break;
      case 'ack': this.#settle(message.id, null); break;
      case 'publish-answer': this.#settle(message.id, null, message); break; // a `publish`'s answer
      case 'error': this.#refused(message); break;
      case 'pong': break;
      case 'room-closed':
        this.#roomClosed = true;
        this.dispatchEvent(new SwitchboardEvent('room-closed', { reason: message.reason }));
        break;
      case 'reconnect': {
        // The node is draining: go elsewhere (through the load balancer) after the hint, but
        // keep reading this socket until the node closes it: what it writes before is ours.
        // A node that never closes it is left after the hint and a grace period.
        const wait = Number.isFinite(message.retryAfterMs) ? Math.max(0, message.retryAfterMs) : 0;
        const ws = this.#ws;
        this.#reconnectAfterMs = wait;
        this.#clear('reconnect');
        this.#timer.reconnect = this.#timers.setTimeout(() => {
          this.#timer.reconnect = null;
          this.#abandon(ws, new SwitchboardError('draining', `the node asked us to reconnect (${message.reason})`), wait);
        }, wait + RECONNECT_GRACE_MS);
        break;
      }
      case 'peer-joined': case 'peer-left': case 'peer-state':
      case 'offer': case 'answer': case 'candidate': case 'message': case 'subscribe-offer':
        if (this.#state === 'joined') this.dispatchEvent(new SwitchboardEvent('signal', { message }));
        break;
      default:
        break; // types added after v1 are ignored
    }
  }

  #welcomed(welcome) {
    this.#clear('join');
    const rejoin = this.#everJoined;
    const resumed = rejoin && this.#sentResume && welcome.resumed === true;
    this.#afterWelcome(resumed, welcome.received, resumed && welcome.nodeLost === true);
    this.#welcome = welcome;
    this.#everJoined = true;
    this.#peerId = welcome.peer;
    this.#resume = typeof welcome.resume === 'string' ? welcome.resume : null;
    this.#limits = { ...DEFAULT_LIMITS, ...(welcome.limits ?? {}) };
    this.#tokens = this.#bucketSize() - 1; // the server's bucket already paid for the join
    this.#refilledAt = this.#timers.now();
    this.#attempt = 0;
    this.#idTaken = 0;
    this.#setState('joined');
    this.#schedulePing();
    const waiter = this.#joinWaiter;
    this.#joinWaiter = null;
    this.#scheduleRefresh(this.#joinedWith);
    this.dispatchEvent(new SwitchboardEvent('welcome', { welcome, rejoin, resumed }));
    waiter?.resolve(welcome);
    this.#pump();
  }

  /**
   * With a token function, the server closes a socket whose token expires (4401) unless it gets
   * `refresh` first: a fresh token is asked for and sent before `token`'s `exp` (30 s before, or
   * halfway there for a shorter one), then again before the fresh one's. A refresh refused is an
   * `error` event; the close at expiry then rejoins with a token asked for anew.
   */
  #scheduleRefresh(token) {
    this.#clear('refresh');
    const exp = jwtExpiry(token);
    if (exp === null || typeof this.#params.token !== 'function') return;
    const left = exp - this.#timers.now();
    const delay = Math.max(0, left - Math.min(REFRESH_BEFORE_MS, left / 2));
    this.#timer.refresh = this.#timers.setTimeout(async () => {
      this.#timer.refresh = null;
      let fresh;
      try {
        fresh = await this.#params.token();
      } catch (cause) {
        this.#emitError(new SwitchboardError('unauthorized', `the token provider failed: ${cause?.message ?? cause}`, { cause }), false);
        return;
      }
      if (this.#state !== 'joined') return; // the rejoin carries a fresh token anyway
      this.send({ type: 'refresh', token: fresh }, { ack: true }).then(
        () => this.#scheduleRefresh(fresh),
        (error) => { if (error.code !== 'disconnected') this.#emitError(error, false); },
      );
    }, delay);
  }

  #refused(message) {
    const error = new SwitchboardError(String(message.code), String(message.message ?? message.code), { id: message.id });
    if (message.id !== undefined && this.#pending.has(message.id)) {
      this.#settle(message.id, error);
    } else if (this.#state !== 'joined') {
      this.#lastError = error; // the join was refused; the close that follows ends it
    } else {
      this.#emitError(error, false);
    }
  }

  #settle(id, error, answer) {
    const entry = this.#pending.get(id);
    if (!entry) return;
    this.#pending.delete(id);
    this.#timers.clearTimeout(entry.timer);
    if (error) entry.reject(error); else entry.resolve(answer);
  }

  #closed(closeCode, reason) {
    const error = this.#lastError ?? new SwitchboardError(codeForClose(closeCode),
      reason ? `${reason} (close ${closeCode})` : `the socket closed with ${closeCode}`, { closeCode });
    if (error.closeCode === undefined) error.closeCode = closeCode;
    if (this.#leaving || this.#roomClosed) {
      this.#finish(closeCode, this.#leaving ? 'left' : 'room-closed', null);
      return;
    }
    if (!this.#everJoined) {
      // The first join failed: the application decides what to do.
      this.#fail(error, closeCode, false);
      return;
    }
    const action = closeAction(closeCode, { tokenProvider: typeof this.#params.token === 'function' });
    const atLeastMs = this.#reconnectAfterMs ?? 0;
    this.#reconnectAfterMs = null;
    if (closeCode === 4409 && !this.#fixedPeer && ++this.#idTaken >= 3) {
      // Our old session is still registered (its node died and is not cleaned up yet): come
      // back under a new id rather than wait.
      this.#peerId = null;
      this.#resume = null;
    }
    if (action === 'fatal' || this.#attempt >= this.#opts.reconnect.attempts) {
      this.#fail(error, closeCode, true);
      return;
    }
    this.#retry(error, closeCode, atLeastMs);
  }

  /**
   * A resumed session carries on: what the server says it did not get of ours goes again, first,
   * and the answers we still wait for will come. After the death of the node that held the
   * session (`nodeLost`) nobody knows what of ours it got: nothing goes again, and what was sent
   * and waits for an answer is failed `unavailable` (it may or may not have been delivered); what
   * was never sent goes now. A new session starts clean: whatever waited for an answer is failed
   * (it may or may not have been applied).
   */
  #afterWelcome(resumed, serverGot, nodeLost) {
    const lost = resumed && Number.isInteger(serverGot)
      ? this.#sentSinceWelcome.slice(Math.max(0, serverGot - this.#sentForgotten)) : [];
    this.#sentSinceWelcome = [];
    this.#sentForgotten = 0;
    this.#received = 0;
    if (resumed) {
      this.#queue.unshift(...lost.map((text) => ({ text })));
      const unsent = new Set(this.#queue.map((q) => q.id));
      for (const [id, entry] of this.#pending) {
        if (nodeLost && !unsent.has(id)) {
          this.#pending.delete(id);
          this.#timers.clearTimeout(entry.timer);
          entry.reject(new SwitchboardError('unavailable', `${entry.type} was sent to a node that died before it answered: it may or may not have been delivered`, { id }));
        } else if (entry.timer === null) {
          entry.timer = this.#ackTimer(id, entry);
        }
      }
      return;
    }
    this.#queue.length = 0;
    this.#failPending(new SwitchboardError('disconnected', 'the session was lost before the answer: it may or may not have been applied'));
  }

  #retry(error, closeCode, atLeastMs) {
    this.#dropSocket(error);
    const delay = Math.max(atLeastMs, backoffDelay(this.#attempt++, { ...this.#opts.reconnect, random: this.#opts.random }));
    this.#setState('reconnecting');
    this.dispatchEvent(new SwitchboardEvent('disconnected', { error, closeCode, retryInMs: delay }));
    this.#timer.retry = this.#timers.setTimeout(() => {
      this.#timer.retry = null;
      this.#connect();
    }, delay);
  }

  /** Gives up on a socket that stopped answering (or must be left) and reconnects. */
  #abandon(ws, error, atLeastMs = 0) {
    if (ws !== this.#ws || ws === null) return;
    if (!this.#everJoined) {
      this.#fail(error, 1006, false);
      return;
    }
    this.#retry(error, 1006, atLeastMs);
  }

  #fail(error, closeCode, emit) {
    this.#finish(closeCode, error.message, error, emit);
  }

  #finish(closeCode, reason, error, emit = error !== null) {
    if (this.#state === 'closed') return;
    this.#dropSocket(error ?? new SwitchboardError('closed', 'the session is closed'), { ending: true });
    this.#clear('retry');
    this.#setState('closed');
    const waiter = this.#joinWaiter;
    this.#joinWaiter = null;
    if (waiter) waiter.reject(error ?? new SwitchboardError('closed', 'closed before welcome'));
    if (error && emit) this.#emitError(error, true);
    this.dispatchEvent(new SwitchboardEvent('closed', { closeCode, reason, error: error ?? undefined }));
    this.#leaveWaiter?.resolve();
    this.#leaveWaiter = null;
  }

  /**
   * Detaches and closes the current socket. With a resume token, what waits to be sent or for
   * its answer is kept for the resume (the answers' clocks stop meanwhile); without, or when the
   * session ends, it is failed.
   */
  #dropSocket(error, { ending = false } = {}) {
    for (const name of ['join', 'drain', 'ping', 'pong', 'leave', 'reconnect', 'refresh']) this.#clear(name);
    const ws = this.#ws;
    this.#ws = null;
    this.#leaving = false;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try { ws.close(1000); } catch { /* already closing */ }
    }
    if (!ending && this.#resume != null && this.#peerId != null) {
      for (const entry of this.#pending.values()) {
        this.#timers.clearTimeout(entry.timer);
        entry.timer = null;
      }
      return;
    }
    this.#queue.length = 0;
    this.#failPending(new SwitchboardError('disconnected', `the socket dropped before the answer (${error.message})`, { cause: error }));
  }

  #failPending(error) {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const entry of pending) {
      this.#timers.clearTimeout(entry.timer);
      entry.reject(error);
    }
  }

  #pump() {
    this.#clear('drain');
    const ws = this.#ws;
    if (!ws || this.#state !== 'joined') return;
    const now = this.#timers.now();
    const perMs = (this.#limits.rate * RATE_MARGIN) / 1000;
    this.#tokens = Math.min(this.#bucketSize(), this.#tokens + (now - this.#refilledAt) * perMs);
    this.#refilledAt = now;
    while (this.#queue.length > 0 && this.#tokens >= 1) {
      const { text, onSent, ping } = this.#queue.shift();
      this.#tokens -= 1;
      ws.send(text);
      if (!ping) this.#sent(text);
      onSent?.();
    }
    if (this.#queue.length > 0) {
      const wait = Math.ceil((1 - this.#tokens) / perMs);
      this.#timer.drain = this.#timers.setTimeout(() => this.#pump(), Math.max(1, wait));
    }
  }

  #bucketSize() {
    return Math.max(1, Math.floor(this.#limits.rateBurst * RATE_MARGIN));
  }

  #schedulePing() {
    this.#clear('ping');
    this.#timer.ping = this.#timers.setTimeout(() => {
      this.#timer.ping = null;
      if (this.#state !== 'joined') return;
      const ws = this.#ws;
      // The pong clock starts when the ping leaves, not while it waits behind the rate limit.
      this.#queue.push({
        text: '{"type":"ping"}',
        ping: true, // answered by `pong`, which neither side counts
        onSent: () => {
          if (this.#timer.pong !== null || ws !== this.#ws) return;
          this.#timer.pong = this.#timers.setTimeout(() => {
            this.#timer.pong = null;
            this.#abandon(ws, new SwitchboardError('timeout', `no pong within ${this.#opts.pongTimeoutMs} ms`));
          }, this.#opts.pongTimeoutMs);
        },
      });
      this.#pump();
      this.#schedulePing();
    }, this.#opts.pingIntervalMs);
  }

  /** Anything from the server proves the socket alive. */
  #alive() {
    this.#clear('pong');
  }

  #clear(name) {
    if (this.#timer[name] !== null) {
      this.#timers.clearTimeout(this.#timer[name]);
      this.#timer[name] = null;
    }
  }

  #setState(state) {
    if (this.#state === state) return;
    this.#state = state;
    this.dispatchEvent(new SwitchboardEvent('statechange', { state }));
  }

  #emitError(error, fatal) {
    this.dispatchEvent(new SwitchboardEvent('error', { error, code: error.code, message: error.message, fatal }));
  }
}

/** The UTF-8 length of `text`, exact when it could exceed `limit`. */
function utf8Length(text, limit) {
  // A UTF-16 code unit is at most 3 UTF-8 bytes: short text cannot pass the limit.
  return text.length * 3 <= limit ? text.length : encoder.encode(text).length;
}

/** A JWT's `exp` in ms since the epoch, or null (not a JWT, or no `exp`). The token is not verified: the server does. */
function jwtExpiry(token) {
  if (typeof token !== 'string') return null;
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const claims = JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/')));
    return Number.isFinite(claims.exp) ? claims.exp * 1000 : null;
  } catch {
    return null;
  }
}
