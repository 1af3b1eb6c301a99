-- wrk script: the load test's mixed workload (bench/load.py writes the files it reads).
--
-- Each request is drawn by weight from BENCH_LOAD_DIR/mix.txt ("kind weight" lines). wrk's
-- response() is not told which request it answers, so the request's kind and send time ride
-- in X-Request-Id, which the app echoes (web/timing.py); response() files the latency (a
-- 100-per-decade histogram) and the status under that kind. done() prints them as lines
-- "LOAD status <kind> <status> <count>" and "LOAD latency <kind> <bucket> <count>".
-- (Flat tables keyed kind * 1000 + status or bucket: wrk 4.1's thread:get() crashes on
-- nested tables.)
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } load_timespec;
int clock_gettime(int clock_id, load_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local clock = ffi.new("load_timespec")

local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) * 1e6 + tonumber(clock.tv_nsec) / 1e3
end

local dir = os.getenv("BENCH_LOAD_DIR")

local function lines(name)
  local out = {}
  for line in io.lines(dir .. "/" .. name) do out[#out + 1] = line end
  return out
end

local tokens = lines("tokens.txt")
local accounts = lines("accounts.txt")
local posts = lines("posts.txt")      -- favourited and boosted
local threads = lines("threads.txt")  -- read as threads, and replied to

-- The mix as a cumulative table: kinds[n], upto[n] (weights summed).
local kinds, upto, total = {}, {}, 0
for _, line in ipairs(lines("mix.txt")) do
  local kind, weight = line:match("^(%S+)%s+(%d+)$")
  total = total + tonumber(weight)
  kinds[#kinds + 1], upto[#upto + 1] = kind, total
end

-- Per thread, copied out by done(): [n * 1000 + status] and [n * 1000 + bucket] -> count,
-- n the kind's index (0: a response without our id).
statuses, latencies = {}, {}
kinds[0] = "untagged"
serial = 0

local function pick(list) return list[math.random(#list)] end

local function auth(token)
  return { ["Authorization"] = "Bearer " .. token, ["X-Request-Id"] = "" }
end

local function json_post(headers, body)
  headers["Content-Type"] = "application/json"
  return body
end

local builders = {
  home = function(h) return "GET", "/api/v1/timelines/home" end,
  public = function(h) return "GET", "/api/v1/timelines/public" end,
  account = function(h) return "GET", "/api/v1/accounts/" .. pick(accounts) end,
  account_posts = function(h) return "GET", "/api/v1/accounts/" .. pick(accounts) .. "/statuses" end,
  context = function(h) return "GET", "/api/v1/statuses/" .. pick(threads) .. "/context" end,
  post = function(h)
    return "POST", "/api/v1/statuses",
        json_post(h, '{"status":"load test post ' .. serial .. ' #loadtest"}')
  end,
  reply = function(h)
    return "POST", "/api/v1/statuses",
        json_post(h, '{"status":"load test reply ' .. serial .. '","in_reply_to_id":"'
          .. pick(threads) .. '"}')
  end,
  favourite = function(h) return "POST", "/api/v1/statuses/" .. pick(posts) .. "/favourite" end,
  reblog = function(h) return "POST", "/api/v1/statuses/" .. pick(posts) .. "/reblog" end,
}

local threads_seen = {}

setup = function(thread)
  thread:set("thread_number", #threads_seen + 1)
  threads_seen[#threads_seen + 1] = thread
end

init = function(args)
  math.randomseed(os.time() * 1000 + (thread_number or 0))
end

request = function()
  serial = serial + 1
  local roll, n = math.random(total), 1
  while upto[n] < roll do n = n + 1 end
  local kind = kinds[n]
  local headers = auth(pick(tokens))
  local method, path, body = builders[kind](headers)
  -- The app keeps an id of [A-Za-z0-9._:+=/-]: the kind's index and the send time in µs.
  headers["X-Request-Id"] = "L" .. n .. "." .. string.format("%.0f", now_us())
  return wrk.format(method, path, headers, body)
end

response = function(status, headers, body)
  local id = headers["x-request-id"] or headers["X-Request-Id"]
  local n, sent = nil, nil
  if id then n, sent = id:match("^L(%d+)%.(%d+)$") end
  local key = (n and tonumber(n) or 0) * 1000 + status
  statuses[key] = (statuses[key] or 0) + 1
  if not n then return end
  local us = math.max(now_us() - tonumber(sent), 1)
  key = tonumber(n) * 1000 + math.floor(100 * math.log10(us))
  latencies[key] = (latencies[key] or 0) + 1
end

done = function(summary, latency, requests)
  for _, thread in ipairs(threads_seen) do
    for what, counts in pairs({ status = thread:get("statuses"), latency = thread:get("latencies") }) do
      for key, count in pairs(counts) do
        local kind = kinds[math.floor(key / 1000)]
        io.write(string.format("LOAD %s %s %d %d\n", what, kind, key % 1000, count))
      end
    end
  end
end
