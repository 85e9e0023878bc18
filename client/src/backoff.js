/**
 * Reconnect delays: exponential, capped, with jitter, so that the thousands of browsers a
 * stopped node drops do not all come back in the same millisecond.
 *
 * The delay for attempt n (0-based) is drawn uniformly from [cap / 2, cap] where
 * cap = min(maxMs, baseMs * 2^n): it still grows every time, and half of it is spread.
 */
export function backoffDelay(attempt, { baseMs = 500, maxMs = 15000, random = Math.random } = {}) {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(cap / 2 + random() * (cap / 2));
}
