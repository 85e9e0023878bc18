-- Moves a member to another node (it resumed there), if the node it moves from still holds it.
-- The member keeps its identity, published state and join time; its record gets the new node
-- and a new sequence number, which orders the move among the room's other changes.
-- KEYS: 1 room peers, 2 room nodes, 3 room seq, 4 node peers of the old node (SET),
--       5 node peers of the new node (SET)
-- ARGV: 1 room, 2 peer, 3 old node, 4 new node, 5 member JSON without "seq"
-- Returns {'absent'} | {'ok', seq, peer1, member1, peer2, member2, ...}: the room afterwards.
local v = redis.call('HGET', KEYS[1], ARGV[2])
if not v or cjson.decode(v).node ~= ARGV[3] then
  return {'absent'}
end
local seq = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], ARGV[2], '{"seq":' .. seq .. ',' .. string.sub(ARGV[5], 2))
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
