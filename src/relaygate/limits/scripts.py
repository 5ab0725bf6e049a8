"""The Lua scripts of the Redis limiter: one round trip per check, per finish, per renewal.

The same sliding windows as `memory.py`, kept in Redis hashes (bucket index → count, with
`sum`, `old` — the oldest bucket that may hold something — and `new`); slots are a sorted
set of lease ids scored by their expiry; the exact request log is a sorted set of call ids
scored by their time. Time is Redis's own (TIME), so every instance
agrees on it.
"""

NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS: one per meter. ARGV: lease id, lease ms, then per meter: type ('r' request log,
# 'w' token window, 'c' slots), limit, cost, bucket ms (a log: window ms), buckets. Returns {refused meter (0: none), retry ms (-1: never),
# then per meter: used, remaining, reset ms, bucket}.
CHECK = NOW + """
local lease, lease_ms = ARGV[1], tonumber(ARGV[2])
local out = {0, 0}
local looks = {}
local function field(n) return string.format('%d', n) end
for i = 1, #KEYS do
  local key, a = KEYS[i], 2 + (i - 1) * 5
  local kind, limit, cost = ARGV[a + 1], tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  local used, reset, bucket, retry = 0, 0, 0, nil
  if kind == 'c' then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
    used = redis.call('ZCARD', key)
    if used + cost > limit then retry = 1000 end
  elseif kind == 'r' then
    local window = tonumber(ARGV[a + 4])
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
    used = redis.call('ZCARD', key)
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    reset = window  -- (this call, if it passes)
    if oldest[2] then reset = tonumber(oldest[2]) + window - now end
    if used + cost > limit then
      local rank = used + cost - limit - 1
      local frees = redis.call('ZRANGE', key, rank, rank, 'WITHSCORES')
      retry = math.max(tonumber(frees[2]) + window - now, 1)
    end
  else
    local width, buckets = tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5])
    bucket = math.floor(now / width)
    local cutoff = bucket - buckets
    local st = redis.call('HMGET', key, 'sum', 'old', 'new')
    local old = bucket
    if st[1] then
      local new = tonumber(st[3])
      used, old = tonumber(st[1]), tonumber(st[2])
      if new < cutoff then
        redis.call('DEL', key)
        used, old = 0, bucket
      elseif old < cutoff then
        for b = old, cutoff - 1 do
          local v = redis.call('HGET', key, field(b))
          if v then
            used = used - tonumber(v)
            redis.call('HDEL', key, field(b))
          end
        end
        old = cutoff
        while old < new and redis.call('HEXISTS', key, field(old)) == 0 do old = old + 1 end
        redis.call('HSET', key, 'sum', used, 'old', old)
      end
    end
    reset = (old + buckets + 1) * width - now
    if used + cost > limit then
      if cost > limit then
        retry = -1
      else
        local freed, need = 0, used + cost - limit
        for b = old, bucket do
          local v = redis.call('HGET', key, field(b))
          if v then
            freed = freed + tonumber(v)
            if freed >= need then
              retry = (b + buckets + 1) * width - now
              break
            end
          end
        end
        retry = retry or 1000
      end
    end
  end
  looks[i] = {used, reset, bucket}
  if retry and out[1] == 0 then
    out[1], out[2] = i, retry
  end
end
for i = 1, #KEYS do
  local key, a = KEYS[i], 2 + (i - 1) * 5
  local kind, limit, cost = ARGV[a + 1], tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  local used, reset, bucket = looks[i][1], looks[i][2], looks[i][3]
  local remaining = limit - used
  if out[1] == 0 then
    remaining = remaining - cost
    if kind == 'c' then
      redis.call('ZADD', key, now + lease_ms, lease)
      redis.call('PEXPIRE', key, lease_ms * 2)
    elseif kind == 'r' then
      redis.call('ZADD', key, now, lease)
      redis.call('PEXPIRE', key, tonumber(ARGV[a + 4]) + 1000)
    else
      local width, buckets = tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5])
      redis.call('HINCRBY', key, field(bucket), cost)
      redis.call('HINCRBY', key, 'sum', cost)
      redis.call('HSET', key, 'new', bucket)
      redis.call('HSETNX', key, 'old', bucket)
      redis.call('PEXPIRE', key, (buckets + 1) * width + 1000)
    end
  end
  if remaining < 0 then remaining = 0 end
  out[#out + 1] = used
  out[#out + 1] = remaining
  out[#out + 1] = math.floor(reset)
  out[#out + 1] = bucket
end
out[2] = math.floor(out[2])
return out
"""

# KEYS: the token windows to settle, then the slot sets. ARGV: lease id, number of windows,
# then per window: bucket, delta.
FINISH = """
local lease, windows = ARGV[1], tonumber(ARGV[2])
for i = 1, #KEYS do
  local key = KEYS[i]
  if i <= windows then
    local bucket, delta = ARGV[1 + i * 2], tonumber(ARGV[2 + i * 2])
    if delta ~= 0 and redis.call('HEXISTS', key, bucket) == 1 then
      redis.call('HINCRBY', key, bucket, delta)
      redis.call('HINCRBY', key, 'sum', delta)
    end
  else
    redis.call('ZREM', key, lease)
  end
end
return 1
"""

# KEYS: slot sets; ARGV: lease ms, then the lease id held in each. Extends each lease that
# has not expired (ZADD XX: an expired one stays gone).
RENEW = NOW + """
local lease_ms = tonumber(ARGV[1])
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], 'XX', now + lease_ms, ARGV[i + 1])
  redis.call('PEXPIRE', KEYS[i], lease_ms * 2)
end
return 1
"""
