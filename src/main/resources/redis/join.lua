-- Adds a peer to a room, atomically, and returns the room as it now is.
-- KEYS: 1 room peers (HASH), 2 room nodes (HASH), 3 room seq (STRING), 4 room config (HASH),
--       5 rooms (ZSET), 6 node peers (SET), 7 epoch (STRING), 8 room resume tokens (HASH)
-- ARGV: 1 room, 2 peer, 3 node, 4 member JSON without "seq", 5 default max peers, 6 the epoch
--       the node knows, 7 the digest of the resume token its welcome carries ('' for none),
--       8 the peer's role (peer, presenter or viewer), or '' for the room's default: viewer in a
--       broadcast room, peer in a mesh room. The member JSON then starts '{"role":"",' and the
--       role chosen is written there.
-- Returns {'epoch'} | {'taken'} | {'full'} | {'role'} | {'presenter-taken'} |
--         {'ok', seq, mode, media, role, peer1, member1, peer2, member2, ...}
-- 'role': the role does not fit the room's mode (a mesh room takes peers; a broadcast room, one
-- presenter and viewers); 'presenter-taken': the broadcast room has its presenter.
-- 'epoch': Redis lost its data since the node last looked, and the node's members are not
-- written back yet: a join now could reuse an id or overfill the room.
if redis.call('GET', KEYS[7]) ~= ARGV[6] then
  return {'epoch'}
end
if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 1 then
  return {'taken'}
end
local mode = redis.call('HGET', KEYS[4], 'mode') or 'mesh'
local role = ARGV[8]
local record = ARGV[4]
if role == '' then
  role = mode == 'broadcast' and 'viewer' or 'peer'
  local unset = '{"role":""'
  if string.sub(record, 1, #unset) ~= unset then
    return redis.error_reply('a join without a role must start its member JSON with ' .. unset)
  end
  record = '{"role":"' .. role .. '"' .. string.sub(record, #unset + 1)
end
if (mode == 'broadcast') == (role == 'peer') then
  return {'role'}
end
if role == 'presenter' then
  for _, record in ipairs(redis.call('HVALS', KEYS[1])) do
    if cjson.decode(record).role == 'presenter' then
      return {'presenter-taken'}
    end
  end
end
local max = tonumber(redis.call('HGET', KEYS[4], 'maxPeers') or ARGV[5])
local count = redis.call('HLEN', KEYS[1])
if count >= max then
  return {'full'}
end
local seq = redis.call('INCR', KEYS[3])
redis.call('PERSIST', KEYS[3])
redis.call('HSET', KEYS[1], ARGV[2], '{"seq":' .. seq .. ',' .. string.sub(record, 2))
redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
redis.call('ZADD', KEYS[5], count + 1, ARGV[1])
redis.call('SADD', KEYS[6], ARGV[1] .. '/' .. ARGV[2])
if ARGV[7] ~= '' then
  redis.call('HSET', KEYS[8], ARGV[2], ARGV[7])
end
local out = {'ok', seq, mode, redis.call('HGET', KEYS[4], 'media') or 'p2p', role}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all do
  out[#out + 1] = all[i]
end
return out
