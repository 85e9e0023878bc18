import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { PeerLink, isPolite } from '../src/peer-link.js';
import {
  FakeRTCPeerConnection, FakeMediaStream, FakeMediaStreamTrack, FakeRelay, ManualClock,
  fakeStream, settle, decodeSdp,
} from './fakes.js';

function makeLink({ self = 'alice', peer = 'bob', initiator = false, localStream = null, relay = null, timers, restartAfterMs } = {}) {
  const pc = new FakeRTCPeerConnection({ iceServers: [] });
  const signals = [];
  const events = { streams: [], tracks: [], states: [], errors: [] };
  const link = new PeerLink({
    self, peer, pc, initiator, localStream, timers, restartAfterMs, MediaStream: FakeMediaStream,
    signal: (message) => {
      signals.push(message);
      relay?.send(self, peer, message);
    },
    events: {
      onStream: (stream, track) => events.streams.push({ stream, track }),
      onTrack: (stream, track) => events.tracks.push({ stream, track }),
      onStateChange: (state) => events.states.push(state),
      onError: (error) => events.errors.push(error),
    },
  });
  relay?.connect(self, (message) => link.handle(message));
  return { link, pc, signals, events, self };
}

/** Two links through a relay, `a` the initiator; settled and stable. */
async function connectedPair(a = 'alice', b = 'bob', { streamA = fakeStream(), streamB = fakeStream(), ...rest } = {}) {
  const relay = new FakeRelay();
  const A = makeLink({ self: a, peer: b, initiator: true, localStream: streamA, relay, ...rest });
  const B = makeLink({ self: b, peer: a, initiator: false, localStream: streamB, relay, ...rest });
  await settle();
  assert.equal(A.pc.signalingState, 'stable');
  assert.equal(B.pc.signalingState, 'stable');
  assert.deepEqual([...A.events.errors, ...B.events.errors], []);
  return { relay, A, B };
}

/** An offer from a separate connection, as a remote browser would send it. */
async function remoteOffer(stream = fakeStream()) {
  const remote = new FakeRTCPeerConnection();
  remote.gatherCandidates = 0;
  for (const t of stream.getTracks()) remote.addTrack(t, stream);
  await remote.setLocalDescription();
  return { remote, stream, sdp: remote.localDescription.sdp };
}

const ops = (pc, op, type) => pc.log.filter((e) => e.op === op && (type === undefined || e.type === type));
const indexOf = (pc, pred) => pc.log.findIndex(pred);

describe('isPolite', () => {
  test('is antisymmetric: exactly one side of a pair is polite', () => {
    const ids = ['alice', 'bob', 'Bob', 'a', 'A', 'alice2', '0', '9z', 'x-y', 'x.y', 'x_y', 'f47ac10b-58cc-4372-a567-0e02b2c3d479'];
    for (const a of ids) {
      for (const b of ids) {
        if (a === b) continue;
        assert.notEqual(isPolite(a, b), isPolite(b, a), `${a} / ${b}`);
      }
    }
    assert.equal(isPolite('alice', 'bob'), true);
    assert.equal(isPolite('bob', 'alice'), false);
  });

  test('a link knows which side it is', () => {
    assert.equal(makeLink({ self: 'alice', peer: 'bob' }).link.polite, true);
    assert.equal(makeLink({ self: 'bob', peer: 'alice' }).link.polite, false);
  });
});

describe('first negotiation', () => {
  test('the initiator adds its tracks and sends one offer', async () => {
    const stream = fakeStream();
    const { pc, signals, link } = makeLink({ initiator: true, localStream: stream });
    assert.deepEqual(pc.getSenders().map((s) => s.track), stream.getTracks(), 'tracks added at once');
    assert.equal(pc.getTransceivers().length, 2, 'no extra receive-only transceivers');
    assert.deepEqual(signals, [], 'the offer comes from negotiationneeded, later');
    await settle();
    const offers = signals.filter((m) => m.type === 'offer');
    assert.equal(offers.length, 1);
    assert.deepEqual(Object.keys(offers[0]).sort(), ['sdp', 'type']);
    assert.equal(offers[0].sdp, pc.localDescription.sdp);
    assert.equal(pc.signalingState, 'have-local-offer');
    const media = decodeSdp(offers[0].sdp).media;
    assert.deepEqual(media.map((m) => [m.kind, m.direction]), [['audio', 'sendrecv'], ['video', 'sendrecv']]);
    assert.deepEqual(media.map((m) => m.msid), [[stream.id], [stream.id]]);
    assert.equal(link.connectionState, 'new');
  });

  test('the initiator without media offers to receive audio and video', async () => {
    const { pc, signals } = makeLink({ initiator: true, localStream: null });
    assert.deepEqual(pc.getTransceivers().map((t) => [t.kind, t.direction]), [['audio', 'recvonly'], ['video', 'recvonly']]);
    await settle();
    const [offer] = signals.filter((m) => m.type === 'offer');
    assert.deepEqual(decodeSdp(offer.sdp).media.map((m) => [m.kind, m.direction]), [['audio', 'recvonly'], ['video', 'recvonly']]);
  });

  test('an audio-only initiator sends audio and asks for video', async () => {
    const stream = fakeStream({ video: false });
    const { pc, signals } = makeLink({ initiator: true, localStream: stream });
    await settle();
    assert.deepEqual(pc.getTransceivers().map((t) => [t.kind, t.direction]), [['audio', 'sendrecv'], ['video', 'recvonly']]);
    assert.equal(signals.filter((m) => m.type === 'offer').length, 1);
  });

  test('the initiator sends its candidates after the offer, then null', async () => {
    const { pc, signals } = makeLink({ initiator: true, localStream: fakeStream() });
    await settle();
    assert.deepEqual(signals.map((m) => m.type), ['offer', 'candidate', 'candidate']);
    const [, first, last] = signals;
    assert.equal(typeof first.candidate, 'object');
    assert.equal(first.candidate.usernameFragment, pc.iceUfrag);
    assert.match(first.candidate.candidate, /^candidate:/);
    assert.equal(first.candidate.sdpMid, '0');
    assert.equal(last.candidate, null);
    // A plain object that survives JSON (what candidate.toJSON() gives).
    assert.deepEqual(JSON.parse(JSON.stringify(first.candidate)), first.candidate);
  });

  test('the answerer adds its tracks only after applying the offer, and answers', async () => {
    const mine = fakeStream();
    const { pc, link, signals, events } = makeLink({ initiator: false, localStream: mine });
    await settle();
    assert.equal(pc.getTransceivers().length, 0, 'nothing added before the offer');
    assert.equal(pc.negotiationNeededCount, 0);
    assert.deepEqual(signals, []);

    const { remote, sdp } = await remoteOffer();
    link.handle({ type: 'offer', from: 'bob', sdp });
    await settle();
    const srd = indexOf(pc, (e) => e.op === 'setRemoteDescription' && e.type === 'offer');
    const firstAdd = indexOf(pc, (e) => e.op === 'addTrack');
    const sld = indexOf(pc, (e) => e.op === 'setLocalDescription' && e.type === 'answer');
    assert.ok(srd >= 0 && firstAdd > srd && sld > firstAdd, `order: ${pc.log.map((e) => e.op)}`);
    assert.equal(ops(pc, 'addTrack').length, 2);
    assert.equal(pc.getTransceivers().length, 2, 'our tracks went into the offer\'s transceivers');
    const answers = signals.filter((m) => m.type === 'answer');
    assert.equal(answers.length, 1);
    assert.equal(answers[0].sdp, pc.localDescription.sdp);
    assert.equal(pc.signalingState, 'stable');
    assert.deepEqual(decodeSdp(answers[0].sdp).media.map((m) => m.direction), ['sendrecv', 'sendrecv']);
    // The offerer can apply it, and nobody needs to renegotiate.
    await remote.setRemoteDescription({ type: 'answer', sdp: answers[0].sdp });
    assert.equal(remote.signalingState, 'stable');
    await settle();
    assert.equal(pc.negotiationNeededCount, 0);
    assert.equal(signals.filter((m) => m.type === 'offer').length, 0);
    assert.deepEqual(events.errors, []);
  });

  test('an answerer without media answers in the offer\'s transceivers and adds none', async () => {
    const { pc, link, signals, events } = makeLink({ initiator: false, localStream: null });
    const { sdp } = await remoteOffer();
    link.handle({ type: 'offer', from: 'bob', sdp });
    await settle();
    assert.equal(pc.getTransceivers().length, 2);
    assert.deepEqual(signals.filter((m) => m.type !== 'candidate').map((m) => m.type), ['answer']);
    assert.deepEqual(decodeSdp(signals[0].sdp).media.map((m) => m.direction), ['recvonly', 'recvonly']);
    assert.equal(pc.negotiationNeededCount, 0, 'nothing left to negotiate');
    assert.equal(events.streams.length, 1);
  });

  test('tracks that come without a stream are gathered in one MediaStream', async () => {
    const { pc, link, events } = makeLink({ initiator: false });
    const remote = new FakeRTCPeerConnection();
    remote.gatherCandidates = 0;
    const audio = new FakeMediaStreamTrack('audio');
    const video = new FakeMediaStreamTrack('video');
    remote.addTransceiver(audio, { direction: 'sendonly' }); // no streams: no msid
    remote.addTransceiver(video, { direction: 'sendonly' });
    await remote.setLocalDescription();
    link.handle({ type: 'offer', from: 'bob', sdp: remote.localDescription.sdp });
    await settle();
    assert.equal(events.streams.length, 1, 'announced once');
    const { stream } = events.streams[0];
    assert.ok(stream instanceof FakeMediaStream, 'built with the injected MediaStream');
    assert.deepEqual(stream.getTracks(), pc.getReceivers().map((r) => r.track));
    assert.equal(events.tracks.length, 1, 'the second track is onTrack on the same stream');
    assert.equal(events.tracks[0].stream, stream);
    assert.equal(link.stream, stream);
  });

  test('through the relay: both end stable with media both ways and all candidates applied', async () => {
    const streamA = fakeStream();
    const streamB = fakeStream();
    const { A, B } = await connectedPair('alice', 'bob', { streamA, streamB });
    assert.equal(A.pc.currentLocalDescription.sdp, B.pc.currentRemoteDescription.sdp);
    assert.equal(A.pc.currentRemoteDescription.sdp, B.pc.currentLocalDescription.sdp);
    for (const side of [A, B]) {
      assert.deepEqual(side.pc.getTransceivers().map((t) => t.currentDirection), ['sendrecv', 'sendrecv']);
      assert.equal(side.pc.localOffers + side.pc.localAnswers, 1, 'one description each');
      assert.deepEqual(side.pc.appliedCandidates.at(-1), null, 'end of candidates applied');
      assert.equal(side.pc.appliedCandidates.length, 2);
    }
    assert.equal(A.events.streams.length, 1);
    assert.equal(A.events.streams[0].stream.id, streamB.id, 'the remote stream carries the sender\'s stream id');
    assert.deepEqual(A.events.streams[0].stream.getTracks().map((t) => t.kind).sort(), ['audio', 'video']);
    assert.equal(A.link.stream, A.events.streams[0].stream);
    assert.equal(A.events.tracks.length, 1, 'the second track of the same stream is onTrack, not onStream');
    assert.equal(B.events.streams.length, 1);
    assert.equal(B.events.streams[0].stream.id, streamA.id);
  });
});

describe('candidates', () => {
  test('candidates before the remote description are buffered, then applied in order', async () => {
    const { pc, link, events } = makeLink({ initiator: false, localStream: fakeStream() });
    const { remote, sdp } = await remoteOffer();
    const uf = remote.iceUfrag;
    const c1 = { candidate: 'candidate:1 1 udp 2122260223 192.0.2.10 54400 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: uf };
    const c2 = { candidate: 'candidate:2 1 udp 1686052607 198.51.100.7 61000 typ srflx', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: uf };
    link.handle({ type: 'candidate', from: 'bob', candidate: c1 });
    link.handle({ type: 'candidate', from: 'bob', candidate: c2 });
    link.handle({ type: 'candidate', from: 'bob', candidate: null });
    await settle();
    assert.deepEqual(pc.appliedCandidates, []);
    assert.equal(ops(pc, 'addIceCandidate').length, 0, 'not even tried: it would fail');
    link.handle({ type: 'offer', from: 'bob', sdp });
    await settle();
    assert.deepEqual(pc.appliedCandidates, [c1, c2, null]);
    const srd = indexOf(pc, (e) => e.op === 'setRemoteDescription');
    assert.ok(indexOf(pc, (e) => e.op === 'addIceCandidate') > srd);
    assert.deepEqual(events.errors, []);
  });

  test('the initiator buffers candidates that come before the answer', async () => {
    const { pc, link, signals, events } = makeLink({ initiator: true, localStream: fakeStream() });
    await settle();
    const [offer] = signals;
    const answerer = new FakeRTCPeerConnection();
    answerer.gatherCandidates = 0;
    await answerer.setRemoteDescription({ type: 'offer', sdp: offer.sdp });
    await answerer.setLocalDescription();
    const c = { candidate: 'candidate:1 1 udp 1 192.0.2.20 1 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: answerer.iceUfrag };
    link.handle({ type: 'candidate', from: 'bob', candidate: c });
    await settle();
    assert.deepEqual(pc.appliedCandidates, []);
    link.handle({ type: 'answer', from: 'bob', sdp: answerer.localDescription.sdp });
    await settle();
    assert.equal(pc.signalingState, 'stable');
    assert.deepEqual(pc.appliedCandidates, [c]);
    assert.deepEqual(events.errors, []);
  });

  test('candidate null is end-of-candidates: addIceCandidate() without a candidate', async () => {
    const { A, B } = await connectedPair();
    const before = ops(B.pc, 'addIceCandidate').length;
    B.link.handle({ type: 'candidate', from: 'alice', candidate: null });
    await settle();
    const calls = ops(B.pc, 'addIceCandidate').slice(before);
    assert.equal(calls.length, 1);
    assert.equal(calls[0].end, true);
    assert.equal(calls[0].argCount, 0, 'called with no argument');
    assert.equal(B.pc.appliedCandidates.at(-1), null);
    assert.deepEqual([...A.events.errors, ...B.events.errors], []);
  });

  test('local candidates are signalled as plain objects; the end as null', () => {
    const { pc, signals } = makeLink({ initiator: false });
    const c = pc.emitCandidate({ candidate: 'candidate:7 1 udp 5 192.0.2.7 7 typ host' });
    pc.emitCandidate(null);
    assert.deepEqual(signals, [
      { type: 'candidate', candidate: c.toJSON() },
      { type: 'candidate', candidate: null },
    ]);
  });

  test('a candidate that does not apply is reported', async () => {
    const { A, B } = await connectedPair();
    B.link.handle({ type: 'candidate', from: 'alice', candidate: { candidate: 'candidate:1 1 udp 1 192.0.2.1 1 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'nope' } });
    await settle();
    assert.equal(B.events.errors.length, 1);
    assert.equal(B.events.errors[0].code, 'negotiation-failed');
    assert.equal(B.events.errors[0].peer, 'alice');
    assert.deepEqual(A.events.errors, []);
  });

  test('the early-candidate buffer keeps the newest 256', async () => {
    const { pc, link } = makeLink({ initiator: false });
    const { remote, sdp } = await remoteOffer();
    const cands = Array.from({ length: 300 }, (_, i) => ({ candidate: `candidate:${i} 1 udp 1 192.0.2.1 ${i} typ host`, sdpMid: '0', sdpMLineIndex: 0, usernameFragment: remote.iceUfrag }));
    for (const c of cands) link.handle({ type: 'candidate', from: 'bob', candidate: c });
    link.handle({ type: 'offer', from: 'bob', sdp });
    await settle();
    assert.deepEqual(pc.appliedCandidates, cands.slice(44));
  });
});

describe('glare (perfect negotiation)', () => {
  for (const [initiator, other] of [['alice', 'bob'], ['bob', 'alice']]) {
    for (const mode of ['crossing offers held by the relay', 'natural timing']) {
      test(`both renegotiate at once (${initiator} initiated the call, ${mode})`, async () => {
        const { relay, A, B } = await connectedPair(initiator, other);
        const polite = A.link.polite ? A : B;
        const impolite = A.link.polite ? B : A;
        assert.equal(polite.self, 'alice');
        const base = new Map([A, B].map((s) => [s, {
          offersIn: s.pc.remoteOffersApplied, rollbacks: s.pc.rollbacks, log: s.pc.log.length, sent: relay.sentBy(s.self, 'offer').length,
        }]));
        const held = mode.startsWith('crossing');
        if (held) relay.hold();
        // Both add something at the same moment: each needs an offer of its own.
        for (const s of [A, B]) {
          const screen = new FakeMediaStream([new FakeMediaStreamTrack('video', { label: `${s.self}-screen` })]);
          s.pc.addTransceiver(screen.getTracks()[0], { direction: 'sendrecv', streams: [screen] });
        }
        if (held) {
          await settle();
          assert.equal(A.pc.signalingState, 'have-local-offer');
          assert.equal(B.pc.signalingState, 'have-local-offer');
          relay.release();
        }
        await settle();

        for (const s of [A, B]) assert.equal(s.pc.signalingState, 'stable', `${s.self} stable`);
        assert.deepEqual([...A.events.errors, ...B.events.errors], []);
        // The polite side rolled its offer back, answered, then offered again.
        assert.equal(polite.pc.rollbacks - base.get(polite).rollbacks, 1);
        assert.equal(impolite.pc.rollbacks - base.get(impolite).rollbacks, 0);
        const politeOffers = relay.sentBy(polite.self, 'offer').slice(base.get(polite).sent);
        const impoliteOffers = relay.sentBy(impolite.self, 'offer').slice(base.get(impolite).sent);
        assert.equal(politeOffers.length, 2);
        assert.equal(impoliteOffers.length, 1);
        // Exactly one offer applied on each side...
        assert.equal(polite.pc.remoteOffersApplied - base.get(polite).offersIn, 1);
        assert.equal(impolite.pc.remoteOffersApplied - base.get(impolite).offersIn, 1);
        const appliedByPolite = ops(polite.pc, 'setRemoteDescription', 'offer').at(-1).sdp;
        const appliedByImpolite = ops(impolite.pc, 'setRemoteDescription', 'offer').at(-1).sdp;
        assert.equal(appliedByPolite, impoliteOffers[0].sdp, 'the polite side took the impolite offer');
        // ...the impolite one having ignored the polite one's first offer.
        assert.equal(appliedByImpolite, politeOffers[1].sdp);
        assert.ok(!impolite.pc.log.slice(base.get(impolite).log).some((e) => e.sdp === politeOffers[0].sdp),
          'the first polite offer never reached the impolite connection');
        // Both ends agree on the session: four m-sections; each side sends on the two original
        // ones and on its own new one, and receives on the other's.
        assert.equal(A.pc.currentLocalDescription.sdp === B.pc.currentRemoteDescription.sdp
          || A.pc.currentRemoteDescription.sdp === B.pc.currentLocalDescription.sdp, true);
        const flip = { sendonly: 'recvonly', recvonly: 'sendonly' };
        const byMid = (s) => new Map(s.pc.getTransceivers().map((t) => [t.mid, t]));
        const [ta, tb] = [byMid(A), byMid(B)];
        assert.deepEqual([...ta.keys()].sort(), ['0', '1', '2', '3']);
        assert.deepEqual([...tb.keys()].sort(), ['0', '1', '2', '3']);
        for (const [mid, t] of ta) {
          const u = tb.get(mid);
          assert.equal(t.kind, u.kind, `mid ${mid} kind`);
          assert.equal(t.currentDirection, flip[u.currentDirection] ?? u.currentDirection, `mid ${mid}: ${t.currentDirection} / ${u.currentDirection}`);
        }
        for (const s of [A, B]) {
          const dirs = s.pc.getTransceivers().map((t) => t.currentDirection).sort();
          assert.deepEqual(dirs, ['recvonly', 'sendonly', 'sendrecv', 'sendrecv'], `${s.self}: ${dirs}`);
          const own = s.pc.getTransceivers().find((t) => t.sender.track?.label === `${s.self}-screen`);
          assert.equal(own.currentDirection, 'sendonly', `${s.self} sends its screen`);
        }
        // And nothing more is pending: no further negotiation.
        await settle();
        assert.equal(relay.sentBy(polite.self, 'offer').length - base.get(polite).sent, 2);
      });
    }
  }

  for (const [initiator, other] of [['alice', 'bob'], ['bob', 'alice']]) {
    test(`both restart ICE at once (${initiator} initiated the call)`, async () => {
      const { relay, A, B } = await connectedPair(initiator, other);
      const polite = A.link.polite ? A : B;
      const impolite = A.link.polite ? B : A;
      const before = { ufA: A.pc.iceUfrag, ufB: B.pc.iceUfrag, rb: polite.pc.rollbacks, offers: relay.sentBy(polite.self, 'offer').length };
      A.link.restartIce();
      B.link.restartIce();
      await settle();
      for (const s of [A, B]) assert.equal(s.pc.signalingState, 'stable');
      assert.deepEqual([...A.events.errors, ...B.events.errors], [], 'candidates of the ignored offer are not errors');
      assert.equal(polite.pc.rollbacks - before.rb, 1);
      assert.equal(impolite.pc.rollbacks, 0);
      assert.notEqual(A.pc.iceUfrag, before.ufA);
      assert.notEqual(B.pc.iceUfrag, before.ufB);
      // Each side's remote description carries the other's current credentials.
      assert.equal(decodeSdp(A.pc.remoteDescription.sdp).ufrag, B.pc.iceUfrag);
      assert.equal(decodeSdp(B.pc.remoteDescription.sdp).ufrag, A.pc.iceUfrag);
      // The candidates applied last on each side are the other's new ones.
      const lastReal = (s) => s.pc.appliedCandidates.filter(Boolean).at(-1);
      assert.equal(lastReal(A).usernameFragment, B.pc.iceUfrag);
      assert.equal(lastReal(B).usernameFragment, A.pc.iceUfrag);
      assert.equal(A.link.iceRestarts + B.link.iceRestarts, 2);
      assert.equal(relay.sentBy(polite.self, 'offer').length - before.offers, 1,
        'the polite side offered once (rolled back) and, its restart done by the answer, not again');
    });
  }

  for (const self of ['alice', 'bob']) {
    test(`an offer that arrives while ${self} is making its own (${self === 'alice' ? 'polite' : 'impolite'})`, async () => {
      const peer = self === 'alice' ? 'bob' : 'alice';
      const relay = new FakeRelay();
      const X = makeLink({ self, peer, initiator: true, localStream: fakeStream(), relay });
      const Y = makeLink({ self: peer, peer: self, initiator: false, localStream: fakeStream(), relay });
      await settle();
      // Y renegotiates; hold its offer, then deliver it to X right inside X's negotiationneeded,
      // while X's setLocalDescription() is still in flight.
      relay.hold();
      Y.pc.addTransceiver('audio', { direction: 'recvonly' });
      await settle();
      const yOffer = relay.take((m) => m.from === peer && m.type === 'offer');
      assert.ok(yOffer && Y.pc.signalingState === 'have-local-offer');
      let delivered = false;
      X.pc.addEventListener('negotiationneeded', () => {
        if (delivered) return;
        delivered = true;
        assert.ok(X.pc.operations > 0, 'X is making its offer');
        X.link.handle(yOffer);
      });
      X.pc.addTransceiver('video', { direction: 'recvonly' });
      await settle();
      assert.ok(delivered);
      if (X.link.polite) {
        assert.equal(X.pc.rollbacks, 1, 'polite: rolled back its offer');
        assert.equal(relay.log.filter((m) => m.from === self && m.type === 'answer').length, 1, 'and answered');
      } else {
        assert.equal(ops(X.pc, 'setRemoteDescription', 'offer').length, 0, 'impolite: ignored it');
        assert.equal(X.pc.signalingState, 'have-local-offer');
      }
      // Let the rest flow: Y gets everything held, and both settle.
      relay.release();
      await settle();
      assert.equal(X.pc.signalingState, 'stable');
      assert.equal(Y.pc.signalingState, 'stable');
      assert.deepEqual([...X.events.errors, ...Y.events.errors], []);
      const mids = (s) => s.pc.getTransceivers().map((t) => `${t.mid}/${t.kind}`).sort();
      assert.deepEqual(mids(X), mids(Y));
      assert.equal(X.pc.getTransceivers().length, 4);
      assert.ok([...X.pc.getTransceivers(), ...Y.pc.getTransceivers()].every((t) => t.currentDirection !== null));
    });
  }

  test('the impolite side ignores a colliding offer without answering or erroring', async () => {
    const { pc, link, signals, events } = makeLink({ self: 'bob', peer: 'alice', initiator: true, localStream: fakeStream() });
    assert.equal(link.polite, false);
    await settle();
    assert.equal(pc.signalingState, 'have-local-offer');
    const theirs = await remoteOffer();
    link.handle({ type: 'offer', from: 'alice', sdp: theirs.sdp });
    link.handle({ type: 'candidate', from: 'alice', candidate: { candidate: 'candidate:1 1 udp 1 192.0.2.1 1 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: theirs.remote.iceUfrag } });
    await settle();
    assert.equal(ops(pc, 'setRemoteDescription').length, 0);
    assert.equal(pc.signalingState, 'have-local-offer');
    assert.equal(signals.filter((m) => m.type === 'answer').length, 0);
    assert.deepEqual(events.errors, []);
    // Our offer is answered (by a connection that took it): the ignored offer's candidate does
    // not apply to that answer, and that is not an error either.
    const answerer = new FakeRTCPeerConnection();
    answerer.gatherCandidates = 0;
    await answerer.setRemoteDescription({ type: 'offer', sdp: pc.localDescription.sdp });
    await answerer.setLocalDescription();
    link.handle({ type: 'answer', from: 'alice', sdp: answerer.localDescription.sdp });
    await settle();
    assert.equal(pc.signalingState, 'stable');
    assert.deepEqual(events.errors, []);
  });

  test('the polite side rolls its offer back and answers the colliding one', async () => {
    const { pc, link, signals, events } = makeLink({ self: 'alice', peer: 'bob', initiator: true, localStream: fakeStream() });
    assert.equal(link.polite, true);
    await settle();
    const ours = pc.localDescription.sdp;
    const theirs = await remoteOffer();
    link.handle({ type: 'offer', from: 'bob', sdp: theirs.sdp });
    await settle();
    assert.equal(pc.rollbacks, 1);
    const [answer] = signals.filter((m) => m.type === 'answer');
    assert.ok(answer);
    await theirs.remote.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
    assert.equal(theirs.remote.signalingState, 'stable');
    assert.deepEqual(events.errors, []);
    assert.notEqual(pc.currentRemoteDescription.sdp, ours);
  });
});

describe('ICE restarts', () => {
  test('ICE failed restarts ICE at once: new offer, new credentials on both sides', async () => {
    const { A, B } = await connectedPair();
    const ufA = A.pc.iceUfrag;
    const ufB = B.pc.iceUfrag;
    A.pc.setIceConnectionState('failed');
    assert.equal(A.link.iceRestarts, 1);
    assert.equal(A.pc.restartIceCalls, 1);
    await settle();
    const offers = A.signals.filter((m) => m.type === 'offer');
    assert.equal(offers.length, 2);
    assert.notEqual(decodeSdp(offers[1].sdp).ufrag, ufA);
    assert.equal(A.pc.signalingState, 'stable');
    assert.equal(B.pc.signalingState, 'stable');
    assert.notEqual(A.pc.iceUfrag, ufA);
    assert.notEqual(B.pc.iceUfrag, ufB);
    assert.deepEqual([...A.events.errors, ...B.events.errors], []);
  });

  test('disconnected for longer than restartAfterMs restarts once', async () => {
    const clock = new ManualClock();
    const { A } = await connectedPair('alice', 'bob', { timers: clock, restartAfterMs: 4000 });
    A.pc.setIceConnectionState('connected');
    A.pc.setIceConnectionState('disconnected');
    clock.advance(2000);
    A.pc.setIceConnectionState('disconnected'); // repeated: does not restart the countdown
    clock.advance(1999);
    assert.equal(A.link.iceRestarts, 0);
    clock.advance(1);
    assert.equal(A.link.iceRestarts, 1);
    assert.equal(A.pc.restartIceCalls, 1);
    clock.advance(60_000);
    assert.equal(A.link.iceRestarts, 1, 'one restart, not one per period');
    await settle();
    assert.equal(A.signals.filter((m) => m.type === 'offer').length, 2);
  });

  test('recovering before restartAfterMs does not restart', async () => {
    const clock = new ManualClock();
    const { A } = await connectedPair('alice', 'bob', { timers: clock, restartAfterMs: 4000 });
    A.pc.setIceConnectionState('disconnected');
    clock.advance(3999);
    A.pc.setIceConnectionState('connected');
    clock.advance(10_000);
    assert.equal(A.link.iceRestarts, 0);
    assert.equal(A.pc.restartIceCalls, 0);
    assert.deepEqual(clock.pending, [], 'no timer left behind');
  });

  test('a new disconnection after a recovery gets the full restartAfterMs', async () => {
    const clock = new ManualClock();
    const { A } = await connectedPair('alice', 'bob', { timers: clock, restartAfterMs: 4000 });
    A.pc.setIceConnectionState('disconnected');
    clock.advance(3000);
    A.pc.setIceConnectionState('connected');
    clock.advance(500);
    A.pc.setIceConnectionState('disconnected');
    clock.advance(3999);
    assert.equal(A.link.iceRestarts, 0, 'the first countdown did not carry over');
    clock.advance(1);
    assert.equal(A.link.iceRestarts, 1);
  });

  test('failed while a disconnected countdown runs restarts once, now', async () => {
    const clock = new ManualClock();
    const { A } = await connectedPair('alice', 'bob', { timers: clock, restartAfterMs: 4000 });
    A.pc.setIceConnectionState('disconnected');
    clock.advance(1000);
    A.pc.setIceConnectionState('failed');
    assert.equal(A.link.iceRestarts, 1);
    clock.advance(10_000);
    assert.equal(A.link.iceRestarts, 1);
  });

  test('connection states are reported', async () => {
    const { A } = await connectedPair();
    A.pc.setConnectionState('connecting');
    A.pc.setConnectionState('connected');
    assert.deepEqual(A.events.states, ['connecting', 'connected']);
    assert.equal(A.link.connectionState, 'connected');
  });
});

describe('close and limits', () => {
  test('close() closes the pc, stops the remote tracks and ignores later signals', async () => {
    const clock = new ManualClock();
    const { A, B } = await connectedPair('alice', 'bob', { timers: clock });
    const remoteTracks = B.link.stream.getTracks();
    assert.equal(remoteTracks.length, 2);
    B.pc.setIceConnectionState('disconnected'); // a restart countdown is running
    B.link.close();
    assert.equal(B.link.closed, true);
    assert.equal(B.pc.closeCalls, 1);
    assert.equal(B.pc.signalingState, 'closed');
    for (const t of remoteTracks) assert.equal(t.stopCalls, 1, `${t.kind} stopped`);
    B.link.close();
    assert.equal(B.pc.closeCalls, 1, 'idempotent');
    clock.advance(60_000);
    assert.equal(B.link.iceRestarts, 0, 'the countdown was cancelled');
    const logLength = B.pc.log.length;
    const signalled = B.signals.length;
    A.pc.restartIce(); // a new offer reaches B
    await settle();
    B.link.handle({ type: 'candidate', from: 'alice', candidate: null });
    B.pc.emitCandidate({ candidate: 'candidate:1 1 udp 1 192.0.2.1 1 typ host' });
    await settle();
    assert.equal(B.pc.log.length, logLength, 'nothing applied after close');
    assert.equal(B.signals.length, signalled, 'nothing sent after close');
    assert.deepEqual(B.events.errors, []);
  });

  test('close() during an exchange does not report errors', async () => {
    const { pc, link, signals, events } = makeLink({ initiator: false, localStream: fakeStream() });
    const { sdp } = await remoteOffer();
    link.handle({ type: 'offer', from: 'bob', sdp });
    link.close(); // the offer is being applied
    await settle();
    assert.deepEqual(events.errors, []);
    assert.deepEqual(signals, []);
    assert.equal(pc.signalingState, 'closed');
  });

  test('more than 512 signals waiting is refused with queue-full', async () => {
    const { link, events } = makeLink({ initiator: false });
    const c = { candidate: 'candidate:1 1 udp 1 192.0.2.1 1 typ host', sdpMid: '0', sdpMLineIndex: 0 };
    for (let i = 0; i < 512; i++) link.handle({ type: 'candidate', from: 'bob', candidate: c });
    assert.deepEqual(events.errors, []);
    link.handle({ type: 'candidate', from: 'bob', candidate: c });
    assert.equal(events.errors.length, 1);
    assert.equal(events.errors[0].code, 'queue-full');
    assert.equal(events.errors[0].peer, 'bob');
    await settle();
    link.handle({ type: 'candidate', from: 'bob', candidate: c });
    await settle();
    assert.equal(events.errors.length, 1, 'room again once the queue drained');
  });

  test('a bad offer is reported and does not block the signals after it', async () => {
    const { pc, link, signals, events } = makeLink({ initiator: false, localStream: fakeStream() });
    link.handle({ type: 'offer', from: 'bob', sdp: 'v=0\r\ngarbage' });
    link.handle({ type: 'offer', from: 'bob' });
    const { sdp } = await remoteOffer();
    link.handle({ type: 'offer', from: 'bob', sdp });
    await settle();
    assert.deepEqual(events.errors.map((e) => e.code), ['negotiation-failed', 'negotiation-failed']);
    assert.equal(pc.signalingState, 'stable');
    assert.equal(signals.filter((m) => m.type === 'answer').length, 1);
  });

  test('an answer in stable (no offer of ours) is a negotiation error', async () => {
    const { A, B } = await connectedPair();
    B.link.handle({ type: 'answer', from: 'alice', sdp: A.pc.localDescription.sdp });
    await settle();
    assert.equal(B.events.errors.length, 1);
    assert.equal(B.events.errors[0].code, 'negotiation-failed');
    assert.equal(B.events.errors[0].cause.name, 'InvalidStateError');
  });
});

describe('setLocalStream', () => {
  test('replaces tracks in place without renegotiating', async () => {
    const { A, B, relay } = await connectedPair();
    const offersBefore = relay.log.filter((m) => m.type === 'offer').length;
    const next = fakeStream();
    A.link.setLocalStream(next);
    await settle();
    assert.deepEqual(A.pc.getSenders().map((s) => s.track), next.getTracks());
    assert.equal(relay.log.filter((m) => m.type === 'offer').length, offersBefore);
    assert.deepEqual([...A.events.errors, ...B.events.errors], []);
  });

  test('starts sending on receive-only transceivers (renegotiates)', async () => {
    const { A, B, relay } = await connectedPair('alice', 'bob', { streamA: null });
    assert.deepEqual(A.pc.getTransceivers().map((t) => t.currentDirection), ['recvonly', 'recvonly']);
    const mine = fakeStream();
    A.link.setLocalStream(mine);
    await settle();
    assert.deepEqual(A.pc.getTransceivers().map((t) => t.currentDirection), ['sendrecv', 'sendrecv']);
    assert.equal(B.events.streams.length, 1);
    assert.equal(relay.sentBy('alice', 'offer').length, 2);
    assert.deepEqual([...A.events.errors, ...B.events.errors], []);
  });
});
