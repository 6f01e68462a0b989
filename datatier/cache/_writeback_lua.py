"""The Lua scripts of write-back: each runs atomically inside Redis.

``WRITE`` acknowledges one update: it appends the operation to the stream and applies it to
the row's hash of absolute pending values in one step, so a crash leaves both or neither.
``ACK`` forgets what the database holds: stream entries up to the applied id, and the row
hashes whose last entry is among them. ``RENEW`` and ``RELEASE`` keep the flusher lock.
"""

from __future__ import annotations

__all__ = ["ACK", "RELEASE", "RENEW", "WRITE"]

# KEYS: stream, row hash, row generation, this write's done marker
# ARGV: mode ("try" | "base"), expected generation, entry, n ops,
#       then per op: field, kind ("set" | "int" | "float"), text, low, high ("" = no bound),
#       then n base values, then per base value: field, text
# Returns {"ok", stream id, hash as a flat list} | {"base", generation} (a base value from the
# database is needed) | {"retry", generation} (the base was read before a flush that changed
# the row: read it again) | {"range", field} (the pending value would leave the field's range).
# The done marker makes the script idempotent: a client library that sends it again after a
# lost reply (redis-py retries on connection errors) gets the first run's answer, not a
# second increment.
WRITE = """
local stream, row, genkey, done = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local prior = redis.call('GET', done)
if prior then return {'ok', prior, redis.call('HGETALL', row)} end
local exists = redis.call('EXISTS', row) == 1
local gen = redis.call('GET', genkey) or '0'
local nops = tonumber(ARGV[4])
local current = {}
local need = not exists
for i = 0, nops - 1 do
  local field, kind = ARGV[5 + i * 5], ARGV[6 + i * 5]
  if kind ~= 'set' then
    local value = false
    if exists then value = redis.call('HGET', row, field) end
    if value then current[field] = value else need = true end
  end
end
local base, frombase = {}, {}
if need then
  if ARGV[1] ~= 'base' then return {'base', gen} end
  if gen ~= ARGV[2] then return {'retry', gen} end
  local at = 5 + nops * 5
  for i = 1, tonumber(ARGV[at]) do
    base[ARGV[at + 2 * i - 1]] = ARGV[at + 2 * i]
  end
end
for i = 0, nops - 1 do
  local field, kind, text = ARGV[5 + i * 5], ARGV[6 + i * 5], ARGV[7 + i * 5]
  local low, high = ARGV[8 + i * 5], ARGV[9 + i * 5]
  if kind ~= 'set' then
    local value = current[field]
    if value == nil then
      value = base[field]
      if value == nil then return {'base', gen} end
      current[field] = value
      frombase[field] = true
    end
    if kind == 'int' and value ~= 'n' and low ~= '' then
      local result = tonumber(value) + tonumber(text)
      if result < tonumber(low) or result > tonumber(high) then return {'range', field} end
    elseif kind == 'float' and value ~= 'n' then
      local result = tonumber(value) + tonumber(text)
      if result ~= result or result == math.huge or result == -math.huge then
        return {'range', field}
      end
    end
  end
end
for field, value in pairs(current) do
  if frombase[field] then redis.call('HSET', row, field, value) end
end
local id = redis.call('XADD', stream, '*', 'r', row, 'e', ARGV[3])
for i = 0, nops - 1 do
  local field, kind, text = ARGV[5 + i * 5], ARGV[6 + i * 5], ARGV[7 + i * 5]
  if kind == 'set' then
    redis.call('HSET', row, field, text)
  elseif current[field] ~= 'n' then
    if kind == 'int' then
      redis.call('HINCRBY', row, field, text)
    else
      redis.call('HINCRBYFLOAT', row, field, text)
    end
  end
end
redis.call('HSET', row, '_last', id)
redis.call('SET', done, id, 'EX', 600)
return {'ok', id, redis.call('HGETALL', row)}
"""

# KEYS: stream
# ARGV: applied id, row hash prefix ("{ns}:wb:"), generation prefix ("{ns}:wb:gen:"),
#       generation lifetime in seconds
# Deletes the entries with id <= applied and the hashes of their rows whose last entry is
# <= applied (bumping each such row's generation); returns how many entries it removed.
# Running it twice for the same id changes nothing the second time.
ACK = """
local stream, applied = KEYS[1], ARGV[1]
local rowprefix, genprefix, lifetime = ARGV[2], ARGV[3], ARGV[4]
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq), ms
end
local am, as, amtext = parse(applied)
local function upto(id)
  local m, s = parse(id)
  return m < am or (m == am and s <= as)
end
local entries = redis.call('XRANGE', stream, '-', applied)
local rows = {}
for _, entry in ipairs(entries) do
  local fields = entry[2]
  for i = 1, #fields, 2 do
    if fields[i] == 'r' then rows[fields[i + 1]] = true end
  end
end
for row in pairs(rows) do
  local last = redis.call('HGET', row, '_last')
  if last and upto(last) then
    redis.call('DEL', row)
    local gen = genprefix .. string.sub(row, #rowprefix + 1)
    redis.call('INCR', gen)
    redis.call('EXPIRE', gen, lifetime)
  end
end
if #entries > 0 then
  redis.call('XTRIM', stream, 'MINID', amtext .. '-' .. string.format('%d', as + 1))
end
return #entries
"""

# KEYS: lock; ARGV: token, milliseconds. 1 when the lock is ours (and extended), else 0.
RENEW = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

# KEYS: lock; ARGV: token. Deletes the lock only if it is still ours.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
