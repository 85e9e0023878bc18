import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Switchboard, SwitchboardError } from '../src/switchboard.js';
import {
  FakeWebSocket, FakeRTCPeerConnection, FakeMediaStream, FakeMediaStreamTrack, FakeServer, ManualClock,
  fakeStream, recordEvents, settle, tick, status, settledNow, joinWith,
} from './fakes.js';

const URL = 'wss://sb.example/ws';
const EVENTS = ['statechange', 'welcome', 'peer-joined', 'peer-left', 'peer-state', 'stream', 'peer-connection',
  'message', 'disconnected', 'room-closed', 'error', 'closed'];
const ICE = [{ urls: 'stun:stun.example.org:3478' }, { urls: ['turn:turn.example.org'], username: '1:alice', credential: 'c' }];

function setup({ stream = fakeStream(), ...options } = {}) {
  FakeWebSocket.reset();
  FakeRTCPeerConnection.reset();
  const clock = new ManualClock();
  const sb = new Switchboard({
    room: 'demo', url: URL, WebSocket: FakeWebSocket, RTCPeerConnection: FakeRTCPeerConnection,
    MediaStream: FakeMediaStream, timers: clock, random: () => 0, stream, ...options,
  });
  const events = recordEvents(sb, EVENTS);
  return { sb, clock, events, stream, ws: () => FakeWebSocket.last, pcs: FakeRTCPeerConnection.instances };
}

const info = (peer, meta = {}) => ({ peer, meta, state: {}, role: 'peer' });

function welcome(fields = {}) {
  return {
    type: 'welcome', peer: 'alice', room: 'demo', node: 'node-1', peers: [], iceServers: ICE,
    limits: { frameBytes: 65536, metaBytes: 1024, stateBytes: 1024, maxPeers: 25, rate: 50, rateBurst: 100 },
    ...fields,
  };
}

function joined(s, fields = {}) {
  return joinWith(s, welcome(fields));
}

/** A remote browser's offer (one audio, one video track). */
async function remoteOffer() {
  const pc = new FakeRTCPeerConnection();
  const all = FakeRTCPeerConnection.instances;
  all.splice(all.indexOf(pc), 1); // not one of the client's
  pc.gatherCandidates = 0;
  const stream = fakeStream();
  for (const t of stream.getTracks()) pc.addTrack(t, stream);
  await pc.setLocalDescription();
  return { pc, stream, sdp: pc.localDescription.sdp };
}

const offersTo = (ws, peer) => ws.sentOfType('offer').filter((m) => m.to === peer);

describe('joining the mesh', () => {
  test('join sends the options as the join frame', async () => {
    const s = setup({ peer: 'alice', token: 'jwt', meta: { name: 'Alice' } });
    const joining = s.sb.join();
    s.ws().open();
    await tick();
    assert.deepEqual(s.ws().sent, [{ type: 'join', room: 'demo', peer: 'alice', token: 'jwt', meta: { name: 'Alice' } }]);
    s.ws().receive(welcome());
    assert.equal((await settledNow(joining)).peer, 'alice');
    assert.equal(s.sb.id, 'alice');
    assert.equal(s.sb.room, 'demo');
    assert.equal(s.sb.node, 'node-1');
    assert.equal(s.sb.connectionState, 'joined');
  });

  test('the newcomer creates one connection per peer in welcome.peers and offers to each', async () => {
    const s = setup();
    await joined(s, { peers: [info('bob', { name: 'Bob' }), info('carol')] });
    assert.equal(s.pcs.length, 2);
    for (const pc of s.pcs) assert.deepEqual(pc.configuration.iceServers, ICE, 'welcome.iceServers are used');
    assert.equal(s.sb.peerConnection('bob'), s.pcs[0]);
    assert.equal(s.sb.peerConnection('carol'), s.pcs[1]);
    for (const [peer, pc] of [['bob', s.pcs[0]], ['carol', s.pcs[1]]]) {
      const offers = offersTo(s.ws(), peer);
      assert.equal(offers.length, 1, `one offer to ${peer}`);
      assert.equal(offers[0].sdp, pc.localDescription.sdp);
      assert.equal('from' in offers[0], false);
      assert.equal(pc.signalingState, 'have-local-offer');
      assert.deepEqual(pc.getSenders().map((x) => x.track), s.stream.getTracks());
      const candidates = s.ws().sentOfType('candidate').filter((m) => m.to === peer);
      assert.equal(candidates.at(-1).candidate, null, `end of candidates to ${peer}`);
    }
    assert.equal(s.ws().sentOfType('offer').length, 2);
    const joinedEvents = s.events.of('peer-joined');
    assert.deepEqual(joinedEvents.map((e) => [e.peer, e.initial]), [['bob', true], ['carol', true]]);
    assert.deepEqual(joinedEvents[0].meta, { name: 'Bob' });
    assert.deepEqual([...s.sb.peers.keys()], ['bob', 'carol']);
    assert.deepEqual(s.sb.peers.get('bob').meta, { name: 'Bob' });
    assert.equal(s.sb.peers.get('bob').connectionState, 'new');
  });

  test('rtcConfiguration is merged over the iceServers', async () => {
    const s = setup({ rtcConfiguration: { iceTransportPolicy: 'relay' } });
    await joined(s, { peers: [info('bob')] });
    assert.deepEqual(s.pcs[0].configuration, { iceTransportPolicy: 'relay', iceServers: ICE });
  });

  test('a peer-joined creates a connection that waits for the offer, then answers it', async () => {
    const s = setup();
    await joined(s);
    assert.equal(s.pcs.length, 0);
    s.ws().receive({ type: 'peer-joined', peer: 'dave', meta: { name: 'Dave' }, state: {}, role: 'peer' });
    await settle();
    assert.equal(s.pcs.length, 1);
    const [pc] = s.pcs;
    assert.deepEqual(s.ws().sentOfType('offer'), [], 'no offer to a peer that joined after us');
    assert.equal(pc.signalingState, 'stable');
    assert.equal(pc.localDescription, null);
    assert.equal(pc.getTransceivers().length, 0);
    const [ev] = s.events.of('peer-joined');
    assert.equal(ev.peer, 'dave');
    assert.equal(ev.initial, false);
    assert.deepEqual(ev.meta, { name: 'Dave' });

    const { sdp, pc: remote } = await remoteOffer();
    s.ws().receive({ type: 'offer', from: 'dave', sdp });
    await settle();
    const answers = s.ws().sentOfType('answer');
    assert.equal(answers.length, 1);
    assert.equal(answers[0].to, 'dave');
    await remote.setRemoteDescription({ type: 'answer', sdp: answers[0].sdp });
    assert.equal(remote.signalingState, 'stable');
    assert.equal(pc.signalingState, 'stable');
  });

  test('signals for an unknown peer are dropped', async () => {
    const s = setup();
    await joined(s);
    const { sdp } = await remoteOffer();
    s.ws().receive({ type: 'offer', from: 'mallory', sdp });
    s.ws().receive({ type: 'candidate', from: 'mallory', candidate: null });
    await settle();
    assert.equal(s.pcs.length, 0);
    assert.deepEqual(s.ws().sent.filter((m) => m.type !== 'state' && m.type !== 'join'), []);
    assert.deepEqual(s.events.of('error'), []);
  });
});

describe('peers coming and going', () => {
  test('peer-left closes the connection and emits peer-left', async () => {
    const s = setup();
    await joined(s, { peers: [info('bob')] });
    const [pc] = s.pcs;
    s.ws().receive({ type: 'peer-left', peer: 'bob', reason: 'node-lost' });
    assert.equal(pc.closeCalls, 1);
    const [ev] = s.events.of('peer-left');
    assert.equal(ev.peer, 'bob');
    assert.equal(ev.reason, 'node-lost');
    assert.equal(s.sb.peers.has('bob'), false);
    assert.equal(s.sb.peerConnection('bob'), null);
    await assert.rejects(settledNow(s.sb.getStats('bob')), { code: 'peer-not-found' });
    // Late signals from it change nothing.
    const sent = s.ws().sent.length;
    const { sdp } = await remoteOffer();
    s.ws().receive({ type: 'offer', from: 'bob', sdp });
    await settle();
    assert.equal(s.pcs.length, 1);
    assert.equal(s.ws().sent.length, sent);
  });

  test('a second peer-joined for a known id replaces the call (peer-left rejoined)', async () => {
    const s = setup();
    await joined(s, { peers: [info('bob')] });
    const [old] = s.pcs;
    s.events.clear();
    s.ws().receive({ type: 'peer-joined', peer: 'bob', meta: { v: 2 }, state: {}, role: 'peer' });
    await settle();
    assert.deepEqual(s.events.types.filter((t) => t.startsWith('peer-')), ['peer-left', 'peer-joined']);
    assert.equal(s.events.of('peer-left')[0].reason, 'rejoined');
    assert.equal(s.events.of('peer-joined')[0].initial, false);
    assert.equal(old.closeCalls, 1);
    assert.equal(s.pcs.length, 2);
    assert.equal(s.sb.peerConnection('bob'), s.pcs[1]);
    assert.deepEqual(s.sb.peers.get('bob').meta, { v: 2 });
    assert.equal(offersTo(s.ws(), 'bob').length, 1, 'the new call waits for bob\'s offer');
    assert.equal(s.pcs[1].localDescription, null);
  });

  test('peer-state updates peers and is emitted', async () => {
    const s = setup();
    await joined(s, { peers: [info('bob')] });
    s.ws().receive({ type: 'peer-state', peer: 'bob', state: { audio: false, data: { hand: true } } });
    const [ev] = s.events.of('peer-state');
    assert.equal(ev.peer, 'bob');
    assert.deepEqual(ev.state, { audio: false, data: { hand: true } });
    assert.deepEqual(s.sb.peers.get('bob').state, { audio: false, data: { hand: true } });
    s.ws().receive({ type: 'peer-state', peer: 'nobody', state: { audio: true } });
    assert.equal(s.events.of('peer-state').length, 1);
    assert.equal(s.sb.peers.has('nobody'), false);
  });

  test('connection state changes are emitted as peer-connection', async () => {
    const s = setup();
    await joined(s, { peers: [info('bob')] });
    s.pcs[0].setConnectionState('connected');
    assert.deepEqual(s.events.of('peer-connection').map((e) => [e.peer, e.state]), [['bob', 'connected']]);
    assert.equal(s.sb.peers.get('bob').connectionState, 'connected');
  });

  test('messages are emitted with from, data and to', async () => {
    const s = setup();
    await joined(s, { peers: [info('bob')] });
    s.ws().receive({ type: 'message', from: 'bob', data: { chat: 'hi' }, to: 'alice' });
    s.ws().receive({ type: 'message', from: 'bob', data: null });
    assert.deepEqual(s.events.of('message').map((e) => [e.from, e.data, e.to]), [['bob', { chat: 'hi' }, 'alice'], ['bob', null, undefined]]);
  });
});

describe('media and state', () => {
  test('stream events carry the remote MediaStream', async () => {
    const s = setup();
    await joined(s);
    s.ws().receive({ type: 'peer-joined', peer: 'bob', meta: {}, state: {}, role: 'peer' });
    const { sdp, stream: theirs } = await remoteOffer();
    s.ws().receive({ type: 'offer', from: 'bob', sdp });
    await settle();
    const streams = s.events.of('stream');
    assert.equal(streams.length, 1, 'one stream event for the two tracks');
    assert.equal(streams[0].peer, 'bob');
    assert.ok(streams[0].stream instanceof FakeMediaStream);
    assert.equal(streams[0].stream.id, theirs.id);
    assert.deepEqual(streams[0].stream.getTracks().map((t) => t.kind).sort(), ['audio', 'video']);
    assert.equal(s.sb.peers.get('bob').stream, streams[0].stream);
  });

  test('after welcome the current audio/video state is published', async () => {
    const stream = fakeStream();
    stream.getVideoTracks()[0].enabled = false;
    const s = setup({ stream });
    await joined(s);
    const states = s.ws().sentOfType('state');
    assert.equal(states.length, 1);
    assert.deepEqual({ ...states[0], id: undefined }, { type: 'state', audio: true, video: false, id: undefined });
    assert.equal(typeof states[0].id, 'number', 'with an id: the ack confirms it');
  });

  test('setAudio(false) disables the local audio tracks and sends state {audio: false} with an id', async () => {
    const s = setup();
    await joined(s);
    s.ws().clearSent();
    const [audio] = s.stream.getAudioTracks();
    const [video] = s.stream.getVideoTracks();
    const p = s.sb.setAudio(false);
    assert.equal(audio.enabled, false);
    assert.equal(video.enabled, true);
    const [frame] = s.ws().sent;
    assert.deepEqual(Object.keys(frame).sort(), ['audio', 'id', 'type']);
    assert.equal(frame.type, 'state');
    assert.equal(frame.audio, false);
    assert.equal((await status(p)).outcome, 'pending', 'settles on the ack');
    s.ws().receive({ type: 'ack', id: frame.id });
    await settledNow(p);
    assert.deepEqual(s.sb.localState, { audio: false, video: true, data: undefined });
    assert.equal(s.pcs.length, 0);

    const q = s.sb.setVideo(false);
    assert.equal(video.enabled, false);
    const vframe = s.ws().sent[1];
    assert.deepEqual({ type: vframe.type, video: vframe.video }, { type: 'state', video: false });
    s.ws().receive({ type: 'error', code: 'rate-limited', message: 'slow down', id: vframe.id });
    await assert.rejects(settledNow(q), { code: 'rate-limited' });
    assert.equal(s.events.of('error').at(-1).code, 'rate-limited', 'a refusal is an error event as well');
  });

  test('setAudio/setVideo before the join are published after the welcome', async () => {
    const s = setup();
    await s.sb.setVideo(false);
    assert.equal(s.stream.getVideoTracks()[0].enabled, false);
    await joined(s);
    const states = s.ws().sentOfType('state');
    assert.equal(states.length, 1);
    assert.equal(states[0].audio, true);
    assert.equal(states[0].video, false);
  });

  test('without media nothing is published until the app sets something', async () => {
    const s = setup({ stream: null });
    await joined(s);
    assert.deepEqual(s.ws().sentOfType('state'), []);
    s.sb.setData({ hand: true });
    assert.deepEqual({ ...s.ws().sentOfType('state')[0], id: 0 }, { type: 'state', data: { hand: true }, id: 0 });
  });
});

describe('reconnecting', () => {
  test('after a drop and a fresh welcome every old connection is closed and new offers go to the new peers', async () => {
    const s = setup();
    await joined(s, { peers: [info('bob'), info('carol')] });
    const [pcBob, pcCarol] = s.pcs;
    const oldWs = s.ws();
    oldWs.serverClose(1006);
    const [disc] = s.events.of('disconnected');
    assert.ok(disc);
    assert.equal(s.sb.connectionState, 'reconnecting');
    assert.equal(pcBob.closeCalls, 0, 'calls stay up while we reconnect');
    s.clock.advance(disc.retryInMs);
    assert.notEqual(s.ws(), oldWs);
    s.events.clear();
    s.ws().open();
    await tick();
    assert.deepEqual(s.ws().sent, [{ type: 'join', room: 'demo', peer: 'alice' }]);
    s.ws().receive(welcome({ peers: [info('carol'), info('dave')] }));
    await settle();
    assert.equal(pcBob.closeCalls, 1);
    assert.equal(pcCarol.closeCalls, 1, 'even a peer still there: it saw us leave');
    assert.deepEqual(s.events.of('peer-left').map((e) => [e.peer, e.reason]), [['bob', 'reconnected'], ['carol', 'reconnected']]);
    assert.deepEqual(s.events.of('peer-joined').map((e) => [e.peer, e.initial]), [['carol', true], ['dave', true]]);
    assert.equal(s.events.of('welcome')[0].rejoin, true);
    assert.equal(s.pcs.length, 4);
    const newWs = s.ws();
    assert.equal(offersTo(newWs, 'carol').length, 1);
    assert.equal(offersTo(newWs, 'dave').length, 1);
    assert.equal(offersTo(newWs, 'bob').length, 0);
    assert.equal(offersTo(newWs, 'carol')[0].sdp, s.sb.peerConnection('carol').localDescription.sdp);
    assert.notEqual(s.sb.peerConnection('carol'), pcCarol);
    assert.deepEqual([...s.sb.peers.keys()], ['carol', 'dave']);
    // The state is published again for the new session.
    assert.equal(newWs.sentOfType('state').length, 1);
    assert.equal(oldWs.sent.filter((m) => m.type === 'offer').length, 2, 'nothing more on the old socket');
  });

  test('while reconnecting, the old calls\' signals are held back quietly, not refused as errors', async () => {
    const s = setup();
    await joined(s, { peers: [info('bob')] });
    const [old] = s.pcs;
    s.ws().serverClose(1006);
    s.events.clear();
    old.emitCandidate({ candidate: 'candidate:1 1 udp 1 192.0.2.1 1 typ host' });
    await settle();
    assert.deepEqual(s.events.of('error'), [], 'no not-joined errors for calls the rejoin replaces');
  });

  test('signals from a replaced call are not sent', async () => {
    const s = setup();
    await joined(s, { peers: [info('bob')] });
    const [old] = s.pcs;
    s.ws().serverClose(1001);
    s.clock.advance(s.events.of('disconnected')[0].retryInMs);
    s.ws().open();
    await tick();
    s.ws().receive(welcome({ peers: [] }));
    await settle();
    const before = s.ws().sent.length;
    old.emitCandidate({ candidate: 'candidate:1 1 udp 1 192.0.2.1 1 typ host' });
    assert.equal(s.ws().sent.length, before);
  });
});

describe('send', () => {
  test('send(data, {to}) resolves on the ack', async () => {
    const s = setup();
    await joined(s, { peers: [info('bob')] });
    s.ws().clearSent();
    const p = s.sb.send({ chat: 'hi' }, { to: 'bob' });
    const [frame] = s.ws().sent;
    assert.deepEqual(frame, { type: 'message', data: { chat: 'hi' }, to: 'bob', id: frame.id });
    assert.equal((await status(p)).outcome, 'pending');
    s.ws().receive({ type: 'ack', id: frame.id });
    await settledNow(p);
  });

  test('send to a peer that is not there rejects with peer-not-found', async () => {
    const s = setup();
    await joined(s);
    s.ws().clearSent();
    const p = s.sb.send('x', { to: 'ghost' });
    const [frame] = s.ws().sent;
    s.ws().receive({ type: 'error', code: 'peer-not-found', message: 'no ghost', id: frame.id });
    const error = await p.then(() => assert.fail('resolved'), (e) => e);
    assert.ok(error instanceof SwitchboardError);
    assert.equal(error.code, 'peer-not-found');
  });

  test('send without to is room-wide (no to key at all)', async () => {
    const s = setup();
    await joined(s);
    s.ws().clearSent();
    const p = s.sb.send([1, 2]);
    assert.deepEqual(Object.keys(s.ws().sent[0]).sort(), ['data', 'id', 'type']);
    s.ws().receive({ type: 'ack', id: s.ws().sent[0].id });
    await settledNow(p);
  });
});

describe('through a server', () => {
  function client(server, peer, extra = {}) {
    const stream = extra.stream === undefined ? fakeStream() : extra.stream;
    const clock = new ManualClock();
    const sb = new Switchboard({
      room: 'demo', url: URL, peer, WebSocket: server.WebSocket, RTCPeerConnection: FakeRTCPeerConnection,
      MediaStream: FakeMediaStream, timers: clock, random: () => 0, stream, ...extra,
    });
    return { sb, stream, clock, events: recordEvents(sb, EVENTS), peer };
  }

  async function mesh(ids) {
    FakeRTCPeerConnection.reset();
    const server = new FakeServer({ iceServers: ICE });
    const clients = [];
    for (const id of ids) {
      const c = client(server, id);
      await c.sb.join();
      await settle();
      clients.push(c);
    }
    return { server, clients };
  }

  test('three peers: one call per pair, offers only from newcomers, media everywhere', async () => {
    const { server, clients } = await mesh(['carol', 'alice', 'bob']);
    assert.equal(FakeRTCPeerConnection.instances.length, 6);
    for (const c of clients) {
      const others = clients.filter((o) => o !== c);
      assert.deepEqual([...c.sb.peers.keys()].sort(), others.map((o) => o.peer).sort());
      for (const o of others) {
        const pc = c.sb.peerConnection(o.peer);
        assert.equal(pc.signalingState, 'stable', `${c.peer} → ${o.peer}`);
        const theirs = o.sb.peerConnection(c.peer);
        assert.equal(pc.currentLocalDescription.sdp === theirs.currentRemoteDescription.sdp, true);
        const stream = c.events.of('stream').find((e) => e.peer === o.peer)?.stream;
        assert.ok(stream, `${c.peer} got ${o.peer}'s stream`);
        assert.equal(stream.id, o.stream.id);
      }
      assert.deepEqual(c.events.of('error'), []);
    }
    const offers = server.frames.filter((f) => f.type === 'offer').map((f) => `${f.peer}→${f.to}`).sort();
    assert.deepEqual(offers, ['alice→carol', 'bob→alice', 'bob→carol']);
    // Every frame had its from set by the server: the answers went back to the right peers.
    const answers = server.frames.filter((f) => f.type === 'answer').map((f) => `${f.peer}→${f.to}`).sort();
    assert.deepEqual(answers, ['alice→bob', 'carol→alice', 'carol→bob']);
  });

  test('both sides renegotiating at once settle (perfect negotiation over the server)', async () => {
    const { clients } = await mesh(['alice', 'bob']);
    const [alice, bob] = clients;
    for (const [me, other] of [[alice, bob], [bob, alice]]) {
      const pc = me.sb.peerConnection(other.peer);
      pc.addTransceiver(new FakeMediaStreamTrack('video', { label: `${me.peer}-screen` }), { streams: [new FakeMediaStream()] });
    }
    await settle();
    const a = alice.sb.peerConnection('bob');
    const b = bob.sb.peerConnection('alice');
    assert.equal(a.signalingState, 'stable');
    assert.equal(b.signalingState, 'stable');
    assert.equal(a.rollbacks + b.rollbacks, 1, 'one glare, resolved by the polite side');
    assert.equal(a.rollbacks, 1, 'alice < bob: alice is polite');
    assert.equal(a.getTransceivers().length, 4);
    assert.equal(b.getTransceivers().length, 4);
    assert.deepEqual([...alice.events.of('error'), ...bob.events.of('error')], []);
  });

  test('state and messages reach the others', async () => {
    const { clients } = await mesh(['alice', 'bob']);
    const [alice, bob] = clients;
    await alice.sb.setAudio(false);
    await alice.sb.send({ chat: 'hi bob' }, { to: 'bob' });
    await alice.sb.send({ chat: 'hello, room' });
    await settle();
    assert.deepEqual(bob.events.of('peer-state').at(-1).state, { audio: false, video: true });
    assert.deepEqual(bob.sb.peers.get('alice').state, { audio: false, video: true });
    assert.deepEqual(bob.events.of('message').map((e) => [e.from, e.data, e.to]), [
      ['alice', { chat: 'hi bob' }, 'bob'], ['alice', { chat: 'hello, room' }, undefined],
    ]);
    const refused = alice.sb.send('x', { to: 'nobody' });
    refused.catch(() => {}); // checked below, once the server answered
    await settle();
    await assert.rejects(settledNow(refused), { code: 'peer-not-found' });
  });

  test('leave closes every call here, and the others see peer-left left', async () => {
    const { clients } = await mesh(['alice', 'bob', 'carol']);
    const [alice, bob, carol] = clients;
    const mine = [...alice.sb.peers.keys()].map((p) => alice.sb.peerConnection(p));
    const bobsCallWithAlice = bob.sb.peerConnection('alice');
    await alice.sb.leave();
    await settle();
    assert.equal(alice.sb.connectionState, 'closed');
    assert.ok(mine.every((pc) => pc.signalingState === 'closed'));
    assert.equal(alice.sb.peers.size, 0);
    assert.deepEqual(alice.events.of('peer-left').map((e) => e.reason), ['left', 'left'], 'our own calls end as left');
    assert.equal(alice.events.of('closed').length, 1);
    assert.equal(bobsCallWithAlice.signalingState, 'closed');
    assert.deepEqual(bob.events.of('peer-left').map((e) => [e.peer, e.reason]), [['alice', 'left']]);
    assert.deepEqual(carol.events.of('peer-left').map((e) => [e.peer, e.reason]), [['alice', 'left']]);
    assert.equal(bob.sb.peerConnection('carol').signalingState, 'stable', 'the others keep their call');
  });

  test('a dropped peer comes back: the others replace its call and the mesh is whole again', async () => {
    const { server, clients } = await mesh(['alice', 'bob']);
    const [alice, bob] = clients;
    const oldCall = alice.sb.peerConnection('bob');
    server.drop('bob', 1001);
    await settle();
    assert.equal(oldCall.signalingState, 'closed', 'alice closed the call on peer-left');
    assert.equal(bob.sb.connectionState, 'reconnecting');
    // bob's backoff runs on its own manual clock.
    const [ev] = bob.events.of('disconnected');
    assert.equal(ev.closeCode, 1001);
    bob.clock.advance(ev.retryInMs);
    await settle();
    assert.equal(bob.sb.connectionState, 'joined');
    const a = alice.sb.peerConnection('bob');
    const b = bob.sb.peerConnection('alice');
    assert.notEqual(a, oldCall);
    assert.equal(a.signalingState, 'stable');
    assert.equal(b.signalingState, 'stable');
    assert.equal(a.currentRemoteDescription.sdp, b.currentLocalDescription.sdp);
    assert.deepEqual(bob.events.of('peer-left').map((e) => e.reason), ['reconnected']);
  });
});
