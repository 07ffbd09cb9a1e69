-- wrk script (issue #4): POST one small image as a raw body to /v1/analyze.
-- The file comes from the environment: HUEPOOL_PNG=/path/to/small.png (any
-- image; HUEPOOL_CONTENT_TYPE names its type, image/png by default).
-- bench/http_wrk.sh writes one with `http_bench --small-png`.
local path = os.getenv("HUEPOOL_PNG") or "small.png"
local f = assert(io.open(path, "rb"))
wrk.method = "POST"
wrk.path = "/v1/analyze?name=small.png"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = os.getenv("HUEPOOL_CONTENT_TYPE") or "image/png"

local non200 = 0
function response(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end

function done(summary, latency, requests)
  io.write(string.format("p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  max %.3f ms  errors(status) %d\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, summary.errors.status))
end
