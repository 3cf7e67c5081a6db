-- wrk script for bench_search.py: POST /api/v1/search, rotating through request bodies.
--
--   wrk ... -s bench/search_rotate.lua http://127.0.0.1:PORT/api/v1/search -- BODIES TOKEN
--
-- BODIES is a file with one JSON request body per line ({"query": ..., "limit": 10}); each
-- wrk thread starts at its own random line and walks the file in order (wrapping around), so
-- a run sends as many distinct queries as it can. done() prints one machine-readable line:
-- BENCH p50 p95 p99 max (µs) requests duration (µs) non-2xx socket-errors timeouts.

local bodies = {}
local headers = {}
local pos = 0
local counter = 0

setup = function(thread)
  counter = counter + 1
  thread:set("tid", counter)
end

init = function(args)
  local path, token = args[1], args[2]
  for line in io.lines(path) do
    if #line > 0 then
      bodies[#bodies + 1] = line
    end
  end
  if #bodies == 0 then
    error("no request bodies in " .. tostring(path))
  end
  headers["Authorization"] = "Bearer " .. token
  headers["Content-Type"] = "application/json"
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
  pos = math.random(#bodies)
end

request = function()
  pos = pos % #bodies + 1
  return wrk.format("POST", nil, headers, bodies[pos])
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %d %d %d %d %d %d %d\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write, e.timeout))
end
