-- wrk script: the signed-in home page, rotating over the seeded viewers' session cookies.
local cookies = {}
for line in io.lines(os.getenv("BENCH_COOKIES")) do cookies[#cookies + 1] = line end
local counter = math.random(#cookies)

request = function()
  counter = counter + 1
  local cookie = cookies[(counter % #cookies) + 1]
  return wrk.format("GET", "/home", {
    ["Cookie"] = "starling_session=" .. cookie,
    ["Accept"] = "text/html",
  })
end
