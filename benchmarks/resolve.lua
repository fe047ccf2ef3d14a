-- wrk script for the resolve benchmark (benchmarks/resolve_load.py).
--
-- Arguments (after "--"): a file of request paths, one a line, and a seed. Each request
-- takes a path at random from the file, so the load spreads over the whole directory. A
-- line may carry, after a tab, the value of an Authorization header for that request
-- ("Bearer <token>"): the mix of OAuth2 callers.
-- At the end one line "WRK_RESULT {json}" reports the totals, the latency percentiles
-- (microseconds) and how many responses had each HTTP status.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local paths = {}
local auths = {}

function init(args)
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    if #line > 0 then
      local path, auth = line:match("^([^\t]*)\t(.*)$")
      paths[#paths + 1] = path or line
      auths[#paths] = auth
    end
  end
  file:close()
  assert(#paths > 0, "the path file is empty")
  math.randomseed(tonumber(args[2] or "1") * 1000 + id)
  -- Global, so that done() can read it from each thread.
  statuses = {}
end

function request()
  local i = math.random(#paths)
  local auth = auths[i]
  if auth then
    return wrk.format("GET", paths[i], {Authorization = auth})
  end
  return wrk.format("GET", paths[i])
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      totals[status] = (totals[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(totals) do
    parts[#parts + 1] = string.format('"%d": %d', status, count)
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"duration_us": %d, "requests": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p95": %d, "p99": %d, "max": %d, "mean": %.1f}, ' ..
    '"statuses": {%s}}\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean,
    table.concat(parts, ", ")))
end
