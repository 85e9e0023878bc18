// The client in an `sfu` room: two connections in all (publishing, receiving), negotiated with
// the media server through Switchboard's `publish`/`publish-answer`, `subscribe-offer`/
// `subscribe-answer` and `trickle`. The media server's side is played by fake connections of
// its own (`janus*`), so the client's descriptions are really applied and answered.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Switchboard } from '../src/switchboard.js';
import {
  FakeWebSocket, FakeRTCPeerConnection, FakeMediaStream, ManualClock,
  fakeStream, recordEvents, settle, tick, settledNow, decodeSdp, joinWith,
} from './fakes.js';

const URL = 'wss://sb.example/ws';
const EVENTS = ['welcome', 'peer-joined', 'peer-left', 'stream', 'stream-ended', 'media-connection', 'error', 'closed'];

function setup({ stream = fakeStream(), ...options } = {}) {
  FakeWebSocket.reset();
  FakeRTCPeerConnection.reset();
  const clock = new ManualClock();
  const sb = new Switchboard({
    room: 'live', url: URL, WebSocket: FakeWebSocket, RTCPeerConnection: FakeRTCPeerConnection,
    MediaStream: FakeMediaStream, timers: clock, random: () => 0, stream, ...options,
  });
  return {
    sb, clock, events: recordEvents(sb, EVENTS), ws: () => FakeWebSocket.last, pcs: FakeRTCPeerConnection.instances,
  };
}

function welcome(fields = {}) {
  return {
    type: 'welcome', peer: 'alice', room: 'live', node: 'node-1', mode: 'mesh', media: 'sfu', peers: [],
    publishers: [], iceServers: [], resume: 'tok-1', resumed: false,
    limits: { frameBytes: 65536, metaBytes: 1024, stateBytes: 1024, maxPeers: 25, rate: 50, rateBurst: 100 },
    ...fields,
  };
}

function joined(s, fields = {}) {
  return joinWith(s, welcome(fields));
}

/** A connection of the fake media server's (not one of the client's). */
function janusConnection() {
  const pc = new FakeRTCPeerConnection();
  const all = FakeRTCPeerConnection.instances;
  all.splice(all.indexOf(pc), 1);
  pc.gatherCandidates = 0;
  return pc;
}

/** The media server answers the client's last `publish` (receiving what it sends). */
async function answerPublish(s) {
  const publish = s.ws().sentOfType('publish').at(-1);
  const janus = janusConnection();
  await janus.setRemoteDescription({ type: 'offer', sdp: publish.sdp });
  await janus.setLocalDescription(await janus.createAnswer());
  s.ws().receive({ type: 'publish-answer', id: publish.id, sdp: janus.localDescription.sdp });
  await settle();
  return publish;
}

/** The media server's offer for the receiving connection: an audio and a video track per peer, named after it. */
async function subscribeOffer(peers, janus = janusConnection()) {
  for (const t of janus.getTransceivers()) {
    const peer = t.sender._streams[0]?.id;
    if (peer && !peers.includes(peer)) janus.removeTrack(t.sender);
  }
  for (const peer of peers) {
    if (janus.getSenders().some((x) => x._streams[0]?.id === peer && x.track)) continue;
    const stream = fakeStream();
    stream.id = peer;
    for (const track of stream.getTracks()) janus.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
  }
  await janus.setLocalDescription(await janus.createOffer());
  const media = decodeSdp(janus.localDescription.sdp).media;
  const streams = media.filter((m) => m.direction === 'sendonly').map((m) => ({ mid: m.mid, peer: m.msid[0], kind: m.kind }));
  return { janus, message: { type: 'subscribe-offer', sdp: janus.localDescription.sdp, streams } };
}

const info = (peer, role = 'peer') => ({ peer, meta: {}, state: {}, role });

describe('an sfu meeting', () => {
  test('joining publishes the local stream once, send-only, and sets the media server\'s answer', async () => {
    const s = await joined(setup(), { peers: [info('bob'), info('carol')] });
    assert.equal(s.sb.media, 'sfu');
    assert.equal(s.sb.role, 'peer');
    assert.equal(s.pcs.length, 1, 'one publishing connection, no call per peer');
    const [pc] = s.pcs;
    assert.deepEqual(pc.getTransceivers().map((t) => `${t.kind}:${t.direction}`), ['audio:sendonly', 'video:sendonly']);
    const publish = await answerPublish(s);
    assert.equal(typeof publish.id, 'number', 'a publish is answered by its id');
    assert.equal(pc.signalingState, 'stable');
    assert.equal(pc.remoteAnswersApplied, 1);
    assert.equal(s.sb.mediaConnections.publish, pc);
    assert.deepEqual(s.events.of('peer-joined').map((e) => e.peer), ['bob', 'carol']);
  });

  test('the publishing connection\'s candidates go out as trickle with pc publish, and null at the end', async () => {
    const s = await joined(setup());
    const trickles = s.ws().sentOfType('trickle');
    assert.ok(trickles.length >= 1, 'the fake gathers a candidate');
    assert.ok(trickles.every((t) => t.pc === 'publish'));
    assert.equal(trickles.at(-1).candidate, null, 'end of candidates');
  });

  test('the server\'s offers come to one receiving connection: answered, each peer\'s stream shown, and a peer gone from the offer ends', async () => {
    const s = await joined(setup(), { peers: [info('bob'), info('carol')], publishers: ['bob', 'carol'] });
    await answerPublish(s);
    const first = await subscribeOffer(['bob', 'carol']);
    s.ws().receive(first.message);
    await settle();
    assert.equal(s.pcs.length, 2, 'publishing + receiving');
    const receiving = s.sb.mediaConnections.subscribe;
    assert.equal(receiving, s.pcs[1]);
    const answer = s.ws().sentOfType('subscribe-answer').at(-1);
    await first.janus.setRemoteDescription({ type: 'answer', sdp: answer.sdp }); // a real answer to it
    assert.deepEqual(s.events.of('stream').map((e) => `${e.peer}:${e.stream.id}`), ['bob:bob', 'carol:carol']);
    assert.equal(s.sb.peers.get('bob').stream.id, 'bob');
    assert.equal(s.sb.peerConnection('carol'), receiving, 'every peer comes through the one receiving connection');

    const second = await subscribeOffer(['bob'], first.janus);
    s.ws().receive(second.message);
    await settle();
    assert.equal(s.pcs.length, 2, 'renegotiated on the same connection');
    assert.equal(receiving.remoteOffersApplied, 2);
    assert.deepEqual(s.events.of('stream-ended').map((e) => e.peer), ['carol']);
    assert.equal(s.ws().sentOfType('subscribe-answer').length, 2);
  });

  test('offers that pile up while one is applied: only the newest is applied after it', async () => {
    const s = await joined(setup({ stream: null }));
    const janus = janusConnection();
    const a = await subscribeOffer(['bob'], janus);
    s.ws().receive(a.message);
    const b = await subscribeOffer(['bob', 'carol'], janus);
    const c = await subscribeOffer(['bob', 'carol', 'dan'], janus);
    s.ws().receive(b.message);
    s.ws().receive(c.message);
    await settle();
    const receiving = s.sb.mediaConnections.subscribe;
    assert.equal(receiving.remoteOffersApplied, 2, 'the first, then the newest: the one between is skipped');
    assert.deepEqual(decodeSdp(receiving.remoteDescription.sdp), decodeSdp(c.message.sdp));
  });

  test('without a local stream nothing is published, but everything offered is received', async () => {
    const s = await joined(setup({ stream: null }));
    assert.equal(s.ws().sentOfType('publish').length, 0);
    assert.equal(s.sb.mediaConnections.publish, null);
  });

  test('setStream with a new kind renegotiates through publish; with the same kinds it only replaces tracks', async () => {
    const s = await joined(setup({ stream: fakeStream({ video: false }) }));
    await answerPublish(s);
    const same = fakeStream({ video: false });
    s.sb.setStream(same);
    await settle();
    assert.equal(s.ws().sentOfType('publish').length, 1, 'a replaced track needs no renegotiation');
    assert.equal(s.pcs[0].getSenders()[0].track, same.getAudioTracks()[0]);
    s.sb.setStream(fakeStream());
    await settle();
    assert.equal(s.ws().sentOfType('publish').length, 2, 'a video track added: publish again');
    await answerPublish(s);
    assert.deepEqual(s.pcs[0].getTransceivers().map((t) => `${t.kind}:${t.direction}`), ['audio:sendonly', 'video:sendonly']);
  });

  test('unpublish closes the publishing connection and tells the server', async () => {
    const s = await joined(setup());
    await answerPublish(s);
    const done = s.sb.unpublish();
    await settle();
    const sent = s.ws().sentOfType('unpublish').at(-1);
    s.ws().receive({ type: 'ack', id: sent.id });
    await settledNow(done);
    assert.equal(s.pcs[0].closed, true);
    assert.equal(s.sb.mediaConnections.publish, null);
  });

  test('a publish the server refuses rejects and is reported as an error event', async () => {
    const s = await joined(setup({ stream: null }));
    const publishing = s.sb.setStream(fakeStream());
    await settle();
    const publish = s.ws().sentOfType('publish').at(-1);
    s.ws().receive({ type: 'error', id: publish.id, code: 'unavailable', message: 'the media server did not answer' });
    await settle();
    assert.equal(publishing, undefined, 'setStream returns nothing; the refusal is an event');
    assert.deepEqual(s.events.of('error').map((e) => e.code), ['unavailable']);
  });
});

describe('an sfu broadcast', () => {
  test('a viewer (the room\'s default role) never publishes, even with a camera, and receives the presenter', async () => {
    const s = await joined(setup(), { mode: 'broadcast', peers: [info('pres', 'presenter')], publishers: ['pres'] });
    assert.equal(s.ws().sent[0].role, undefined, 'the join named no role');
    assert.equal(s.sb.role, 'viewer');
    assert.equal(s.sb.mediaConnections.publish, null);
    assert.equal(s.ws().sentOfType('publish').length, 0);
    const offer = await subscribeOffer(['pres']);
    s.ws().receive(offer.message);
    await settle();
    assert.deepEqual(s.events.of('stream').map((e) => e.peer), ['pres']);
  });

  test('the presenter publishes', async () => {
    const s = await joined(setup({ role: 'presenter' }), { mode: 'broadcast', peers: [info('v1', 'viewer')] });
    assert.equal(s.ws().sent[0].role, 'presenter');
    assert.equal(s.ws().sentOfType('publish').length, 1);
  });
});

describe('sfu connections across a dropped socket', () => {
  /** Joined with bob in the room: publishing, and receiving bob. */
  async function publishingAndReceiving() {
    const s = await joined(setup({ reconnect: { baseMs: 10, maxMs: 10 } }), { publishers: ['bob'], peers: [info('bob')] });
    await answerPublish(s);
    const offer = await subscribeOffer(['bob']);
    s.ws().receive(offer.message);
    await settle();
    const [pub, sub] = s.pcs;
    return { s, pub, sub };
  }

  /**
   * The socket drops; the client comes back on a new one, which the server welcomes with
   * `fields`, having received everything the client sent on the old one.
   */
  async function resume(s, fields) {
    const old = s.ws();
    const received = old.sentOfType('publish').length + old.sentOfType('subscribe-answer').length
      + old.sentOfType('trickle').length + old.sentOfType('state').length;
    old.serverClose(1006);
    await s.clock.advanceAsync(20); // the rejoin is scheduled on the client's clock
    const ws = s.ws();
    assert.notEqual(ws, old, 'a new socket');
    ws.open();
    await tick();
    assert.equal(ws.sent[0].resume, 'tok-1', 'the rejoin resumes');
    ws.receive(welcome({ ...fields, received }));
    await settle();
  }

  test('resumed on the same node (mediaResumed true): both connections stand, nothing is published again', async () => {
    const { s, pub, sub } = await publishingAndReceiving();
    await resume(s, { resumed: true, mediaResumed: true, peers: [info('bob')] });
    assert.equal(pub.closed, false);
    assert.equal(sub.closed, false);
    assert.equal(s.ws().sentOfType('publish').length, 0, 'nothing published on the new socket');
    assert.equal(s.sb.mediaConnections.publish, pub);
  });

  test('resumed on another node (mediaResumed false): both connections are replaced and we publish again', async () => {
    const { s, pub, sub } = await publishingAndReceiving();
    await resume(s, { resumed: true, mediaResumed: false, peers: [info('bob')] });
    assert.equal(pub.closed, true);
    assert.equal(sub.closed, true);
    assert.deepEqual(s.events.of('stream-ended').map((e) => e.peer), ['bob'], 'its stream went with the old connection');
    assert.equal(s.ws().sentOfType('publish').length, 1, 'published again through the new node');
    assert.notEqual(s.sb.mediaConnections.publish, pub);
    assert.deepEqual(s.events.of('peer-left'), [], 'the peers stay: only the media connections restart');
  });

  test('leave closes both connections', async () => {
    const s = await joined(setup());
    await answerPublish(s);
    const offer = await subscribeOffer(['bob']);
    s.ws().receive(offer.message);
    await settle();
    s.sb.close();
    assert.ok(s.pcs.every((pc) => pc.closed));
  });
});
