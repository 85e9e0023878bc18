// The demo page in a real Chromium against a real 2-node cluster: four pages in one room, two
// on each node, through readiness-checking load balancers (as a Kubernetes Service). Run by run-in-netns.sh (Maven runs it from
// ClientBrowserTest), inside a network namespace with only `lo`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import {
  startRedis, startNode, stopNode, startBalancer, stopAll, until, freePort, outDir, tail, dropConnections,
} from './harness.js';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ROOM = `e2e-${Date.now().toString(36)}`;
const LOOPBACK = new Set(['127.0.0.1', '::1']);
const browserLog = join(outDir, 'browser.log');
writeFileSync(browserLog, ''); // this run's only

let n1;
let n2;
let lb1; // prefers node 1, falls back to node 2
let lb2; // prefers node 2, falls back to node 1
let browser;
const pages = new Map(); // name -> {page, context, errors}

let nodeSettings; // what a restarted node starts with

before(async () => {
  const redis = await startRedis();
  nodeSettings = { redisUrl: redis.url, cluster: `e2e-${process.pid}`, clusterPort: await freePort() };
  n1 = await startNode({ id: 'e2e-1', ...nodeSettings });
  n2 = await startNode({ id: 'e2e-2', ...nodeSettings });
  lb1 = await startBalancer('lb-1', [n1, n2]);
  lb2 = await startBalancer('lb-2', [n2, n1]);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      '--allow-loopback-in-peer-connection',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
  log(`chromium ${browser.version()}, room ${ROOM}, node 1 :${n1.port}, node 2 :${n2.port}, lb-1 :${lb1.port}, lb-2 :${lb2.port}`);
});

after(async () => {
  await browser?.close().catch(() => {});
  await stopAll();
});

test('four pages on two nodes connect every pair over loopback and decode each other\'s video', async () => {
  const openedAt = Date.now();
  await open('A', lb1);
  await open('B', lb1);
  await open('C', lb2);
  await open('D', lb2);
  assert.deepEqual(await nodes(), { A: 'e2e-1', B: 'e2e-1', C: 'e2e-2', D: 'e2e-2' });

  const mesh = await fullMesh(['A', 'B', 'C', 'D']);
  log(`four pages opened, every call connected and decoding: ${Date.now() - openedAt} ms`);
  for (const [name, calls] of Object.entries(mesh)) {
    for (const call of calls) {
      assert.ok(onLoopback(call), `${name}→${call.name} selected pair ${call.local} ↔ ${call.remote} is not loopback at both ends`);
    }
  }
  // The tiles show the others by name, with video playing.
  for (const name of pages.keys()) {
    const tiles = await remoteTiles(name);
    assert.deepEqual(tiles.map((t) => t.name).sort(), others(name), `${name}'s tiles`);
    for (const t of tiles) assert.ok(t.videoWidth > 0, `${name}'s tile of ${t.name} plays no video`);
  }
  const a = pages.get('A').page;
  assert.equal(await a.locator('.tile').count(), 4);
  await a.screenshot({ path: join(outDir, 'four-tiles.png') });
  noPageErrors();
});

test('mute and camera-off propagate to the other tiles', async () => {
  const a = pages.get('A').page;
  await a.click('#audio');
  await until('A shown muted on B, C, D', 5000, () => tileOf(['B', 'C', 'D'], 'A', (t) => t.audio === 'off'));
  await a.click('#video');
  await until('A shown with camera off on B, C, D', 5000, () => tileOf(['B', 'C', 'D'], 'A', (t) => t.video === 'off' && t.badges.includes('camera off')));
  assert.equal(await a.getAttribute('#audio', 'aria-pressed'), 'true');
  await a.click('#audio');
  await a.click('#video');
  await until('A shown unmuted again', 5000, () => tileOf(['B', 'C', 'D'], 'A', (t) => t.audio === 'on' && t.video === 'on' && t.badges.length === 0));
  noPageErrors();
});

test('a network drop under two pages: they resume, and no call is closed, replaced or re-offered', async () => {
  await markCalls();
  await watchStatus(['A', 'B']);
  const droppedAt = Date.now();
  dropConnections(lb1); // A and B, both on node 1, lose their sockets; lb1 sends them back there
  await until('A and B joined again', 20_000, async () => {
    const seen = await Promise.all(['A', 'B'].map((name) => pages.get(name).page.evaluate(() => window.statusSeen)));
    return seen.every((s) => s.some((x) => x.state === 'reconnecting') && s.at(-1).state === 'joined');
  });
  log(`network drop → A and B resumed: ${Date.now() - droppedAt} ms`);
  await assertCallsKept('the network drop');
  // Signaling works after the resume: a mute still reaches everyone.
  await pages.get('A').page.click('#audio');
  await until('A shown muted after the resume', 5000, () => tileOf(['B', 'C', 'D'], 'A', (t) => t.audio === 'off'));
  await pages.get('A').page.click('#audio');
  noPageErrors();
});

test('a page that leaves disappears from the others within a second', async () => {
  const watchers = ['A', 'B', 'C'];
  // Each watcher notes (wall clock, shared by all pages of this machine) when D's tile goes.
  await Promise.all(watchers.map((name) => pages.get(name).page.evaluate((gone) => {
    window.tileGoneAt = null;
    const observer = new MutationObserver(() => {
      const present = [...document.querySelectorAll('.tile.remote .name')].some((n) => n.textContent === gone);
      if (!present && window.tileGoneAt === null) {
        window.tileGoneAt = Date.now();
        observer.disconnect();
      }
    });
    observer.observe(document.getElementById('grid'), { childList: true });
  }, 'D')));
  const clickedAt = await pages.get('D').page.evaluate(() => {
    const at = Date.now();
    document.getElementById('leave').click();
    return at;
  });
  const goneAt = await until('D\'s tile gone everywhere', 5000, async () => {
    const times = await Promise.all(watchers.map((name) => pages.get(name).page.evaluate(() => window.tileGoneAt)));
    return times.every((t) => t !== null) && times;
  });
  const delays = goneAt.map((t) => t - clickedAt);
  log(`leave → tile gone: ${watchers.map((w, i) => `${w} ${delays[i]} ms`).join(', ')}`);
  for (const [i, delay] of delays.entries()) assert.ok(delay <= 1000, `${watchers[i]} removed D's tile after ${delay} ms`);
  await until('D closed', 5000, async () => (await pages.get('D').page.evaluate(() => window.switchboard.connectionState)) === 'closed');
  await close('D');
  noPageErrors();
});

test('a rolling restart of both nodes: every page resumes elsewhere, and no call is closed, replaced or re-offered', async () => {
  await open('D', lb2);
  await fullMesh(['A', 'B', 'C', 'D']);
  const before = await ids();
  await markCalls();
  await watchStatus([...pages.keys()]);
  const timings = [];
  for (const [i, old] of [[0, n1], [1, n2]]) {
    const movedPages = Object.entries(await nodes()).filter(([, node]) => node === old.id).map(([name]) => name);
    const stoppingAt = Date.now();
    await stopNode(old); // SIGTERM: it drains, its pages get `reconnect` and resume on the other node
    const drainedMs = Date.now() - stoppingAt;
    await until(`${movedPages.join(', ')} resumed off ${old.id}`, 20_000, async () => {
      const n = await nodes();
      return movedPages.every((name) => n[name] !== old.id);
    });
    const fresh = await startNode({ id: `${old.id}b`, ...nodeSettings });
    for (const lb of [lb1, lb2]) lb.backends = lb.backends.map((b) => (b === old ? fresh : b));
    await sleep(2000); // as a rollout waits between pods: the new node's first requests are slow
    if (i === 0) n1 = fresh; else n2 = fresh;
    timings.push(`${old.id}: drained and exited ${drainedMs} ms after SIGTERM, moved ${movedPages.join(', ')}`);
  }
  log(`rolling restart: ${timings.join('; ')}`);
  assert.deepEqual(await ids(), before, 'every page kept its peer id');
  await assertCallsKept('the rolling restart');
  for (const name of pages.keys()) {
    const seen = await pages.get(name).page.evaluate(() => window.statusSeen);
    assert.ok(seen.length === 0 || seen.at(-1).state === 'joined', `${name} ended ${JSON.stringify(seen.at(-1))}`);
  }
  // Signaling works on the new nodes: a mute still reaches everyone.
  await pages.get('C').page.click('#audio');
  await until('C shown muted after the restart', 5000, () => tileOf(['A', 'B', 'D'], 'C', (t) => t.audio === 'off'));
  await pages.get('C').page.click('#audio');
  await pages.get('A').page.screenshot({ path: join(outDir, 'after-rolling-restart.png') });
  noPageErrors();
});

test('with every node gone, each page says so in words and keeps retrying', async () => {
  await watchStatus([...pages.keys()]);
  await Promise.all([stopNode(n1), stopNode(n2)]); // each drains with nowhere to send its pages
  log('both nodes stopped');
  for (const name of pages.keys()) {
    const page = pages.get(name).page;
    await page.waitForSelector('#error:not([hidden])', { timeout: 10_000 });
    const text = await page.textContent('#error');
    assert.match(text, /server|connection/i, `${name}'s error: ${text}`);
    assert.doesNotMatch(text, /undefined|\[object|Error:/, `${name}'s error is not in words: ${text}`);
    await until(`${name} shows reconnecting`, 10_000, async () => (await page.getAttribute('#status', 'data-state')) === 'reconnecting');
    assert.match(await page.textContent('#status'), /Reconnecting/);
    assert.equal(await page.evaluate(() => window.switchboard.connectionState), 'reconnecting');
  }
  // Calls do not need the server once they are up: media still flows between the pages.
  const calls = await callsOf('A');
  assert.equal(calls.length, 3);
  for (const call of calls) assert.equal(call.pc, 'connected', `A→${call.name} during the outage`);
  await pages.get('A').page.screenshot({ path: join(outDir, 'all-nodes-gone.png') });
  noPageErrors();
});

/** Marks every call, and records every peer-left and every change of call state from now on. */
function markCalls() {
  return Promise.all([...pages.keys()].map((name) => pages.get(name).page.evaluate(() => {
    const sb = window.switchboard;
    window.resumeWatch = { peerLeft: [], callStates: [] };
    for (const peer of sb.peers.keys()) {
      const pc = sb.peerConnection(peer);
      pc.resumeMark = peer;
      pc.addEventListener('connectionstatechange', () => window.resumeWatch.callStates.push(`${peer}:${pc.connectionState}`));
    }
    sb.addEventListener('peer-left', (e) => window.resumeWatch.peerLeft.push(`${e.peer}:${e.reason}`));
  })));
}

/**
 * Since `markCalls`: no peer left, no call closed, replaced or changing state (so no ICE
 * restart either), every call connected, every tile there.
 */
async function assertCallsKept(what) {
  for (const name of pages.keys()) {
    const after = await pages.get(name).page.evaluate(() => {
      const sb = window.switchboard;
      return {
        watch: window.resumeWatch,
        calls: [...sb.peers.keys()].map((peer) => ({
          peer, same: sb.peerConnection(peer)?.resumeMark === peer, state: sb.peerConnection(peer)?.connectionState,
        })),
      };
    });
    assert.deepEqual(after.watch.peerLeft, [], `${name} saw a peer leave during ${what}`);
    assert.deepEqual(after.watch.callStates, [], `${name}'s calls changed state during ${what}`);
    assert.equal(after.calls.length, pages.size - 1, `${name}'s calls after ${what}`);
    for (const call of after.calls) {
      assert.ok(call.same, `${name}'s call with ${call.peer} was replaced during ${what}`);
      assert.equal(call.state, 'connected', `${name}'s call with ${call.peer} after ${what}`);
    }
    assert.deepEqual((await remoteTiles(name)).map((t) => t.name).sort(), others(name), `${name}'s tiles after ${what}`);
  }
}

/** Records every status the page shows from now on, in `window.statusSeen`. */
function watchStatus(names) {
  return Promise.all(names.map((name) => pages.get(name).page.evaluate(() => {
    const el = document.getElementById('status');
    window.statusSeen = [];
    new MutationObserver(() => {
      window.statusSeen.push({ state: el.dataset.state, text: el.textContent });
    }).observe(el, { attributes: true, childList: true, characterData: true, subtree: true });
  })));
}

async function open(name, lb) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  const page = await context.newPage();
  const entry = { page, context, errors: [] };
  page.on('console', (m) => log(`[${name}] ${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => { entry.errors.push(e.message); log(`[${name}] pageerror: ${e.message}`); });
  pages.set(name, entry);
  await page.goto(`${lb.url}/?room=${ROOM}&name=${name}`);
  await page.waitForFunction(() => window.switchboard?.connectionState === 'joined', null, { timeout: 20_000 });
  const error = await page.textContent('#error');
  assert.equal(await page.isVisible('#error'), false, `${name} shows an error: ${error}`);
}

async function close(name) {
  await pages.get(name).context.close();
  pages.delete(name);
}

function others(name) {
  return [...pages.keys()].filter((n) => n !== name).sort();
}

async function nodes() {
  const out = {};
  for (const [name, { page }] of pages) out[name] = await page.evaluate(() => window.switchboard.node);
  return out;
}

async function ids() {
  const out = {};
  for (const [name, { page }] of pages) out[name] = await page.evaluate(() => window.switchboard.id);
  return out;
}

/** Waits until every page has a connected call to each other page that decodes video. */
async function fullMesh(names) {
  let mesh;
  try {
    await until(`a full mesh of ${names.join(', ')}`, 60_000, async () => {
      mesh = {};
      for (const name of names) mesh[name] = await callsOf(name);
      return names.every((name) => {
        const c = mesh[name];
        return c.length === names.length - 1
          && c.map((x) => x.name).sort().join() === others(name).join()
          && c.every((x) => x.pc === 'connected' && (x.ice === 'connected' || x.ice === 'completed') && x.framesDecoded > 0);
      });
    }, 500);
  } finally {
    log(`mesh: ${JSON.stringify(mesh)}`);
  }
  return mesh;
}

/** Each call of a page, from its RTCPeerConnection and getStats(). */
function callsOf(name) {
  return pages.get(name).page.evaluate(async () => {
    const sb = window.switchboard;
    const out = [];
    for (const [peer, info] of sb.peers) {
      const pc = sb.peerConnection(peer);
      if (!pc) continue;
      const stats = await pc.getStats();
      let pair = null;
      let framesDecoded = 0;
      stats.forEach((s) => {
        if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId);
        if (s.type === 'inbound-rtp' && s.kind === 'video') framesDecoded += s.framesDecoded ?? 0;
      });
      const local = pair ? stats.get(pair.localCandidateId) : null;
      const remote = pair ? stats.get(pair.remoteCandidateId) : null;
      out.push({
        name: info.meta.name, pc: pc.connectionState, ice: pc.iceConnectionState, framesDecoded,
        local: local?.address ?? local?.ip ?? null, remote: remote?.address ?? remote?.ip ?? null,
        remoteType: remote?.candidateType ?? null,
      });
    }
    return out;
  });
}

/**
 * Whether a call's selected pair is on loopback at both ends. A remote candidate learned from a
 * connectivity check before its signaled twin arrived is peer-reflexive, and Chromium hides its
 * address (""): inside this namespace, which has only `lo`, it can only be loopback.
 */
function onLoopback(call) {
  return LOOPBACK.has(call.local) && (LOOPBACK.has(call.remote) || (call.remote === '' && call.remoteType === 'prflx'));
}

function remoteTiles(name) {
  return pages.get(name).page.evaluate(() => [...document.querySelectorAll('.tile.remote')].map((t) => ({
    name: t.querySelector('.name').textContent,
    audio: t.dataset.audio,
    video: t.dataset.video,
    badges: [...t.querySelectorAll('.badge')].map((b) => b.textContent),
    videoWidth: t.querySelector('video').videoWidth,
  })));
}

/** True when, on each of `watchers`, the tile of `subject` satisfies `ok`. */
async function tileOf(watchers, subject, ok) {
  for (const name of watchers) {
    const t = (await remoteTiles(name)).find((x) => x.name === subject);
    if (!t || !ok(t)) return false;
  }
  return true;
}

function noPageErrors() {
  for (const [name, { errors }] of pages) assert.deepEqual(errors, [], `uncaught errors on page ${name}`);
}

function log(line) {
  appendFileSync(browserLog, `${new Date().toISOString()} ${line}\n`);
}

process.on('exit', () => {
  if (process.exitCode) {
    for (const n of [n1, n2]) if (n) console.error(`--- ${n.id} log tail ---\n${tail(n.child.logFile, 30)}`);
  }
});
