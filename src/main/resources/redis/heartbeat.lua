-- Writes a node's record and load, absolute values from the node's own truth, and reads the
-- data epoch: an id set once when Redis has none, so a Redis that lost its data is noticed.
-- KEYS: 1 node hash (sb:node:<node>), 2 nodes (ZSET), 3 epoch (STRING), 4 reaped marker
-- ARGV: 1 node, 2 connections, 3 rooms, 4 state, 5 url, 6 startedAt, 7 heartbeatAt, 8 version,
--       9 ttl in ms, 10 an epoch to set if there is none, 11 this write's number (rises per write
--       of one node process)
-- Returns {existed, epoch, reaped}: existed is 1 if the record was there before this write;
-- reaped is 1 while another node's reaper has marked this node as dead (until it acknowledges).
local existed = redis.call('EXISTS', KEYS[1])
redis.call('SET', KEYS[3], ARGV[10], 'NX')
-- A write of this node process that arrives after a newer one (two pooled connections, a
-- retry) must not undo it; it still keeps the record alive.
if redis.call('HGET', KEYS[1], 'startedAt') == ARGV[6]
    and tonumber(ARGV[11]) < tonumber(redis.call('HGET', KEYS[1], 'beat') or '0') then
  redis.call('PEXPIRE', KEYS[1], ARGV[9])
  return {existed, redis.call('GET', KEYS[3]), redis.call('EXISTS', KEYS[4])}
end
redis.call('HSET', KEYS[1], 'url', ARGV[5], 'connections', ARGV[2], 'rooms', ARGV[3],
  'state', ARGV[4], 'startedAt', ARGV[6], 'heartbeatAt', ARGV[7], 'version', ARGV[8], 'beat', ARGV[11])
redis.call('PEXPIRE', KEYS[1], ARGV[9])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return {existed, redis.call('GET', KEYS[3]), redis.call('EXISTS', KEYS[4])}
