// What the browser tests run against: a real Redis, real Switchboard nodes forming a Hazelcast
// cluster, and in front of them a plain TCP load balancer with failover, all on loopback.
//
// Run inside a network namespace that has only `lo` (see run-in-netns.sh), so that WebRTC
// cannot pick any other interface. Everything started here is stopped by `stopAll()`, and
// every wait is bounded.
import { spawn } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { mkdirSync, openSync, readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const here = dirname(fileURLToPath(import.meta.url));
export const clientDir = resolve(here, '..');
export const repoDir = resolve(clientDir, '..');
export const outDir = process.env.E2E_OUT ?? join(repoDir, 'target', 'e2e');
mkdirSync(outDir, { recursive: true });

const children = new Set();
const servers = new Set();

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

function start(name, command, args, env = {}) {
  const log = join(outDir, `${name}.log`);
  const fd = openSync(log, 'w');
  const child = spawn(command, args, { stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
  child.logFile = log;
  child.exited = new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
  children.add(child);
  child.exited.then(() => children.delete(child));
  return child;
}

export async function startRedis() {
  const port = await freePort();
  const binary = process.env.REDIS_SERVER ?? 'redis-server';
  const child = start('redis', binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  await until(`redis on ${port}`, 10_000, () => canConnect(port));
  return { port, url: `redis://127.0.0.1:${port}`, child };
}

/**
 * Starts a node: with SWITCHBOARD_E2E_JAVA and SWITCHBOARD_E2E_CLASSPATH (what the Maven test
 * passes) from the build's classes, else from target/switchboard.jar. It serves the client
 * from this checkout (`--client-dir`), so what is tested is the working tree.
 */
export async function startNode({ id, redisUrl, cluster, clusterPort, extraArgs = [] }) {
  const port = await freePort();
  const java = process.env.SWITCHBOARD_E2E_JAVA ?? 'java';
  const cp = process.env.SWITCHBOARD_E2E_CLASSPATH;
  const jar = join(repoDir, 'target', 'switchboard.jar');
  if (!cp && !existsSync(jar)) throw new Error(`no ${jar}: run mvn -B -q package -DskipTests first`);
  const launch = cp ? ['-cp', cp, 'dev.switchboard.Main'] : ['-jar', jar];
  // The node's own log configuration (INFO), not the tests' quieter one on the class path.
  const args = ['-Xmx256m', '-XX:+UseSerialGC', '-Dlogback.configurationFile=logback.xml', ...launch,
    '--http-host', '127.0.0.1', '--http-port', String(port), '--node-id', id, '--node-verticles', '1',
    '--redis-url', redisUrl, '--cluster-name', cluster, '--cluster-port', String(clusterPort),
    // Both member ports, as a StatefulSet lists every pod: a restarted node finds the other
    // whichever of the two it got. A short drain: the tests restart nodes one after the other.
    '--cluster-members', `127.0.0.1:${clusterPort},127.0.0.1:${clusterPort + 1}`, '--client-dir', clientDir,
    '--node-drain-period', '1s', '--node-drain-timeout', '20s', ...extraArgs];
  const env = Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith('SWITCHBOARD_')).map((k) => [k, undefined]));
  const child = start(id, java, args, env);
  const node = { id, port, child, url: `http://127.0.0.1:${port}` };
  await until(`node ${id} ready`, 60_000, async () => {
    if (child.exitCode !== null) {
      throw Object.assign(new Error(`node ${id} exited with ${child.exitCode}:\n${tail(child.logFile)}`), { fatal: true });
    }
    return (await fetch(`${node.url}/ready`).catch(() => null))?.status === 200;
  });
  return node;
}

/**
 * Starts a Janus (VideoRoom and WebSockets only) with a configuration of its own under outDir,
 * its WebSocket API on a free loopback port. Janus never gathers ICE candidates on a loopback
 * interface, so it is told to use `iface` only: a veth the caller made, holding 127.0.0.2
 * (docs/media.md). Returns `{url, apiSecret, adminKey}`.
 */
export async function startJanus({ iface }) {
  const dir = join(outDir, 'janus');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const modules = ['/usr/lib/x86_64-linux-gnu/janus', '/usr/lib/aarch64-linux-gnu/janus', '/usr/lib/janus']
    .find((m) => existsSync(join(m, 'plugins')));
  if (!modules) throw new Error('no Janus modules: install the janus package (.ci/run does)');
  const others = (folder, keep) => readdirSync(join(modules, folder)).filter((f) => f.endsWith('.so') && f !== keep).join(',');
  const apiSecret = 'e2e-janus-api-secret';
  const adminKey = 'e2e-videoroom-admin-key';
  writeFileSync(join(dir, 'janus.jcfg'), [
    'general: {', `  configs_folder = "${dir}"`, `  plugins_folder = "${modules}/plugins"`,
    `  transports_folder = "${modules}/transports"`, `  events_folder = "${modules}/events"`,
    `  loggers_folder = "${modules}/loggers"`, '  debug_level = 4', '  session_timeout = 60',
    `  api_secret = "${apiSecret}"`, '}',
    'media: {', '  rtp_port_range = "20000-40000"', '}',
    'nat: {', `  ice_enforce_list = "${iface}"`, '}',
    'plugins: {', `  disable = "${others('plugins', 'libjanus_videoroom.so')}"`, '}',
    'transports: {', `  disable = "${others('transports', 'libjanus_websockets.so')}"`, '}',
    'loggers: {', `  disable = "${others('loggers', '')}"`, '}',
    'events: {', '  broadcast = false', `  disable = "${others('events', '')}"`, '}', ''].join('\n'));
  writeFileSync(join(dir, 'janus.transport.websockets.jcfg'), ['general: {', '  json = "compact"', '  ws = true',
    `  ws_port = ${port}`, '  ws_ip = "127.0.0.1"', '  wss = false', '}', 'admin: {', '  admin_ws = false', '}', ''].join('\n'));
  writeFileSync(join(dir, 'janus.plugin.videoroom.jcfg'), ['general: {', `  admin_key = "${adminKey}"`,
    '  string_ids = true', '  events = false', '}', ''].join('\n'));
  start('janus', 'janus', ['-F', dir, '-C', join(dir, 'janus.jcfg'), '-o', '-N', '-L', join(dir, 'janus.log')]);
  await until(`janus on ${port}`, 10_000, () => canConnect(port));
  return { url: `ws://127.0.0.1:${port}/`, apiSecret, adminKey };
}

/** Stops a node the way an orchestrator does (SIGTERM), and waits until it is gone. */
export async function stopNode(node) {
  node.child.kill('SIGTERM');
  const exited = await Promise.race([node.child.exited, sleep(30_000, null)]);
  if (!exited) {
    node.child.kill('SIGKILL');
    await node.child.exited;
  }
}

/**
 * A load balancer as a browser meets one: one address, and behind it the first backend that is
 * ready and accepts the connection, in order of preference. It checks `GET /ready` on each every
 * 200 ms, as a Kubernetes Service follows readiness: a draining node answers 503 and gets no new
 * sockets (and when none is ready, each is tried in turn). A backend that stops accepting is
 * skipped. It copies bytes and nothing else. `lb.backends` may be changed (a restarted node).
 */
export async function startBalancer(name, backends) {
  const port = await freePort();
  const sockets = new Set();
  const ready = new Map(); // backend -> whether its last readiness check said so
  const probe = setInterval(() => {
    for (const b of lb.backends) {
      fetch(`${b.url}/ready`, { signal: AbortSignal.timeout(500) })
        .then((r) => ready.set(b, r.status === 200), () => ready.set(b, false));
    }
  }, 200);
  const order = () => {
    const up = lb.backends.filter((b) => ready.get(b) !== false);
    return up.length > 0 ? up : lb.backends;
  };
  const server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    client.pause();
    const candidates = order();
    const tryBackend = (i) => {
      if (i >= candidates.length) {
        client.destroy();
        return;
      }
      const upstream = connect(candidates[i].port, '127.0.0.1');
      upstream.on('error', () => {
        upstream.destroy();
        if (upstream.connectedOnce) client.destroy();
        else if (!upstream.failedOver) {
          upstream.failedOver = true;
          tryBackend(i + 1); // refused: that backend is down
        }
      });
      upstream.once('connect', () => {
        upstream.connectedOnce = true;
        sockets.add(upstream);
        upstream.on('close', () => { sockets.delete(upstream); client.destroy(); });
        client.on('close', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    tryBackend(0);
  });
  const lb = { name, port, url: `http://127.0.0.1:${port}`, server, sockets, backends: [...backends], probe };
  await new Promise((res) => server.listen(port, '127.0.0.1', res));
  servers.add(lb);
  return lb;
}

/**
 * Cuts every connection through `lb` at once, as a network drop would: both ends see their TCP
 * connection reset, with no WebSocket close handshake.
 */
export function dropConnections(lb) {
  for (const s of [...lb.sockets]) s.resetAndDestroy();
}

/** Stops everything this harness started. */
export async function stopAll() {
  for (const lb of servers) {
    clearInterval(lb.probe);
    for (const s of lb.sockets) s.destroy();
    lb.server.close();
  }
  servers.clear();
  const running = [...children];
  for (const child of running) child.kill('SIGTERM');
  await Promise.race([Promise.all(running.map((c) => c.exited)), sleep(20_000)]);
  for (const child of children) child.kill('SIGKILL');
}

/** Polls `check` until it returns something truthy; fails after `ms` with `what` in the message. */
export async function until(what, ms, check, everyMs = 100) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
      last = value;
    } catch (error) {
      if (error?.fatal) throw error;
      last = error;
    }
    if (Date.now() >= deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${detail})`);
    }
    await sleep(everyMs);
  }
}

function canConnect(port) {
  return new Promise((res) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); res(true); });
    s.once('error', () => res(false));
  });
}

export function tail(file, lines = 40) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch (error) {
    return String(error);
  }
}
