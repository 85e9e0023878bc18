-- Writes back a member that this node still holds, after Redis lost its data. The room's
-- sequence is first raised to what the node has seen, so later events stay newer than any a
-- node's view already holds.
-- KEYS: 1 room peers, 2 room nodes, 3 room seq, 4 rooms (ZSET), 5 node peers (SET),
--       6 room resume tokens (HASH)
-- ARGV: 1 room, 2 peer, 3 node, 4 member JSON without "seq", 5 lowest sequence to continue from,
--       6 the digest of the member's resume token ('' for none)
-- Returns {'exists' | 'ok', seq, peer1, member1, peer2, member2, ...}: the room afterwards,
-- so the node can tell its members who else came back, and the room who came back here.
if tonumber(redis.call('GET', KEYS[3]) or '0') < tonumber(ARGV[5]) then
  redis.call('SET', KEYS[3], ARGV[5])
end
redis.call('PERSIST', KEYS[3])
local status = 'exists'
if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 0 then
  status = 'ok'
  local seq = redis.call('INCR', KEYS[3])
  redis.call('HSET', KEYS[1], ARGV[2], '{"seq":' .. seq .. ',' .. string.sub(ARGV[4], 2))
  redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
  redis.call('ZADD', KEYS[4], redis.call('HLEN', KEYS[1]), ARGV[1])
  redis.call('SADD', KEYS[5], ARGV[1] .. '/' .. ARGV[2])
  if ARGV[6] ~= '' then
    redis.call('HSET', KEYS[6], ARGV[2], ARGV[6])
  end
end
local out = {status, tonumber(redis.call('GET', KEYS[3]) or '0')}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all do
  out[#out + 1] = all[i]
end
return out
