-- Moves a member to another node (it resumed there), if the node it moves from still holds it:
-- handed over by that node, which checked the client's token; or, when KEYS[10] is given,
-- adopted from a node that died, checking the token here against the digest the dead node
-- wrote. The record stays as stored (identity, published state, join time: a state change the
-- old node wrote a moment ago is kept); only its node and its sequence number change, the new
-- number ordering the move among the room's other changes. The digest of the token the new
-- welcome carries replaces the old one, and what was held for the member (after its node died)
-- is taken, for the new node to send first. The room's kind comes back too: the new node did
-- not see the member join, and an sfu room's member must join its media room there.
-- KEYS: 1 room peers, 2 room nodes, 3 room seq, 4 node peers of the old node (SET),
--       5 node peers of the new node (SET), 6 room resume tokens (HASH), 7 the member's held
--       frames (LIST), 8 room held bytes (HASH), 9 room config (HASH), 10 (adopting only) the old
--       node's reaped marker
-- ARGV: 1 room, 2 peer, 3 old node, 4 new node, 5 the new token's digest ('' for none),
--       6 (adopting only) the digest of the token the client showed
-- Returns {'absent'} | {'alive'} | {'refused'} |
--         {'ok', seq, mode, media, n, frame1 .. frameN, peer1, member1, peer2, member2, ...}: the
--         room's kind, the held frames in order, then the room afterwards.
-- 'alive': the old node is not (yet) declared dead; 'refused': the token is not the member's.
local v = redis.call('HGET', KEYS[1], ARGV[2])
if not v or cjson.decode(v).node ~= ARGV[3] then
  return {'absent'}
end
if KEYS[10] then
  if redis.call('EXISTS', KEYS[10]) == 0 then
    return {'alive'}
  end
  if redis.call('HGET', KEYS[6], ARGV[2]) ~= ARGV[6] then
    return {'refused'}
  end
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
if ARGV[5] ~= '' then
  redis.call('HSET', KEYS[6], ARGV[2], ARGV[5])
else
  redis.call('HDEL', KEYS[6], ARGV[2])
end
local held = redis.call('LRANGE', KEYS[7], 0, -1)
redis.call('DEL', KEYS[7])
redis.call('HDEL', KEYS[8], ARGV[2])
local out = {'ok', seq, redis.call('HGET', KEYS[9], 'mode') or 'mesh',
  redis.call('HGET', KEYS[9], 'media') or 'p2p', #held}
for i = 1, #held do
  out[#out + 1] = held[i]
end
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all do
  out[#out + 1] = all[i]
end
return out
