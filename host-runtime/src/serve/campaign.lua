-- The campaign tracker's rules (host-runtime/src/serve/campaign.rs) in
-- Redis, over every identity of one request, in one call (issue 14).
-- KEYS: per identity, its (client, template) key then its client key.
-- ARGV: window ms, min_repeats, distinct_extraction, extraction (0/1),
--       prompt hash (hex), score, rules (comma-separated).
-- Returns per identity: template new (0/1), count (0: not escalated), max
-- score, rules; then the same for the client entry.
-- Time comes from Redis, so the nodes' clocks need not agree.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local win = tonumber(ARGV[1])
local minr = tonumber(ARGV[2])
local distinct = tonumber(ARGV[3])
local extraction = ARGV[4] == '1'
local phash = ARGV[5]
local score = tonumber(ARGV[6])
local rules = ARGV[7]

local function split(s)
  local out = {}
  if s then for x in string.gmatch(s, '[^,]+') do out[#out + 1] = x end end
  return out
end

local function merge(have, add)
  local list = split(have)
  local set = {}
  for _, r in ipairs(list) do set[r] = true end
  for _, r in ipairs(split(add)) do
    if #list >= 16 then break end
    if not set[r] then set[r] = true; list[#list + 1] = r end
  end
  table.sort(list)
  return table.concat(list, ',')
end

local function template(key)
  local f = redis.call('HMGET', key, 'h', 'e', 'n', 's', 'r')
  local hits = {}
  for _, x in ipairs(split(f[1])) do
    local v = tonumber(x)
    if v > now - win then hits[#hits + 1] = v end
  end
  local esc, n, s, r = f[2] == '1', tonumber(f[3] or 0), tonumber(f[4] or 0), f[5] or ''
  if #hits == 0 then esc = false; s = 0; r = '' end
  if #hits >= minr then table.remove(hits, 1) end
  hits[#hits + 1] = now
  if score > s then s = score end
  r = merge(r, rules)
  local new, count = '0', 0
  if #hits >= minr then
    if esc then n = n + 1 else n = #hits; new = '1' end
    esc = true
    count = n
  end
  redis.call('HSET', key, 'h', table.concat(hits, ','), 'e', esc and '1' or '0', 'n', n, 's', tostring(s), 'r', r)
  redis.call('PEXPIRE', key, win)
  return {new, tostring(count), tostring(s), r}
end

local function client(key)
  local f = redis.call('HMGET', key, 'p', 'u', 'n', 's', 'r')
  local prompts = {}
  for _, x in ipairs(split(f[1])) do
    local ts, h = string.match(x, '^(%d+):(%x+)$')
    if ts then prompts[#prompts + 1] = {tonumber(ts), h} end
  end
  while #prompts > 0 and prompts[1][1] <= now - win do table.remove(prompts, 1) end
  local till, n, s, r = tonumber(f[2] or 0), tonumber(f[3] or 0), tonumber(f[4] or 0), f[5] or ''
  if till > 0 and till <= now then till = 0; s = 0; r = '' end
  if extraction then
    local found = false
    for _, p in ipairs(prompts) do
      if p[2] == phash then p[1] = now; found = true; break end
    end
    if not found then
      if #prompts >= distinct then table.remove(prompts, 1) end
      prompts[#prompts + 1] = {now, phash}
    end
    r = merge(r, rules)
    if score > s then s = score end
  end
  local new, count = '0', 0
  if till == 0 and #prompts >= distinct then
    till = now + win; n = #prompts; new = '1'
  elseif till > 0 and extraction then
    n = n + 1
  end
  if till > 0 then count = n end
  local enc = {}
  for i, p in ipairs(prompts) do enc[i] = string.format('%d:%s', p[1], p[2]) end
  redis.call('HSET', key, 'p', table.concat(enc, ','), 'u', string.format('%d', till), 'n', n, 's', tostring(s), 'r', r)
  redis.call('PEXPIRE', key, 2 * win)
  return {new, tostring(count), tostring(s), r}
end

local out = {}
for i = 1, #KEYS, 2 do
  for _, v in ipairs(template(KEYS[i])) do out[#out + 1] = v end
  if distinct > 0 then
    for _, v in ipairs(client(KEYS[i + 1])) do out[#out + 1] = v end
  else
    for _, v in ipairs({'0', '0', '0', ''}) do out[#out + 1] = v end
  end
end
return out
