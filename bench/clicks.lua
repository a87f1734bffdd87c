-- wrk script for bench/clicks.py: a browser-like request, 302s counted per thread, and one
-- JSON line at the end (requests, 302s, other statuses, socket errors, p99 in microseconds).
wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
wrk.headers["Referer"] = "https://blog.example.org/review"

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  found, other = 0, 0
end

function response(status, headers, body)
  if status == 302 then found = found + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local found_total, other_total = 0, 0
  for _, thread in ipairs(threads) do
    found_total = found_total + thread:get("found")
    other_total = other_total + thread:get("other")
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "found": %d, "other": %d, "errors": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, found_total, other_total, e.connect + e.read + e.write + e.timeout,
    summary.duration, latency:percentile(50), latency:percentile(99)))
end
