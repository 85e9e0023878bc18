-- Replaces a member's record (its published state changed), if the given node still holds it.
-- KEYS: 1 room peers, 2 room nodes, 3 room seq
-- ARGV: 1 peer, 2 node, 3 member JSON without "seq"
-- Returns {'absent'} | {'ok', seq, node1, node2, ...}
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v or cjson.decode(v).node ~= ARGV[2] then
  return {'absent'}
end
local seq = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], ARGV[1], '{"seq":' .. seq .. ',' .. string.sub(ARGV[3], 2))
local out = {'ok', seq}
local nodes = redis.call('HKEYS', KEYS[2])
for i = 1, #nodes do
  out[#out + 1] = nodes[i]
end
return out
