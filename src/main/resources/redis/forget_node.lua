-- Ends a reap: drops the dead node from sb:nodes once it has no record and no peers left, and
-- releases the reaper's lock if this reaper still holds it.
-- KEYS: 1 the node's record, 2 the node's peers (SET), 3 nodes (ZSET), 4 the reap lock
-- ARGV: 1 the node, 2 the reaping node
-- Returns 1 if the node was forgotten.
local forgotten = 0
if redis.call('EXISTS', KEYS[1]) == 0 and redis.call('SCARD', KEYS[2]) == 0 then
  redis.call('ZREM', KEYS[3], ARGV[1])
  forgotten = 1
end
if redis.call('GET', KEYS[4]) == ARGV[2] then
  redis.call('DEL', KEYS[4])
end
return forgotten
