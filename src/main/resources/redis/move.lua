-- Moves a member to another node (it resumed there), if the node it moves from still holds it.
-- The record stays as stored (identity, published state, join time: a state change the old
-- node wrote a moment ago is kept); only its node and its sequence number change, the new
-- number ordering the move among the room's other changes.
-- KEYS: 1 room peers, 2 room nodes, 3 room seq, 4 node peers of the old node (SET),
--       5 node peers of the new node (SET)
-- ARGV: 1 room, 2 peer, 3 old node, 4 new node
-- Returns {'absent'} | {'ok', seq, peer1, member1, peer2, member2, ...}: the room afterwards.
local v = redis.call('HGET', KEYS[1], ARGV[2])
if not v or cjson.decode(v).node ~= ARGV[3] then
  return {'absent'}
end
local seq = redis.call('INCR', KEYS[3])
-- Records are written as '{"seq":N,' .. the node's JSON, which has '"node":"<id>"' once; ids
-- are plain text, so plain (not pattern) finds splice them.
local rest = string.sub(v, (string.find(v, ',', 1, true)))
local field = '"node":"' .. ARGV[3] .. '"'
local at = string.find(rest, field, 1, true)
rest = string.sub(rest, 1, at - 1) .. '"node":"' .. ARGV[4] .. '"' .. string.sub(rest, at + #field)
redis.call('HSET', KEYS[1], ARGV[2], '{"seq":' .. seq .. rest)
if redis.call('HINCRBY', KEYS[2], ARGV[3], -1) <= 0 then
  redis.call('HDEL', KEYS[2], ARGV[3])
end
redis.call('HINCRBY', KEYS[2], ARGV[4], 1)
redis.call('SREM', KEYS[4], ARGV[1] .. '/' .. ARGV[2])
redis.call('SADD', KEYS[5], ARGV[1] .. '/' .. ARGV[2])
local out = {'ok', seq}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all do
  out[#out + 1] = all[i]
end
return out
