// Media rooms: a real Chromium publishes its (fake) camera into a real Janus through a
// Switchboard node, speaking only Switchboard's protocol (publish, publish-answer, trickle).
// Janus never gathers candidates on a loopback interface, so this test makes a veth in the
// test's network namespace (run-in-netns.sh) with 127.0.0.2 on it, and tells Janus to use only
// that (docs/media.md); Chromium pairs 127.0.0.2 with it over UDP. The veth is removed at the end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startRedis, startNode, startJanus, stopAll, freePort, outDir } from './harness.js';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const IFACE = 'sfu0';
const ADMIN_KEY = 'e2e-admin-key';
const ROOM = `sfu-${Date.now().toString(36)}`;

let node;
let browser;
let publisherPage; // stays open: the subscriber watches what it publishes

/** In the page: a socket to the node and a way to wait for the next frame of a type (an error fails). */
const CONNECT = `window.connectNode = async (wsUrl) => {
  const frames = [];
  const waiters = [];
  const ws = new WebSocket(wsUrl);
  ws.onmessage = (e) => { frames.push(JSON.parse(e.data)); waiters.splice(0).forEach((w) => w()); };
  await new Promise((res, rej) => { ws.onopen = res; ws.onerror = () => rej(new Error('socket error')); });
  const next = async (type, ms = 10000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = frames.findIndex((f) => f.type === type || f.type === 'error');
      if (i >= 0) {
        const f = frames.splice(i, 1)[0];
        if (f.type === 'error') throw new Error('error ' + f.code + ': ' + f.message);
        return f;
      }
      if (Date.now() > deadline) throw new Error('no ' + type + ' within ' + ms + ' ms');
      await new Promise((res) => { waiters.push(res); setTimeout(res, 100); });
    }
  };
  return { send: (m) => ws.send(JSON.stringify(m)), next };
};`;

function ip(...args) {
  execFileSync('ip', args, { stdio: 'pipe' });
}

function log(line) {
  appendFileSync(join(outDir, 'sfu.log'), `${line}\n`);
  console.log(line);
}

before(async () => {
  ip('link', 'add', IFACE, 'type', 'veth', 'peer', 'name', 'sfu1');
  ip('addr', 'add', '127.0.0.2/32', 'dev', IFACE);
  ip('link', 'set', IFACE, 'up');
  ip('link', 'set', 'sfu1', 'up');
  const janus = await startJanus({ iface: IFACE });
  const redis = await startRedis();
  node = await startNode({
    id: 'sfu-1', redisUrl: redis.url, cluster: `sfu-${process.pid}`, clusterPort: await freePort(),
    extraArgs: ['--admin-key', ADMIN_KEY, '--media-janus-url', janus.url, '--media-janus-api-secret', janus.apiSecret,
      '--media-janus-admin-key', janus.adminKey],
  });
  const created = await fetch(`${node.url}/v1/rooms`, {
    method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}` },
    body: JSON.stringify({ room: ROOM, mode: 'mesh', media: 'sfu' }),
  });
  assert.equal(created.status, 201, await created.text());
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'],
  });
});

after(async () => {
  await browser?.close().catch(() => {});
  await stopAll();
  try {
    ip('link', 'del', IFACE); // the other tests of this namespace see only lo again
  } catch {
    // not made, or gone already
  }
});

test('a page publishes its camera into the media room through the node: ICE connects to Janus and video flows', async () => {
  const page = await browser.newPage();
  publisherPage = page;
  page.on('console', (m) => log(`page: ${m.text()}`));
  await page.goto(`${node.url}/`);
  await page.addScriptTag({ content: CONNECT });
  const result = await page.evaluate(async ({ wsUrl, room }) => {
    const node = await window.connectNode(wsUrl);
    node.send({ type: 'join', room, peer: 'publisher' });
    await node.next('welcome');
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    const pc = new RTCPeerConnection({ iceServers: [] });
    window.publishing = pc; // kept: the next test receives it
    for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
    pc.onicecandidate = (e) => node.send({ type: 'trickle', pc: 'publish', candidate: e.candidate ? e.candidate.toJSON() : null });
    const startedAt = performance.now();
    await pc.setLocalDescription(await pc.createOffer());
    node.send({ type: 'publish', sdp: pc.localDescription.sdp, id: 'p1' });
    const answer = await node.next('publish-answer');
    await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
    const deadline = Date.now() + 15_000;
    while (pc.connectionState !== 'connected' && Date.now() < deadline && pc.connectionState !== 'failed') {
      await new Promise((res) => setTimeout(res, 50));
    }
    const connectedMs = Math.round(performance.now() - startedAt);
    await new Promise((res) => setTimeout(res, 1500));
    let bytesSent = 0;
    let pair = null;
    const stats = await pc.getStats();
    stats.forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video') bytesSent += s.bytesSent;
      if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') {
        pair = `${stats.get(s.localCandidateId)?.address} -> ${stats.get(s.remoteCandidateId)?.address}`;
      }
    });
    return { state: pc.connectionState, connectedMs, bytesSent, pair, answerId: answer.id };
  }, { wsUrl: `${node.url.replace('http', 'ws')}/ws`, room: ROOM });
  log(`sfu publish: ${JSON.stringify(result)}`);
  assert.equal(result.answerId, 'p1');
  assert.equal(result.state, 'connected', 'the publishing connection reached Janus');
  assert.ok(result.bytesSent > 10_000, `video flowed to Janus: ${result.bytesSent} bytes`);
  console.log(`sfu publish: ICE+DTLS to Janus connected ${result.connectedMs} ms after the offer (pair ${result.pair}),`
    + ` ${result.bytesSent} video bytes sent in 1.5 s`);
});

test('another page of the room receives the publisher: the server offers it, and the page decodes its video', async () => {
  assert.ok(publisherPage, 'the publisher of the test before is still publishing');
  const page = await browser.newPage();
  page.on('console', (m) => log(`page: ${m.text()}`));
  await page.goto(`${node.url}/`);
  await page.addScriptTag({ content: CONNECT });
  const result = await page.evaluate(async ({ wsUrl, room }) => {
    const openedAt = performance.now();
    const node = await window.connectNode(wsUrl);
    node.send({ type: 'join', room, peer: 'watcher' });
    await node.next('welcome');
    const offer = await node.next('subscribe-offer');
    const pc = new RTCPeerConnection({ iceServers: [] });
    const shown = [];
    pc.ontrack = (e) => shown.push(`${e.track.kind}:${e.streams[0]?.id}`);
    pc.onicecandidate = (e) => node.send({ type: 'trickle', pc: 'subscribe', candidate: e.candidate ? e.candidate.toJSON() : null });
    await pc.setRemoteDescription({ type: 'offer', sdp: offer.sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    node.send({ type: 'subscribe-answer', sdp: pc.localDescription.sdp, id: 's1' });
    await node.next('ack');
    let framesDecoded = 0;
    let firstFrameMs = null;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && framesDecoded < 10) {
      (await pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') framesDecoded = s.framesDecoded ?? 0;
      });
      if (framesDecoded > 0 && firstFrameMs === null) firstFrameMs = Math.round(performance.now() - openedAt);
      await new Promise((res) => setTimeout(res, 50));
    }
    return { streams: offer.streams, shown: shown.sort(), framesDecoded, firstFrameMs, state: pc.connectionState };
  }, { wsUrl: `${node.url.replace('http', 'ws')}/ws`, room: ROOM });
  log(`sfu subscribe: ${JSON.stringify(result)}`);
  assert.deepEqual(result.streams.map((s) => `${s.kind}:${s.peer}`).sort(), ['audio:publisher', 'video:publisher']);
  assert.deepEqual(result.shown, ['audio:publisher', 'video:publisher'], 'each track arrives in a stream named after its peer');
  assert.ok(result.framesDecoded >= 10, `the publisher's video is decoded: ${result.framesDecoded} frames`);
  console.log(`sfu subscribe: first decoded frame ${result.firstFrameMs} ms after the page opened its socket`);
});
