-- wrk script: home timeline reads, rotating over the seeded viewers' tokens.
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do tokens[#tokens + 1] = line end
local counter = math.random(#tokens)

request = function()
  counter = counter + 1
  local token = tokens[(counter % #tokens) + 1]
  return wrk.format("GET", "/api/v1/timelines/home", { ["Authorization"] = "Bearer " .. token })
end
