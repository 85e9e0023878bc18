-- Marks a node that left the cluster as reaped, before its record expires: deletes the record
-- (placement stops sending clients to it at once) and sets the reaped marker (the node, should it
-- be alive on the far side of a partition, learns at its next heartbeat that it must drop its
-- state). With ARGV[3] set, only if the record's heartbeat number is still the one seen then,
-- that is if the node has not written a heartbeat since it left.
-- KEYS: 1 the node's record, 2 the reaped marker
-- ARGV: 1 the reaping node, 2 marker lifetime in ms, 3 the heartbeat number seen, or ''
-- Returns 1 if marked, 0 if the node is heartbeating.
if ARGV[3] ~= '' and redis.call('HGET', KEYS[1], 'beat') ~= ARGV[3] then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return 1
