-- Creates a room's configuration ahead of its first peer, unless it has one.
-- KEYS: 1 room config (HASH)
-- ARGV: 1 mode (mesh or broadcast), 2 max peers, 3 media (p2p or sfu)
-- Returns 1 if created, 0 if the room was already configured.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'mode', ARGV[1], 'maxPeers', ARGV[2], 'media', ARGV[3])
return 1
