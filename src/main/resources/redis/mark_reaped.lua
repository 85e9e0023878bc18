-- Marks a node as reaped, if its record is still gone: the node, should it wake up, then knows
-- that its peers were announced as lost and its room state is stale.
-- KEYS: 1 the node's record, 2 the reaped marker
-- ARGV: 1 the reaping node, 2 marker lifetime in ms
-- Returns 1 if marked, 0 if the node is alive again.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return 1
