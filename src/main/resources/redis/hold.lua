-- Holds a frame for a member whose node died (an orphan), until it resumes on another node
-- (move.lua takes what is held) or its window ends (the reaper's leave.lua drops it).
-- KEYS: 1 room peers, 2 the member's held frames (LIST), 3 room held bytes (HASH),
--       4 the dead node's reaped marker
-- ARGV: 1 peer, 2 the dead node, 3 the frame, 4 most frames held, 5 most bytes held,
--       6 how long the held frames may outlive the window, in ms (a backstop: leave drops them)
-- Returns {'held'} | {'absent'} | {'moved', node} | {'alive'} | {'full'}
-- 'moved': the member is on another node now (it resumed); 'alive': the node is not (yet)
-- declared dead; 'full': holding it would pass the bounds, so the member is to be treated as gone.
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then
  return {'absent'}
end
local node = cjson.decode(v).node
if node ~= ARGV[2] then
  return {'moved', node}
end
if redis.call('EXISTS', KEYS[4]) == 0 then
  return {'alive'}
end
local bytes = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0') + #ARGV[3]
if redis.call('LLEN', KEYS[2]) >= tonumber(ARGV[4]) or bytes > tonumber(ARGV[5]) then
  return {'full'}
end
redis.call('RPUSH', KEYS[2], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
redis.call('HSET', KEYS[3], ARGV[1], bytes)
redis.call('PEXPIRE', KEYS[3], ARGV[6])
return {'held'}
