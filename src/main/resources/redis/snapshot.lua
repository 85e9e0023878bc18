-- Reads a room as it is now: its sequence number and every member, in one atomic step.
-- KEYS: 1 room peers (HASH), 2 room seq (STRING)
-- Returns {seq, peer1, member1, peer2, member2, ...}
local out = {tonumber(redis.call('GET', KEYS[2]) or '0')}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all do
  out[#out + 1] = all[i]
end
return out
