import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Signaling } from '../src/signaling.js';
import { SwitchboardError } from '../src/errors.js';
import { backoffDelay } from '../src/backoff.js';
import { FakeWebSocket, ManualClock, recordEvents, tick, deferred, status, settledNow } from './fakes.js';

const URL = 'wss://sb.example/ws';
const EVENTS = ['statechange', 'welcome', 'signal', 'room-closed', 'disconnected', 'error', 'closed'];

function setup(options = {}) {
  FakeWebSocket.reset();
  const clock = new ManualClock();
  const sig = new Signaling({ url: URL, WebSocket: FakeWebSocket, timers: clock, random: () => 0, ...options });
  const events = recordEvents(sig, EVENTS);
  return { sig, clock, events, ws: () => FakeWebSocket.last, sockets: FakeWebSocket.instances };
}

function welcome(fields = {}) {
  return {
    type: 'welcome', peer: 'alice', room: 'demo', node: 'node-1f3a9c2e', peers: [],
    iceServers: [{ urls: 'stun:stun.example.org:3478' }],
    limits: { frameBytes: 65536, metaBytes: 1024, stateBytes: 1024, maxPeers: 25, rate: 50, rateBurst: 100 },
    ...fields,
  };
}

/** A session that has joined: the join frame is cleared from `ws().sent`. */
async function joined({ options = {}, params = { room: 'demo' }, welcomeFields = {} } = {}) {
  const s = setup(options);
  const joining = s.sig.join(params);
  s.ws().open();
  await tick(); // a token provider is awaited
  s.ws().receive(welcome(welcomeFields));
  s.welcome = await settledNow(joining);
  s.ws().clearSent();
  s.events.clear();
  return s;
}

/** Opens the newest socket, lets the join go out, and answers with `fields` (or a refusal). */
async function rejoin(s, welcomeFields = {}) {
  s.ws().open();
  await tick();
  s.ws().receive(welcome(welcomeFields));
}

/** Lets the socket drop, waits out the backoff, and returns the new socket. */
function dropAndWait(s, code = 1006) {
  const before = s.sockets.length;
  s.ws().serverClose(code);
  const [disconnected] = s.events.of('disconnected').slice(-1);
  assert.ok(disconnected, `a disconnected event after close ${code}`);
  s.clock.advance(disconnected.retryInMs);
  assert.equal(s.sockets.length, before + 1, 'a new socket after the backoff');
  return s.ws();
}

describe('join', () => {
  test('sends exactly the join frame once the socket opens', async () => {
    const s = setup();
    const joining = s.sig.join({ room: 'demo', peer: 'alice', token: 'jwt.abc', meta: { name: 'Alice' }, role: 'peer' });
    assert.equal(s.sockets.length, 1);
    assert.equal(s.ws().url, URL);
    assert.equal(s.sig.state, 'connecting');
    assert.deepEqual(s.ws().sent, [], 'nothing before open');
    s.ws().open();
    await tick();
    assert.deepEqual(s.ws().sent, [{ type: 'join', room: 'demo', peer: 'alice', token: 'jwt.abc', meta: { name: 'Alice' }, role: 'peer' }]);
    s.sig.close();
    await assert.rejects(settledNow(joining), { code: 'closed' });
  });

  test('leaves out what the app did not give', async () => {
    const s = setup();
    const joining = s.sig.join({ room: 'demo' });
    s.ws().open();
    await tick();
    assert.deepEqual(s.ws().sent, [{ type: 'join', room: 'demo' }]);
    s.sig.close();
    await joining.catch(() => {});
  });

  test('a url function is called for every attempt', async () => {
    let n = 0;
    const s = setup({ url: () => `wss://node-${++n}.example/ws` });
    const joining = s.sig.join({ room: 'demo' });
    await rejoin(s);
    await settledNow(joining);
    dropAndWait(s);
    assert.equal(s.ws().url, 'wss://node-2.example/ws');
  });

  test('awaits a token function, and calls it again on rejoin', async () => {
    const tokens = [deferred(), deferred()];
    let calls = 0;
    const s = setup();
    const joining = s.sig.join({ room: 'demo', token: () => tokens[calls++].promise });
    s.ws().open();
    await tick();
    assert.equal(calls, 1);
    assert.deepEqual(s.ws().sent, [], 'the join waits for the token');
    tokens[0].resolve('token-1');
    await tick();
    assert.deepEqual(s.ws().sent, [{ type: 'join', room: 'demo', token: 'token-1' }]);
    s.ws().receive(welcome({ peer: 'u-42' }));
    await settledNow(joining);

    const second = dropAndWait(s);
    second.open();
    await tick();
    assert.equal(calls, 2);
    assert.deepEqual(second.sent, []);
    tokens[1].resolve('token-2');
    await tick();
    assert.deepEqual(second.sent, [{ type: 'join', room: 'demo', peer: 'u-42', token: 'token-2' }],
      'the rejoin uses the fresh token and the id the server gave');
  });

  test('a token provider that throws fails the first join as unauthorized', async () => {
    const s = setup();
    const joining = s.sig.join({ room: 'demo', token: async () => { throw new Error('backend down'); } });
    s.ws().open();
    await assert.rejects(settledNow(joining), (e) => e instanceof SwitchboardError && e.code === 'unauthorized' && /backend down/.test(e.message));
    assert.equal(s.sig.state, 'closed');
    assert.deepEqual(s.ws().sent, []);
  });

  test('welcome resolves join() and sets peer, node, limits and iceServers', async () => {
    const s = setup();
    const joining = s.sig.join({ room: 'demo' });
    assert.equal(s.sig.peer, null);
    s.ws().open();
    const w = welcome({ peer: 'u-7', node: 'node-7b0d44e1', limits: { frameBytes: 4096, rate: 20, rateBurst: 40 } });
    s.ws().receive(w);
    assert.deepEqual(await settledNow(joining), w);
    assert.equal(s.sig.state, 'joined');
    assert.equal(s.sig.peer, 'u-7');
    assert.equal(s.sig.node, 'node-7b0d44e1');
    assert.equal(s.sig.room, 'demo');
    assert.deepEqual(s.sig.iceServers, w.iceServers);
    assert.equal(s.sig.limits.frameBytes, 4096);
    assert.equal(s.sig.limits.rate, 20);
    assert.equal(s.sig.limits.rateBurst, 40);
    assert.deepEqual(s.events.of('statechange').map((e) => e.state), ['connecting', 'joined']);
    const [ev] = s.events.of('welcome');
    assert.equal(ev.rejoin, false);
    assert.deepEqual(ev.welcome, w);
  });

  test('join() twice, or without a room, is refused', async () => {
    const s = setup();
    await assert.rejects(settledNow(s.sig.join({})), { code: 'bad-request' });
    const first = s.sig.join({ room: 'demo' });
    await assert.rejects(settledNow(s.sig.join({ room: 'demo' })), { code: 'already-joined' });
    assert.equal(s.sockets.length, 1);
    s.sig.close();
    await first.catch(() => {});
  });

  for (const [code, closeCode] of [['room-full', 4503], ['unauthorized', 4401], ['peer-id-taken', 4409], ['forbidden', 4403]]) {
    test(`a refusal (${code}, close ${closeCode}) rejects join() with the protocol code and close code`, async () => {
      const s = setup();
      const joining = s.sig.join({ room: 'demo', peer: 'alice', token: 'x' });
      s.ws().open();
      s.ws().receive({ type: 'error', code, message: 'refused' });
      assert.equal((await status(joining)).outcome, 'pending', 'the error alone does not end the join');
      s.ws().serverClose(closeCode, 'refused');
      const error = await joining.then(() => assert.fail('join resolved'), (e) => e);
      assert.ok(error instanceof SwitchboardError);
      assert.equal(error.code, code);
      assert.equal(error.closeCode, closeCode);
      assert.equal(s.sig.state, 'closed');
      const [closed] = s.events.of('closed');
      assert.equal(closed.closeCode, closeCode);
      s.clock.advance(60_000);
      assert.equal(s.sockets.length, 1, 'the application decides whether to retry a first join');
    });
  }

  test('no welcome within joinTimeoutMs rejects with timeout', async () => {
    const s = setup({ joinTimeoutMs: 5000 });
    const joining = s.sig.join({ room: 'demo' });
    s.ws().open();
    s.clock.advance(4999);
    assert.equal((await status(joining)).outcome, 'pending');
    s.clock.advance(1);
    await assert.rejects(settledNow(joining), { code: 'timeout' });
    assert.equal(s.ws().clientClose?.code, 1000, 'the socket is given up');
    assert.equal(s.sig.state, 'closed');
  });

  test('a connection that fails before the first welcome rejects with disconnected', async () => {
    const s = setup();
    const joining = s.sig.join({ room: 'demo' });
    s.ws().serverClose(1006);
    await assert.rejects(settledNow(joining), { code: 'disconnected', closeCode: 1006 });
  });
});

describe('acks', () => {
  test('send with {ack: true} gets an id and settles on the ack or error with that id', async () => {
    const s = await joined();
    const a = s.sig.send({ type: 'message', to: 'bob', data: 1 }, { ack: true });
    const b = s.sig.send({ type: 'message', to: 'carol', data: 2 }, { ack: true });
    const [fa, fb] = s.ws().sent;
    assert.equal(typeof fa.id, 'number');
    assert.notEqual(fa.id, fb.id);
    assert.deepEqual(fa, { type: 'message', to: 'bob', data: 1, id: fa.id });
    s.ws().receive({ type: 'ack', id: 9999 }); // nobody's
    s.ws().receive({ type: 'ack', id: fb.id });
    assert.equal((await status(b)).outcome, 'fulfilled');
    assert.equal((await status(a)).outcome, 'pending');
    s.ws().receive({ type: 'error', code: 'peer-not-found', message: 'no bob', id: fa.id });
    const error = await a.then(() => assert.fail(), (e) => e);
    assert.ok(error instanceof SwitchboardError);
    assert.equal(error.code, 'peer-not-found');
    assert.equal(error.id, fa.id);
    assert.equal(s.events.of('error').length, 0, 'an awaited refusal is not also an event');
  });

  test('without ack there is no id; a refusal without id is an error event', async () => {
    const s = await joined();
    assert.equal(s.sig.send({ type: 'candidate', to: 'bob', candidate: null }), true);
    assert.deepEqual(s.ws().sent, [{ type: 'candidate', to: 'bob', candidate: null }]);
    s.ws().receive({ type: 'error', code: 'peer-not-found', message: 'no bob' });
    const [ev] = s.events.of('error');
    assert.equal(ev.code, 'peer-not-found');
    assert.equal(ev.fatal, false);
    assert.equal(s.sig.state, 'joined');
  });

  test('no answer within ackTimeoutMs rejects with timeout; a late ack is harmless', async () => {
    const s = await joined({ options: { ackTimeoutMs: 10_000 } });
    const p = s.sig.send({ type: 'state', audio: false }, { ack: true });
    const { id } = s.ws().sent[0];
    s.clock.advance(9_999);
    assert.equal((await status(p)).outcome, 'pending');
    s.clock.advance(1);
    await assert.rejects(settledNow(p), (e) => e.code === 'timeout' && e.id === id);
    s.ws().receive({ type: 'ack', id });
    s.ws().receive({ type: 'error', code: 'unavailable', message: 'late', id });
    assert.equal(s.sig.state, 'joined');
  });

  test('pending acks reject with disconnected when the socket drops', async () => {
    const s = await joined();
    const p1 = s.sig.send({ type: 'message', data: 1 }, { ack: true });
    const p2 = s.sig.send({ type: 'state', video: true }, { ack: true });
    s.ws().serverClose(1006);
    const [r1, r2] = [settledNow(p1), settledNow(p2)];
    await assert.rejects(r1, { code: 'disconnected' });
    await assert.rejects(r2, { code: 'disconnected' });
    assert.equal(s.sig.state, 'reconnecting');
    // Their timers are gone with them: nothing fires later.
    s.clock.advance(60_000);
  });

  test('send before the welcome, or after leave(), is refused with not-joined', async () => {
    const s = setup();
    const joining = s.sig.join({ room: 'demo' });
    await assert.rejects(settledNow(s.sig.send({ type: 'message', data: 1 }, { ack: true })), { code: 'not-joined' });
    assert.equal(s.sig.send({ type: 'message', data: 1 }), false);
    assert.equal(s.events.of('error').at(-1).code, 'not-joined');
    s.ws().open();
    s.ws().receive(welcome());
    await settledNow(joining);
    s.sig.leave();
    await assert.rejects(settledNow(s.sig.send({ type: 'message', data: 1 }, { ack: true })), { code: 'not-joined' });
  });

  test('more than maxPendingAcks awaiting an ack is refused locally', async () => {
    const s = await joined({ options: { maxPendingAcks: 3 } });
    const ps = [1, 2, 3].map((n) => s.sig.send({ type: 'message', data: n }, { ack: true }));
    await assert.rejects(settledNow(s.sig.send({ type: 'message', data: 4 }, { ack: true })), { code: 'queue-full' });
    assert.equal(s.ws().sent.length, 3);
    s.ws().receive({ type: 'ack', id: s.ws().sent[0].id });
    await settledNow(ps[0]);
    const again = s.sig.send({ type: 'message', data: 5 }, { ack: true });
    assert.equal(s.ws().sent.length, 4);
    s.sig.close();
    await Promise.allSettled([...ps, again]);
  });
});

describe('frame size', () => {
  const overhead = JSON.stringify({ type: 'message', data: '' }).length;

  test('a frame over limits.frameBytes is refused (too-large) and never sent', async () => {
    const s = await joined({ welcomeFields: { limits: { frameBytes: 300, rate: 50, rateBurst: 100 } } });
    const exact = 'x'.repeat(300 - overhead);
    assert.equal(s.sig.send({ type: 'message', data: exact }), true, 'exactly frameBytes is allowed');
    assert.equal(s.ws().rawSent[0].length, 300);
    assert.equal(s.sig.send({ type: 'message', data: `${exact}x` }), false);
    const [ev] = s.events.of('error');
    assert.equal(ev.code, 'too-large');
    assert.equal(ev.fatal, false);
    await assert.rejects(settledNow(s.sig.send({ type: 'message', data: 'y'.repeat(400) }, { ack: true })), { code: 'too-large' });
    assert.equal(s.ws().sent.length, 1, 'only the frame that fits was sent');
    assert.equal(s.sig.state, 'joined');
  });

  test('the limit counts UTF-8 bytes, not UTF-16 units', async () => {
    const s = await joined({ welcomeFields: { limits: { frameBytes: 300, rate: 50, rateBurst: 100 } } });
    const text = 'é'.repeat(150); // 150 code units, 300 bytes
    assert.ok(JSON.stringify({ type: 'message', data: text }).length < 300);
    await assert.rejects(settledNow(s.sig.send({ type: 'message', data: text }, { ack: true })), { code: 'too-large' });
    assert.equal(s.ws().sent.length, 0);
    assert.equal(s.sig.send({ type: 'message', data: 'é'.repeat((300 - overhead) / 2) }), true);
    assert.equal(s.ws().sent.length, 1);
  });

  test('the id added for an ack counts', async () => {
    const s = await joined({ welcomeFields: { limits: { frameBytes: 300, rate: 50, rateBurst: 100 } } });
    const exact = 'x'.repeat(300 - overhead);
    await assert.rejects(settledNow(s.sig.send({ type: 'message', data: exact }, { ack: true })), { code: 'too-large' });
    assert.equal(s.ws().sent.length, 0);
  });
});

describe('pacing', () => {
  test('a burst of 30 at rate 10/burst 10 never overdraws the server bucket', async () => {
    const s = setup();
    const joining = s.sig.join({ room: 'demo' });
    const ws = s.ws();
    // The server's bucket for this socket: full when it opens; the join takes one token.
    const server = { tokens: 10, at: s.clock.now(), min: Infinity };
    let counted = 0;
    const account = () => {
      const now = s.clock.now();
      server.tokens = Math.min(10, server.tokens + ((now - server.at) * 10) / 1000);
      server.at = now;
      for (; counted < ws.rawSent.length; counted++) {
        server.tokens -= 1;
        server.min = Math.min(server.min, server.tokens);
      }
    };
    ws.open();
    account(); // the join
    ws.receive(welcome({ limits: { frameBytes: 65536, rate: 10, rateBurst: 10 } }));
    await settledNow(joining);
    for (let i = 0; i < 30; i++) assert.equal(s.sig.send({ type: 'message', data: i }), true);
    account();
    const atOnce = ws.sent.length - 1;
    assert.ok(atOnce >= 5 && atOnce <= 9, `${atOnce} sent at once`);
    const times = [];
    for (let t = 0; t < 5000 && ws.sent.length < 31; t++) {
      s.clock.advance(1);
      const before = counted;
      account();
      for (let i = before; i < counted; i++) times.push(s.clock.now());
    }
    assert.equal(ws.sent.length, 31, 'everything went out');
    assert.deepEqual(ws.sent.slice(1).map((m) => m.data), [...Array(30).keys()], 'in order');
    assert.ok(server.min >= 0, `the server bucket went down to ${server.min}`);
    // The rest went out over time: at most ~10 per second after the burst.
    const spread = times.at(-1) - times[0];
    assert.ok(spread >= ((30 - atOnce - 1) / 10) * 1000, `the last ${30 - atOnce} frames took ${spread} ms`);
    assert.ok(spread <= 4000, `but not much longer (${spread} ms)`);
  });

  test('the bucket refills: after a quiet second a new burst goes out at once', async () => {
    const s = await joined({ welcomeFields: { limits: { frameBytes: 65536, rate: 10, rateBurst: 10 } } });
    // 90% of the burst of 10, less the token the join took.
    for (let i = 0; i < 8; i++) s.sig.send({ type: 'message', data: i });
    assert.equal(s.ws().sent.length, 8);
    s.sig.send({ type: 'message', data: 'x' });
    assert.equal(s.ws().sent.length, 8, 'the bucket is empty');
    s.clock.advance(200);
    assert.equal(s.ws().sent.length, 9, 'the queued one went out once a token came back');
    s.clock.advance(2000);
    for (let i = 0; i < 9; i++) s.sig.send({ type: 'message', data: i });
    assert.equal(s.ws().sent.length, 18, 'refilled to the full burst, no more');
    s.sig.send({ type: 'message', data: 'y' });
    assert.equal(s.ws().sent.length, 18);
  });

  test('the queue is bounded (queue-full)', async () => {
    const s = await joined({
      options: { maxQueued: 5 },
      welcomeFields: { limits: { frameBytes: 65536, rate: 1, rateBurst: 2 } },
    });
    // A bucket of one token, which the join used: everything waits.
    for (let i = 0; i < 5; i++) assert.equal(s.sig.send({ type: 'message', data: i }), true);
    assert.equal(s.ws().sent.length, 0);
    assert.equal(s.sig.send({ type: 'message', data: 5 }), false);
    assert.equal(s.events.of('error').at(-1).code, 'queue-full');
    await assert.rejects(settledNow(s.sig.send({ type: 'message', data: 6 }, { ack: true })), { code: 'queue-full' });
    s.clock.advance(10_000);
    assert.deepEqual(s.ws().sent.map((m) => m.data), [0, 1, 2, 3, 4]);
  });

  test('an acked message still queued when its ack timer fires is dropped, never sent', async () => {
    const s = await joined({
      options: { ackTimeoutMs: 1000 },
      welcomeFields: { limits: { frameBytes: 65536, rate: 1, rateBurst: 2 } },
    });
    const first = s.sig.send({ type: 'message', data: 'first' }, { ack: true });
    const second = s.sig.send({ type: 'message', data: 'second' }, { ack: true });
    first.catch(() => {}); // rejected inside advance(), before assert.rejects looks
    second.catch(() => {});
    // 0.9 tokens/s: 'first' leaves after about 1.1 s, so both time out while queued.
    s.clock.advance(1000);
    await assert.rejects(settledNow(first), (e) => e.code === 'timeout' && /still queued/.test(e.message));
    await assert.rejects(settledNow(second), { code: 'timeout' });
    s.clock.advance(10_000);
    assert.deepEqual(s.ws().sent, [], 'what the caller was told failed did not go out later');
  });

  test('the pong clock starts when the ping leaves, not while it waits for the rate limit', async () => {
    const s = await joined({
      options: { pingIntervalMs: 1000, pongTimeoutMs: 500, maxQueued: 2000 },
      welcomeFields: { limits: { frameBytes: 65536, rate: 10, rateBurst: 10 } },
    });
    for (let i = 0; i < 20; i++) s.sig.send({ type: 'message', data: i }); // ~1.3 s of backlog
    s.clock.advance(1000); // the ping is queued behind the backlog
    assert.ok(!s.ws().types.includes('ping'));
    // At 0.9 frames per 100 ms the backlog drains and the ping leaves at about 1,450 ms.
    s.clock.advance(600); // 1,600 ms: more than pongTimeoutMs since the ping was queued
    assert.ok(s.ws().types.includes('ping'));
    assert.equal(s.sig.state, 'joined', 'no false timeout for a ping that waited in the queue');
    s.clock.advance(300); // 1,900 ms: under 500 ms since it left
    assert.equal(s.sig.state, 'joined');
    s.clock.advance(100); // 2,000 ms: over 500 ms since it left
    assert.equal(s.sig.state, 'reconnecting', 'silence after the ping left is a dead socket');
  });
});

describe('heartbeat', () => {
  const options = { pingIntervalMs: 1000, pongTimeoutMs: 500 };

  test('pings every pingIntervalMs; a pong keeps the socket', async () => {
    const s = await joined({ options });
    s.clock.advance(999);
    assert.deepEqual(s.ws().sent, []);
    s.clock.advance(1);
    assert.deepEqual(s.ws().sent, [{ type: 'ping' }]);
    s.clock.advance(100);
    s.ws().receive({ type: 'pong' });
    s.clock.advance(900);
    assert.deepEqual(s.ws().types, ['ping', 'ping']);
    s.clock.advance(300);
    s.ws().receive({ type: 'peer-state', peer: 'bob', state: {} }); // anything proves it alive
    s.clock.advance(1000);
    assert.equal(s.sockets.length, 1);
    assert.equal(s.sig.state, 'joined');
    assert.equal(s.events.of('disconnected').length, 0);
  });

  test('nothing within pongTimeoutMs: the socket is abandoned and a new one joins', async () => {
    const s = await joined({ options });
    const old = s.ws();
    s.clock.advance(1000);
    assert.deepEqual(old.types, ['ping']);
    s.clock.advance(499);
    assert.equal(s.events.of('disconnected').length, 0);
    s.clock.advance(1);
    const [ev] = s.events.of('disconnected');
    assert.ok(ev, 'disconnected');
    assert.equal(ev.error.code, 'timeout');
    assert.equal(old.clientClose?.code, 1000, 'the client closed the dead socket');
    assert.equal(s.sig.state, 'reconnecting');
    s.clock.advance(ev.retryInMs);
    assert.equal(s.sockets.length, 2);
    await rejoin(s);
    assert.equal(s.sig.state, 'joined');
    assert.deepEqual(s.ws().sent, [{ type: 'join', room: 'demo', peer: 'alice' }]);
  });
});

describe('reconnect', () => {
  test('after 1001 and 1006: backoff within bounds and growing, reset after a welcome', async () => {
    const randoms = [0.3, 0.9, 0.1, 1, 0.5, 0];
    let r = 0;
    const s = await joined({ options: { random: () => randoms[r++ % randoms.length], reconnect: { baseMs: 500, maxMs: 15_000 } } });
    const delays = [];
    s.ws().serverClose(1001, 'going away');
    let ev = s.events.of('disconnected').at(-1);
    assert.equal(ev.closeCode, 1001);
    assert.equal(ev.error.code, 'going-away');
    for (let attempt = 0; attempt < 4; attempt++) {
      ev = s.events.of('disconnected').at(-1);
      delays.push(ev.retryInMs);
      const cap = Math.min(15_000, 500 * 2 ** attempt);
      assert.ok(ev.retryInMs >= cap / 2 && ev.retryInMs <= cap, `attempt ${attempt}: ${ev.retryInMs} in [${cap / 2}, ${cap}]`);
      const before = s.sockets.length;
      s.clock.advance(ev.retryInMs - 1);
      assert.equal(s.sockets.length, before, 'not before the delay');
      s.clock.advance(1);
      assert.equal(s.sockets.length, before + 1, 'right after it');
      assert.equal(s.sig.state, 'reconnecting');
      if (attempt < 3) s.ws().serverClose(1006); // the connection fails again
    }
    assert.ok(delays[3] > delays[0], `growing: ${delays}`);
    // The fourth attempt works.
    await rejoin(s);
    assert.equal(s.sig.state, 'joined');
    const [w] = s.events.of('welcome');
    assert.equal(w.rejoin, true);
    // A new drop starts from attempt 0 again.
    s.ws().serverClose(1006);
    ev = s.events.of('disconnected').at(-1);
    assert.ok(ev.retryInMs >= 250 && ev.retryInMs <= 500, `reset: ${ev.retryInMs}`);
    assert.equal(ev.closeCode, 1006);
  });

  test('the delays are exactly backoffDelay of the attempt number', async () => {
    const s = await joined({ options: { random: () => 0.5 } });
    const got = [];
    s.ws().serverClose(1006);
    for (let i = 0; i < 6; i++) {
      const ev = s.events.of('disconnected').at(-1);
      got.push(ev.retryInMs);
      s.clock.advance(ev.retryInMs);
      s.ws().serverClose(1006);
    }
    assert.deepEqual(got, [0, 1, 2, 3, 4, 5].map((n) => backoffDelay(n, { random: () => 0.5 })));
  });

  for (const code of [1000, 1008, 1011, 4408, 4410, 4429, 4503]) {
    test(`close ${code} after joining is retried`, async () => {
      const s = await joined();
      s.ws().serverClose(code);
      assert.equal(s.sig.state, 'reconnecting');
      assert.equal(s.events.of('closed').length, 0);
      assert.equal(s.events.of('disconnected')[0].closeCode, code);
    });
  }

  const fatalEnd = (s, code, errorCode, pending) => async () => {
    assert.equal(s.sig.state, 'closed');
    const errors = s.events.of('error');
    assert.equal(errors.length, 1);
    const [err] = errors;
    assert.equal(err.fatal, true);
    assert.equal(err.code, errorCode);
    assert.equal(err.error.code, errorCode);
    assert.equal(err.error.closeCode, code);
    const [closed] = s.events.of('closed');
    assert.equal(closed.closeCode, code);
    assert.equal(closed.error, err.error);
    if (pending) await assert.rejects(settledNow(pending), { code: 'disconnected' });
    const sockets = s.sockets.length;
    s.clock.advance(120_000);
    assert.equal(s.sockets.length, sockets, 'no new socket');
  };

  for (const [code, errorCode] of [[1009, 'bad-request'], [1007, 'bad-request']]) {
    test(`no reconnect after close ${code} while joined`, async () => {
      const s = await joined();
      const pending = s.sig.send({ type: 'state', audio: true }, { ack: true });
      s.ws().serverClose(code);
      assert.equal(s.events.of('disconnected').length, 0);
      await fatalEnd(s, code, errorCode, pending)();
    });
  }

  test('kicked (error kicked, close 4406) while joined: no reconnect, even with a token function', async () => {
    const s = await joined({ params: { room: 'demo', token: () => 'fresh' } });
    const pending = s.sig.send({ type: 'state', audio: true }, { ack: true });
    s.ws().receive({ type: 'error', code: 'kicked', message: 'an operator removed you from room demo' });
    assert.deepEqual(s.events.of('error').map((e) => [e.code, e.fatal]), [['kicked', false]], 'the error, as it comes');
    s.events.clear();
    s.ws().serverClose(4406);
    assert.equal(s.events.of('disconnected').length, 0);
    await fatalEnd(s, 4406, 'kicked', pending)();
  });

  for (const [code, errorCode] of [[4400, 'bad-request'], [4401, 'unauthorized'], [4403, 'forbidden']]) {
    test(`no reconnect after a rejoin refused with ${errorCode} + ${code} (static token)`, async () => {
      const s = await joined({ params: { room: 'demo', token: 'static' } });
      dropAndWait(s);
      s.ws().open();
      await tick();
      assert.equal(s.ws().sent[0].token, 'static');
      s.events.clear();
      s.ws().receive({ type: 'error', code: errorCode, message: 'no' });
      assert.equal(s.events.of('error').length, 0, 'the error alone is not the end');
      s.ws().serverClose(code);
      assert.equal(s.events.of('disconnected').length, 0);
      await fatalEnd(s, code, errorCode)();
    });
  }

  test('a non-fatal error while joined, then a fatal close, gives both events', async () => {
    const s = await joined();
    s.ws().receive({ type: 'error', code: 'bad-request', message: 'bad role' });
    s.ws().serverClose(4400);
    assert.deepEqual(s.events.of('error').map((e) => [e.code, e.fatal]), [['bad-request', false], ['bad-request', true]]);
    assert.equal(s.sig.state, 'closed');
  });

  test('4401 with a token provider fetches a new token and retries', async () => {
    let calls = 0;
    const s = await joined({ params: { room: 'demo', token: () => `t${++calls}` } });
    assert.equal(calls, 1);
    let ws = dropAndWait(s);
    ws.open();
    await tick();
    assert.equal(ws.sent[0].token, 't2');
    ws.receive({ type: 'error', code: 'unauthorized', message: 'expired' });
    ws.serverClose(4401);
    assert.equal(s.sig.state, 'reconnecting');
    assert.equal(s.events.of('closed').length, 0);
    const ev = s.events.of('disconnected').at(-1);
    assert.equal(ev.error.code, 'unauthorized');
    assert.equal(ev.closeCode, 4401);
    s.clock.advance(ev.retryInMs);
    ws = s.ws();
    ws.open();
    await tick();
    assert.equal(calls, 3);
    assert.equal(ws.sent[0].token, 't3');
    ws.receive(welcome());
    assert.equal(s.sig.state, 'joined');
  });

  test('three 4409s in a row without a fixed peer id: rejoin without peer', async () => {
    const s = await joined({ welcomeFields: { peer: 'u-1' } });
    dropAndWait(s);
    const joins = [];
    for (let i = 0; i < 3; i++) {
      s.ws().open();
      await tick();
      joins.push(s.ws().sent[0]);
      s.ws().receive({ type: 'error', code: 'peer-id-taken', message: 'taken' });
      s.ws().serverClose(4409);
      assert.equal(s.sig.state, 'reconnecting');
      s.clock.advance(s.events.of('disconnected').at(-1).retryInMs);
    }
    assert.deepEqual(joins.map((j) => j.peer), ['u-1', 'u-1', 'u-1']);
    s.ws().open();
    await tick();
    assert.deepEqual(s.ws().sent, [{ type: 'join', room: 'demo' }], 'the fourth join lets the server choose');
    s.ws().receive(welcome({ peer: 'u-2' }));
    assert.equal(s.sig.peer, 'u-2');
  });

  test('4409s with a fixed peer id keep the id', async () => {
    const s = await joined({ params: { room: 'demo', peer: 'alice' } });
    dropAndWait(s);
    for (let i = 0; i < 4; i++) {
      s.ws().open();
      await tick();
      assert.equal(s.ws().sent[0].peer, 'alice');
      s.ws().receive({ type: 'error', code: 'peer-id-taken', message: 'taken' });
      s.ws().serverClose(4409);
      s.clock.advance(s.events.of('disconnected').at(-1).retryInMs);
    }
    s.ws().open();
    await tick();
    assert.equal(s.ws().sent[0].peer, 'alice');
  });

  test('the 4409 count restarts after a welcome', async () => {
    const s = await joined({ welcomeFields: { peer: 'u-1' } });
    const refuse = async () => {
      s.ws().open();
      await tick();
      const join = s.ws().sent[0];
      s.ws().receive({ type: 'error', code: 'peer-id-taken', message: 'taken' });
      s.ws().serverClose(4409);
      s.clock.advance(s.events.of('disconnected').at(-1).retryInMs);
      return join;
    };
    dropAndWait(s);
    await refuse();
    await refuse();
    await rejoin(s, { peer: 'u-1' });
    dropAndWait(s);
    assert.equal((await refuse()).peer, 'u-1');
    assert.equal((await refuse()).peer, 'u-1');
    assert.equal((await refuse()).peer, 'u-1', 'two earlier 4409s did not count');
  });

  test('after reconnect it reads the socket until the node closes it, then resumes after retryAfterMs', async () => {
    const s = await joined({ welcomeFields: { resume: 'tok-1' } });
    const old = s.ws();
    const pending = s.sig.send({ type: 'message', data: 1 }, { ack: true });
    old.receive({ type: 'reconnect', reason: 'draining', retryAfterMs: 5000 });
    old.receive({ type: 'message', from: 'bob', data: 'written after reconnect' });
    assert.equal(s.events.of('signal').at(-1).message.data, 'written after reconnect', 'still read');
    assert.equal((await status(pending)).outcome, 'pending');
    old.serverClose(1001);
    const ev = s.events.of('disconnected').at(-1);
    assert.ok(ev.retryInMs >= 5000);
    assert.equal(s.sig.state, 'reconnecting');
    s.clock.advance(4999);
    assert.equal(s.sockets.length, 1);
    s.clock.advance(ev.retryInMs - 4999);
    assert.equal(s.sockets.length, 2);
    s.ws().open();
    await tick();
    const join = s.ws().sentOfType('join')[0];
    assert.equal(join.resume, 'tok-1');
    assert.equal(join.received, 2, 'reconnect and the message after it');
    s.ws().receive(welcome({ resumed: true, received: 1, resume: 'tok-2' }));
    assert.equal(s.sig.state, 'joined');
    assert.equal(s.ws().sentOfType('message').length, 0, 'the server got our message: not sent again');
    s.ws().receive({ type: 'ack', id: old.sentOfType('message')[0].id });
    await settledNow(pending);
  });

  test('a node that sends reconnect and never closes is left after retryAfterMs and a grace period', async () => {
    const s = await joined({ welcomeFields: { resume: 'tok-1' } });
    s.ws().receive({ type: 'reconnect', reason: 'draining', retryAfterMs: 1000 });
    s.clock.advance(1000 + 9_999);
    assert.equal(s.events.of('disconnected').length, 0);
    s.clock.advance(1);
    assert.equal(s.events.of('disconnected').at(-1).error.code, 'draining');
  });

  test('a resumed welcome: what the server did not get goes again, first; answers still come', async () => {
    const s = await joined({ welcomeFields: { resume: 'tok-1' } });
    const first = s.sig.send({ type: 'message', data: 1 }, { ack: true });
    const second = s.sig.send({ type: 'message', data: 2 }, { ack: true });
    const sent = s.ws().sentOfType('message');
    const next = dropAndWait(s);
    next.open();
    await tick();
    next.receive(welcome({ resumed: true, received: 1, resume: 'tok-2' }));
    assert.deepEqual(next.sentOfType('message').map((m) => m.data), [2], 'only the one the server did not get, again');
    next.receive({ type: 'ack', id: sent[0].id });
    next.receive({ type: 'ack', id: sent[1].id });
    await settledNow(first);
    await settledNow(second);
  });

  test('a resumed welcome after the node died (nodeLost): nothing goes again, what was sent fails unavailable', async () => {
    const s = await joined({ welcomeFields: { resume: 'tok-1' } });
    const sentOne = s.sig.send({ type: 'message', data: 1 }, { ack: true });
    const next = dropAndWait(s);
    next.open();
    await tick();
    next.receive(welcome({ resumed: true, nodeLost: true, resume: 'tok-2' }));
    assert.equal(s.sig.state, 'joined');
    await assert.rejects(settledNow(sentOne), { code: 'unavailable' });
    assert.equal(next.sentOfType('message').length, 0, 'nobody knows whether it arrived: not sent twice');
    const after = s.sig.send({ type: 'message', data: 2 }, { ack: true });
    next.receive({ type: 'ack', id: next.sentOfType('message')[0].id });
    await settledNow(after);
  });

  test('a fresh welcome after a drop fails what waited for an answer: it may or may not have been applied', async () => {
    const s = await joined({ welcomeFields: { resume: 'tok-1' } });
    const pending = s.sig.send({ type: 'message', data: 1 }, { ack: true });
    const next = dropAndWait(s);
    next.open();
    await tick();
    next.receive(welcome({ resumed: false, resume: 'tok-2' }));
    await assert.rejects(settledNow(pending), { code: 'disconnected' });
    assert.equal(next.sentOfType('message').length, 0);
  });

  test('reconnect.attempts bounds the retries', async () => {
    const s = await joined({ options: { reconnect: { attempts: 2 } } });
    s.ws().serverClose(1006);
    s.clock.advance(s.events.of('disconnected').at(-1).retryInMs);
    s.ws().serverClose(1006);
    s.clock.advance(s.events.of('disconnected').at(-1).retryInMs);
    assert.equal(s.sockets.length, 3);
    s.ws().serverClose(1006);
    assert.equal(s.sig.state, 'closed');
    assert.equal(s.events.of('closed').length, 1);
    assert.equal(s.events.of('error').at(-1).fatal, true);
  });

  test('by default it gives up after 40 failed attempts in a row, 4.5 to 9 minutes in', async () => {
    const s = await joined();
    const start = s.clock.now();
    s.ws().serverClose(1006);
    while (s.sig.state !== 'closed') {
      assert.ok(s.events.of('disconnected').length <= 40, 'more than 40 attempts');
      s.clock.advance(s.events.of('disconnected').at(-1).retryInMs);
      s.ws().serverClose(1006);
    }
    assert.equal(s.events.of('disconnected').length, 40);
    const minutes = (s.clock.now() - start) / 60_000;
    assert.ok(minutes >= 4.4 && minutes <= 4.6, `${minutes} minutes`); // random 0: the short end of [4.5, 9]
    assert.equal(s.events.of('error').at(-1).fatal, true);
  });
});

describe('leave, close, room-closed', () => {
  test('leave sends leave after the queued messages and resolves on the close', async () => {
    const s = await joined({ welcomeFields: { limits: { frameBytes: 65536, rate: 10, rateBurst: 10 } } });
    for (let i = 0; i < 12; i++) s.sig.send({ type: 'message', data: i });
    assert.equal(s.ws().sent.length, 8);
    const leaving = s.sig.leave();
    assert.equal(s.sig.leave(), leaving, 'a second leave() is the same promise');
    assert.ok(!s.ws().types.includes('leave'));
    assert.equal(s.sig.send({ type: 'message', data: 'late' }), false, 'nothing new while leaving');
    assert.equal(s.events.of('error').at(-1).code, 'not-joined');
    s.events.clear();
    s.clock.advance(1000);
    assert.deepEqual(s.ws().sent.map((m) => m.type === 'leave' ? 'leave' : m.data), [...Array(12).keys(), 'leave']);
    assert.equal((await status(leaving)).outcome, 'pending', 'waits for the close');
    s.ws().serverClose(1000, 'left');
    await settledNow(leaving);
    assert.equal(s.sig.state, 'closed');
    const [closed] = s.events.of('closed');
    assert.equal(closed.reason, 'left');
    assert.equal(s.events.of('error').length, 0);
    s.clock.advance(60_000);
    assert.equal(s.sockets.length, 1);
  });

  test('the 3 s leave limit starts when leave goes out, after a backlog', async () => {
    const s = await joined({ welcomeFields: { limits: { frameBytes: 65536, rate: 10, rateBurst: 10 } } });
    for (let i = 0; i < 40; i++) s.sig.send({ type: 'message', data: i }); // ~3.6 s of backlog
    const leaving = s.sig.leave();
    s.clock.advance(3500);
    assert.equal((await status(leaving)).outcome, 'pending');
    assert.ok(!s.ws().types.includes('leave'), 'still draining the backlog');
    until(() => s.ws().types.includes('leave'), s.clock, 2000);
    assert.deepEqual(s.ws().sent.filter((m) => m.type === 'message').map((m) => m.data), [...Array(40).keys()]);
    s.ws().serverClose(1000, 'left');
    await settledNow(leaving);
    assert.equal(s.events.of('closed')[0].reason, 'left');
  });

  test('leave resolves after 3 s when the server never closes', async () => {
    const s = await joined();
    const leaving = s.sig.leave();
    assert.deepEqual(s.ws().sent, [{ type: 'leave' }]);
    s.clock.advance(2999);
    assert.equal((await status(leaving)).outcome, 'pending');
    s.clock.advance(1);
    await settledNow(leaving);
    assert.equal(s.sig.state, 'closed');
    assert.equal(s.ws().clientClose?.code, 1000);
  });

  test('leave while reconnecting ends at once without a socket', async () => {
    const s = await joined();
    s.ws().serverClose(1006);
    await s.sig.leave();
    assert.equal(s.sig.state, 'closed');
    s.clock.advance(60_000);
    assert.equal(s.sockets.length, 1, 'the scheduled retry was cancelled');
  });

  test('close() ends the session at once and rejects what waited', async () => {
    const s = await joined();
    const p = s.sig.send({ type: 'message', data: 1 }, { ack: true });
    s.sig.close();
    await assert.rejects(settledNow(p), { code: 'disconnected' });
    assert.equal(s.ws().clientClose?.code, 1000);
    assert.equal(s.sig.state, 'closed');
    assert.equal(s.events.of('closed').length, 1);
    s.sig.close();
    assert.equal(s.events.of('closed').length, 1, 'idempotent');
  });

  test('room-closed ends the session; no rejoin', async () => {
    const s = await joined();
    s.ws().receive({ type: 'room-closed', reason: 'closed by an operator' });
    const [rc] = s.events.of('room-closed');
    assert.equal(rc.reason, 'closed by an operator');
    s.ws().serverClose(1000, 'room closed');
    assert.equal(s.sig.state, 'closed');
    const [closed] = s.events.of('closed');
    assert.equal(closed.reason, 'room-closed');
    assert.equal(s.events.of('disconnected').length, 0);
    s.clock.advance(60_000);
    assert.equal(s.sockets.length, 1);
  });
});

describe('incoming', () => {
  test('room messages become signal events', async () => {
    const s = await joined();
    const msgs = [
      { type: 'peer-joined', peer: 'bob', meta: {}, state: {}, role: 'peer' },
      { type: 'offer', from: 'bob', sdp: 'v=0' },
      { type: 'candidate', from: 'bob', candidate: null },
      { type: 'message', from: 'bob', data: { chat: 'hi' }, to: 'alice' },
      { type: 'peer-state', peer: 'bob', state: { audio: false } },
      { type: 'peer-left', peer: 'bob', reason: 'left' },
    ];
    for (const m of msgs) s.ws().receive(m);
    assert.deepEqual(s.events.of('signal').map((e) => e.message), msgs);
  });

  test('room messages before the welcome are not dispatched', async () => {
    const s = setup();
    const joining = s.sig.join({ room: 'demo' });
    s.ws().open();
    s.ws().receive({ type: 'peer-joined', peer: 'bob', meta: {}, state: {}, role: 'peer' });
    s.ws().receive({ type: 'offer', from: 'bob', sdp: 'v=0' });
    assert.equal(s.events.of('signal').length, 0);
    s.ws().receive(welcome());
    await settledNow(joining);
    // Nor on a rejoin's socket before its own welcome.
    const ws = dropAndWait(s);
    ws.open();
    ws.receive({ type: 'peer-left', peer: 'bob', reason: 'left' });
    assert.equal(s.events.of('signal').length, 0);
    ws.receive(welcome());
    ws.receive({ type: 'peer-left', peer: 'bob', reason: 'left' });
    assert.equal(s.events.of('signal').length, 1);
  });

  test('unknown message types and non-protocol frames are ignored', async () => {
    const s = await joined();
    s.ws().receive({ type: 'resume-token', resume: 'abc' });
    s.ws().receive({ type: 'kicked', reason: 'x' });
    s.ws().receive('not json');
    s.ws().receive('[1,2]');
    s.ws().receive({ no: 'type' });
    s.ws().receive({ type: 42 });
    assert.deepEqual(s.events.all, []);
    assert.equal(s.sig.state, 'joined');
    s.ws().receive({ type: 'peer-left', peer: 'bob', reason: 'left' });
    assert.equal(s.events.of('signal').length, 1);
  });

  test('messages from an abandoned socket are ignored', async () => {
    const s = await joined({ options: { pingIntervalMs: 1000, pongTimeoutMs: 500 } });
    const old = s.ws();
    s.clock.advance(1500); // ping, no pong: abandoned
    assert.equal(s.events.of('disconnected').length, 1);
    s.events.clear();
    old.receive({ type: 'peer-joined', peer: 'ghost', meta: {}, state: {}, role: 'peer' }, { force: true });
    old.receive(welcome({ peer: 'ghost' }), { force: true });
    old.receive({ type: 'room-closed', reason: 'x' }, { force: true });
    old.serverClose(1006);
    assert.deepEqual(s.events.all, [], 'nothing from the old socket counts');
    assert.equal(s.sig.state, 'reconnecting');
    assert.equal(s.sig.peer, 'alice');
    s.clock.advance(500);
    assert.equal(s.sockets.length, 2, 'one new socket, no second reconnect');
    await rejoin(s);
    assert.equal(s.sig.state, 'joined');
  });
});

/** Advances the manual clock 1 ms at a time until `check()` holds, at most `ms`. */
function until(check, clock, ms) {
  for (let i = 0; i < ms && !check(); i++) clock.advance(1);
  assert.ok(check(), `not within ${ms} ms`);
}

describe('token refresh', () => {
  // A JWT as far as the client reads one: the payload's `exp` (seconds). The manual clock starts at 1,000 s.
  const jwt = (expSeconds, n) => `h.${Buffer.from(JSON.stringify({ room: 'demo', exp: expSeconds, n })).toString('base64url')}.s`;

  test('a fresh token from the token function goes out as refresh 30 s before the old one expires, then again before the fresh one does', async () => {
    let n = 0;
    const quiet = { pingIntervalMs: 3_600_000 }; // minutes pass here without a pong
    const s = await joined({ options: quiet, params: { room: 'demo', token: () => jwt(1_000 + 120 * ++n, n) } });
    s.clock.advance(89_000); // the joined token expires at 1,120 s: refresh at 1,090 s
    await tick();
    assert.equal(s.ws().sentOfType('refresh').length, 0);
    s.clock.advance(1_000);
    await tick();
    const [first] = s.ws().sentOfType('refresh');
    assert.equal(first.token, jwt(1_240, 2));
    assert.equal(typeof first.id, 'number', 'a refresh waits for its ack');
    s.ws().receive({ type: 'ack', id: first.id });
    await tick();
    s.clock.advance(119_000); // the fresh one expires at 1,240 s: the next refresh at 1,210 s
    await tick();
    assert.equal(s.ws().sentOfType('refresh').length, 1);
    s.clock.advance(1_000);
    await tick();
    assert.equal(s.ws().sentOfType('refresh').length, 2);
    assert.equal(s.events.of('error').length, 0);
  });

  test('a refresh the server refuses is an error event, not the end; a token that is no JWT, or a static one, is never refreshed', async () => {
    let n = 0;
    const s = await joined({ params: { room: 'demo', token: () => jwt(1_010, ++n) } });
    s.clock.advance(5_000); // 10 s left: refresh halfway
    await tick();
    const [r] = s.ws().sentOfType('refresh');
    s.ws().receive({ type: 'error', id: r.id, code: 'forbidden', message: 'the token does not grant room demo' });
    await tick();
    assert.deepEqual(s.events.of('error').map((e) => [e.code, e.fatal]), [['forbidden', false]]);
    assert.equal(s.sig.state, 'joined');

    const quiet = { pingIntervalMs: 3_600_000 };
    const opaque = await joined({ options: quiet, params: { room: 'demo', token: () => 'not-a-jwt' } });
    const fixed = await joined({ options: quiet, params: { room: 'demo', token: jwt(1_010, 0) } });
    for (const x of [opaque, fixed]) {
      x.clock.advance(60_000);
      await tick();
      assert.equal(x.ws().sentOfType('refresh').length, 0);
    }
  });
});
