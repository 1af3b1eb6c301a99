-- wrk script: signed Creates to the shared inbox, each request a different activity.
-- BENCH_INBOX_FILE holds one request a line: Date, Digest, Signature and the body, tab-separated.
-- Thread n of t sends lines n, n + t, n + 2t...: no two requests repeat an activity id.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  requests = {}
  local me, total = tonumber(tid), tonumber(os.getenv("BENCH_THREADS"))
  local n = 0
  for line in io.lines(os.getenv("BENCH_INBOX_FILE")) do
    if n % total == me then
      local date, digest, signature, body = line:match("([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)")
      requests[#requests + 1] = wrk.format("POST", "/inbox", {
        ["Content-Type"] = "application/activity+json",
        ["Date"] = date, ["Digest"] = digest, ["Signature"] = signature,
      }, body)
    end
    n = n + 1
  end
end

request = function()
  counter = counter + 1
  return requests[((counter - 1) % #requests) + 1]
end
