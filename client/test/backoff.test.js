import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay } from '../src/backoff.js';

const cap = (attempt, baseMs = 500, maxMs = 15_000) => Math.min(maxMs, baseMs * 2 ** attempt);

test('random 0 gives cap/2 and random 1 gives cap, for every attempt', () => {
  for (let attempt = 0; attempt < 12; attempt++) {
    assert.equal(backoffDelay(attempt, { random: () => 0 }), cap(attempt) / 2, `attempt ${attempt}, random 0`);
    assert.equal(backoffDelay(attempt, { random: () => 1 }), cap(attempt), `attempt ${attempt}, random 1`);
  }
});

test('the defaults are baseMs 500 and maxMs 15000', () => {
  assert.equal(backoffDelay(0, { random: () => 1 }), 500);
  assert.equal(backoffDelay(1, { random: () => 1 }), 1000);
  assert.equal(backoffDelay(5, { random: () => 1 }), 15_000, '500 * 32 is capped');
  assert.equal(backoffDelay(5, { random: () => 0 }), 7500);
});

test('the cap doubles per attempt until maxMs', () => {
  const caps = [0, 1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, { baseMs: 100, maxMs: 3000, random: () => 1 }));
  assert.deepEqual(caps, [100, 200, 400, 800, 1600, 3000, 3000]);
});

test('every delay is within [cap/2, cap]', () => {
  let seed = 7;
  const random = () => {
    seed = (seed * 16807) % 2147483647;
    return (seed - 1) / 2147483646;
  };
  for (let attempt = 0; attempt < 40; attempt++) {
    for (let i = 0; i < 25; i++) {
      const d = backoffDelay(attempt, { baseMs: 300, maxMs: 20_000, random });
      const c = cap(attempt, 300, 20_000);
      assert.ok(Number.isInteger(d), `${d} is a whole number of ms`);
      assert.ok(d >= c / 2 && d <= c, `attempt ${attempt}: ${d} in [${c / 2}, ${c}]`);
    }
  }
});

test('random 0.5 lands in the middle, and the delay grows with the attempt', () => {
  const delays = [0, 1, 2, 3, 4].map((n) => backoffDelay(n, { random: () => 0.5 }));
  assert.deepEqual(delays, [375, 750, 1500, 3000, 6000]);
  for (let i = 1; i < delays.length; i++) assert.ok(delays[i] > delays[i - 1]);
});

test('huge attempt numbers stay at maxMs (no overflow to Infinity or NaN)', () => {
  for (const attempt of [31, 100, 1e6]) {
    assert.equal(backoffDelay(attempt, { random: () => 1 }), 15_000);
    assert.equal(backoffDelay(attempt, { random: () => 0 }), 7500);
  }
});

test('maxMs below baseMs caps from the first attempt', () => {
  assert.equal(backoffDelay(0, { baseMs: 1000, maxMs: 400, random: () => 1 }), 400);
  assert.equal(backoffDelay(3, { baseMs: 1000, maxMs: 400, random: () => 0 }), 200);
});

test('uses Math.random when no random is given', () => {
  for (let i = 0; i < 50; i++) {
    const d = backoffDelay(2);
    assert.ok(d >= 1000 && d <= 2000, `${d}`);
  }
});
