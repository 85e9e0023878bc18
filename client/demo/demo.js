// The demo video call: /?room=NAME[&name=YOUR_NAME][&role=presenter|viewer]. It joins whatever
// the room is: a peer-to-peer mesh, a meeting through the media server (`sfu`), or a broadcast,
// where `role=presenter` presents and anyone else watches (a broadcast's default role). Every
// remote tile's <video> says the peer it shows in `data-peer`. Everything goes through the public
// API of the client module; `window.switchboard` is the live client, for the console.
import { Switchboard } from '/src/switchboard.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const room = validRoom(params.get('room')) ?? randomRoom();
const role = ['presenter', 'viewer'].includes(params.get('role')) ? params.get('role') : undefined;
const name = (params.get('name') ?? remembered('switchboard.name') ?? `Guest ${Math.floor(Math.random() * 900 + 100)}`).slice(0, 40);
remember('switchboard.name', name);
if (params.get('room') !== room) {
  params.set('room', room);
  history.replaceState(null, '', `${location.pathname}?${params}`);
}

const WORDS = {
  'room-full': 'This room is full.',
  unauthorized: 'The server wants a valid token to join this room.',
  forbidden: 'Your token does not allow this room.',
  'peer-id-taken': 'Someone with your id is already in this room.',
  unavailable: 'The server is temporarily unavailable. Retrying…',
  'rate-limited': 'Too many messages; slowing down.',
  'bad-request': 'The server did not understand this page (is it the right version?).',
  timeout: 'The server did not answer in time.',
  disconnected: 'The connection to the server was lost.',
  'going-away': 'The server is restarting.',
  draining: 'The server is moving us to another node.',
  'negotiation-failed': 'A call could not be set up.',
  'presenter-taken': 'This broadcast already has its presenter.',
  kicked: 'An operator removed you from this room.',
};

const STATUS = {
  idle: 'Starting…', connecting: 'Connecting…', joined: 'Connected', reconnecting: 'Reconnecting…', closed: 'Not connected',
};

$('room').textContent = `Room ${room}`;
$('local-name').textContent = `${name} (you)`;
document.title = `${room} · Switchboard`;

let sb = null;
start();

async function start() {
  const stream = role === 'viewer' ? null : await localMedia(); // a viewer only watches
  sb = new Switchboard({ room, meta: { name }, stream, role });
  window.switchboard = sb;
  sb.addEventListener('statechange', () => showStatus());
  sb.addEventListener('welcome', () => { showRoom(); showStatus(); clearSessionError(); });
  sb.addEventListener('peer-joined', (e) => { if (shows(e.role)) addTile(e.peer, e.meta, e.state); showRoom(); });
  sb.addEventListener('peer-left', (e) => { removeTile(e.peer); showRoom(); });
  sb.addEventListener('peer-state', (e) => showState(tile(e.peer), e.state));
  sb.addEventListener('stream', (e) => attach(e.peer, e.stream));
  sb.addEventListener('stream-ended', (e) => attach(e.peer, null));
  sb.addEventListener('media-connection', (e) => {
    if (e.pc === 'publish') $('local-tile').querySelector('.call').textContent = e.state === 'connected' ? '' : e.state;
  });
  sb.addEventListener('peer-connection', (e) => {
    const t = tile(e.peer);
    if (!t) return;
    t.dataset.connection = e.state;
    t.querySelector('.call').textContent = e.state === 'connected' ? '' : e.state;
  });
  sb.addEventListener('disconnected', (e) => {
    showStatus(`Reconnecting in ${(e.retryInMs / 1000).toFixed(1)} s…`);
    setError(`${describe(e.error)} Reconnecting; calls already up carry on meanwhile.`);
  });
  sb.addEventListener('error', (e) => setError(describe(e.error), e.fatal));
  sb.addEventListener('room-closed', () => setError('The room was closed.', true));
  sb.addEventListener('closed', () => { showStatus(); $('rejoin').hidden = false; });
  $('audio').disabled = !stream?.getAudioTracks().length;
  $('video').disabled = !stream?.getVideoTracks().length;
  showMine();
  try {
    await sb.join();
  } catch (error) {
    setError(`Could not join: ${describe(error)}`, true);
  }
}

async function localMedia() {
  if (!navigator.mediaDevices?.getUserMedia) {
    setError('This browser cannot capture a camera here (the page needs https or localhost). You can still watch.', false, 'media');
    return null;
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: true,
      video: { width: { ideal: 640 }, height: { ideal: 360 } },
    });
    $('local-video').srcObject = stream;
    return stream;
  } catch (error) {
    setError(`No camera or microphone (${error.name}: ${error.message}). You can still watch and listen.`, false, 'media');
    return null;
  }
}

$('audio').addEventListener('click', () => {
  sb.setAudio(!sb.localState.audio).catch(() => {}); // refusals come as `error` events
  showMine();
});
$('video').addEventListener('click', () => {
  sb.setVideo(!sb.localState.video).catch(() => {});
  showMine();
});
$('leave').addEventListener('click', async () => {
  $('leave').disabled = true;
  await sb.leave();
  showStatus('You left the room.');
});
$('rejoin').addEventListener('click', () => location.reload());

function showMine() {
  const { audio, video } = sb.localState;
  $('audio').setAttribute('aria-pressed', String(audio === false));
  $('audio').textContent = audio === false ? 'Unmute microphone' : 'Mute microphone';
  $('video').setAttribute('aria-pressed', String(video === false));
  $('video').textContent = video === false ? 'Turn camera on' : 'Turn camera off';
  showState($('local-tile'), { audio, video });
}

/**
 * Which peers get a tile: everyone in a mesh or meeting; in a broadcast the presenter only (a
 * viewer sends nothing, and a presenter's audience is a count, not a wall of empty tiles).
 */
function shows(peerRole) {
  return sb.mode !== 'broadcast' || peerRole === 'presenter';
}

/** The room's kind and, for a broadcast, who we are in it and how many watch. */
function showRoom() {
  let text = `Room ${room}`;
  if (sb.media === 'sfu') text += ' · via media server';
  if (sb.mode === 'broadcast') {
    const viewers = [...sb.peers.values()].filter((p) => p.role === 'viewer').length;
    text += sb.role === 'presenter' ? ` · presenting to ${viewers} viewer${viewers === 1 ? '' : 's'}` : ' · watching';
  }
  $('room').textContent = text;
  // A viewer shows no camera of its own (one asked for on a room that turned out to be a broadcast stops).
  const watching = sb.role === 'viewer';
  $('local-tile').hidden = watching;
  $('audio').hidden = $('video').hidden = watching;
  if (watching) for (const t of $('local-video').srcObject?.getTracks() ?? []) t.stop();
}

function addTile(peer, meta, state) {
  removeTile(peer);
  const t = $('tile-template').content.firstElementChild.cloneNode(true);
  t.dataset.peer = peer;
  t.querySelector('video').dataset.peer = peer;
  t.dataset.connection = 'new';
  const label = typeof meta?.name === 'string' && meta.name ? meta.name : peer.slice(0, 8);
  t.querySelector('.name').textContent = label;
  t.querySelector('video').setAttribute('aria-label', `video of ${label}`);
  t.querySelector('.unmute').addEventListener('click', (e) => {
    const video = t.querySelector('video');
    video.muted = false;
    video.play().catch(() => {});
    e.target.hidden = true;
  });
  showState(t, state);
  $('grid').append(t);
}

function removeTile(peer) {
  const t = tile(peer);
  if (!t) return;
  t.querySelector('video').srcObject = null;
  t.remove();
}

function attach(peer, stream) {
  const t = tile(peer);
  if (!t) return;
  const video = t.querySelector('video');
  video.srcObject = stream;
  if (!stream) return; // it stopped publishing
  video.play().catch((error) => {
    if (error.name !== 'NotAllowedError') return;
    // The browser will not play sound before the user touched the page: play muted, offer sound.
    video.muted = true;
    video.play().catch(() => {});
    t.querySelector('.unmute').hidden = false;
  });
}

function showState(t, state = {}) {
  if (!t) return;
  t.dataset.audio = state.audio === false ? 'off' : 'on';
  t.dataset.video = state.video === false ? 'off' : 'on';
  const badges = [];
  if (state.audio === false) badges.push('muted');
  if (state.video === false) badges.push('camera off');
  t.querySelector('.muted-badges').replaceChildren(...badges.map((text) => {
    const b = document.createElement('span');
    b.className = 'badge';
    b.textContent = text;
    return b;
  }));
}

function tile(peer) {
  return [...document.querySelectorAll('.tile.remote')].find((t) => t.dataset.peer === peer) ?? null;
}

function showStatus(text) {
  const state = sb?.connectionState ?? 'idle';
  const el = $('status');
  el.dataset.state = state;
  el.textContent = text ?? (state === 'joined' ? `${STATUS.joined} · node ${sb.node}` : STATUS[state]);
}

function setError(text, fatal = false, kind = 'session') {
  const el = $('error');
  el.hidden = !text;
  el.textContent = text ?? '';
  el.dataset.fatal = String(fatal);
  el.dataset.kind = kind;
}

/** A (re)join succeeded: what went wrong with the connection is over; a missing camera is not. */
function clearSessionError() {
  if ($('error').dataset.kind === 'session') setError(null);
}

function describe(error) {
  const words = WORDS[error?.code];
  return words ? `${words} (${error.code})` : `${error?.message ?? error}`;
}

// Storage can be refused (private windows, blocked cookies): the name is then per visit.
function remembered(key) {
  try { return localStorage.getItem(key); } catch { return null; }
}

function remember(key, value) {
  try { localStorage.setItem(key, value); } catch { /* not kept */ }
}

function validRoom(value) {
  return value && /^[A-Za-z0-9._-]{1,64}$/.test(value) ? value : null;
}

function randomRoom() {
  return `room-${Math.random().toString(36).slice(2, 8)}`;
}
