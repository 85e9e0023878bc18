-- Removes a peer from a room, atomically, if the given node still holds it, with its resume
-- token and whatever was held for it after its node died.
-- KEYS: 1 room peers, 2 room nodes, 3 room seq, 4 rooms (ZSET), 5 node peers (SET),
--       6 room resume tokens (HASH), 7 the peer's held frames (LIST), 8 room held bytes (HASH),
--       9 (the reaper only) the node's record
-- ARGV: 1 room, 2 peer, 3 node
-- Returns {'alive'} | {'absent'} | {'ok', seq, node1, node2, ...}: the nodes still holding
-- members. 'alive': the reaper's node has a record again (it woke up): leave its peers alone.
if KEYS[9] and redis.call('EXISTS', KEYS[9]) == 1 then
  return {'alive'}
end
-- The seq key outlives an empty room by a day, so a room that comes back keeps counting up
-- and late events from its previous life are recognised as old.
local v = redis.call('HGET', KEYS[1], ARGV[2])
if not v or cjson.decode(v).node ~= ARGV[3] then
  return {'absent'}
end
redis.call('HDEL', KEYS[1], ARGV[2])
redis.call('HDEL', KEYS[6], ARGV[2])
redis.call('DEL', KEYS[7])
redis.call('HDEL', KEYS[8], ARGV[2])
if redis.call('HINCRBY', KEYS[2], ARGV[3], -1) <= 0 then
  redis.call('HDEL', KEYS[2], ARGV[3])
end
redis.call('SREM', KEYS[5], ARGV[1] .. '/' .. ARGV[2])
local seq = redis.call('INCR', KEYS[3])
local count = redis.call('HLEN', KEYS[1])
if count == 0 then
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[6], KEYS[8])
  redis.call('ZREM', KEYS[4], ARGV[1])
  redis.call('PEXPIRE', KEYS[3], 86400000)
else
  redis.call('ZADD', KEYS[4], count, ARGV[1])
end
local out = {'ok', seq}
local nodes = redis.call('HKEYS', KEYS[2])
for i = 1, #nodes do
  out[#out + 1] = nodes[i]
end
return out
