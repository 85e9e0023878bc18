/**
 * Errors the client reports, as rejected promises and in `error` events.
 *
 * `code` is the protocol's error code (`room-full`, `peer-not-found`, `rate-limited`, ...)
 * when the server sent one. Failures the client detects itself use codes of their own:
 * `timeout` (no answer in time), `disconnected` (the socket dropped before an answer),
 * `closed` (the client was closed), `queue-full` (the client's own send queue is full) and
 * `negotiation-failed` (a WebRTC call could not be set up). `closeCode` is the WebSocket close
 * code when the failure came with a close.
 */
export class SwitchboardError extends Error {
  constructor(code, message, { closeCode, id, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'SwitchboardError';
    this.code = code;
    if (closeCode !== undefined) this.closeCode = closeCode;
    if (id !== undefined) this.id = id;
  }
}

/** The protocol error each close code stands for, when no `error` message named it first. */
const CLOSE_CODES = new Map([
  [1001, 'going-away'],
  [1007, 'bad-request'],
  [1008, 'slow-consumer'],
  [1009, 'bad-request'],
  [1011, 'unavailable'],
  [4400, 'bad-request'],
  [4401, 'unauthorized'],
  [4403, 'forbidden'],
  [4406, 'kicked'],
  [4408, 'timeout'],
  [4409, 'peer-id-taken'],
  [4410, 'timeout'],
  [4429, 'rate-limited'],
  [4503, 'unavailable'],
]);

export function codeForClose(closeCode) {
  return CLOSE_CODES.get(closeCode) ?? 'disconnected';
}

/**
 * What to do after the socket closed with `closeCode` (see docs/protocol.md, "Close codes").
 * `fatal`: retrying cannot help (fix the client, or get another token);
 * `retry`: reconnect with backoff and join again.
 */
export function closeAction(closeCode, { tokenProvider = false } = {}) {
  switch (closeCode) {
    case 1007: case 1009: case 4400:
    case 4406: // an operator removed us: coming back would undo that
      return 'fatal';
    case 4401: case 4403:
      // The same token would be refused again; a provider can fetch a fresh one.
      return tokenProvider ? 'retry' : 'fatal';
    default:
      return 'retry';
  }
}
