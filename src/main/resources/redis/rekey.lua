-- A member resumed on the node that holds it: the digest of the token its new welcome carries
-- replaces the old one (so a resume after that node's death checks the right token), and the
-- room is read as it is now, for that welcome.
-- KEYS: 1 room peers (HASH), 2 room seq (STRING), 3 room resume tokens (HASH)
-- ARGV: 1 peer, 2 the node, 3 the new token's digest
-- Returns {seq, peer1, member1, peer2, member2, ...}, as snapshot.lua; the digest is written
-- only if the node still holds the member.
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v and cjson.decode(v).node == ARGV[2] then
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
end
local out = {tonumber(redis.call('GET', KEYS[2]) or '0')}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all do
  out[#out + 1] = all[i]
end
return out
