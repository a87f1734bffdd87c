-- wrk script for bench/postbacks.py: each request a postback for a random prepared click with
-- a fresh txid, except every 10th, which repeats a txid this thread sent before (a duplicate).
-- Answers are counted by their JSON "status"; one JSON line at the end.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  clicks = {}
  for line in io.lines(args[1]) do table.insert(clicks, line) end
  secret, goal, run = args[2], args[3], args[4]
  n, sent_dupes = 0, 0
  ok, duplicate, other = 0, 0, 0
  math.randomseed(tid * 7919 + 17)
end

function request()
  n = n + 1
  local txid_n = n
  if n % 10 == 0 and n > 20 then
    txid_n = n - 1 - math.random(5, 15)
    if txid_n % 10 == 0 then txid_n = txid_n - 1 end  -- a slot that carried an original
    sent_dupes = sent_dupes + 1
  end
  local click = clicks[(tid * 100003 + txid_n * 7) % #clicks + 1]
  local path = "/postback?click_id=" .. click .. "&goal=" .. goal .. "&txid=" .. run .. "-" .. tid .. "-" ..
    txid_n .. "&secret=" .. secret
  return wrk.format("GET", path)
end

function response(status, headers, body)
  if body:find('"duplicate"', 1, true) then duplicate = duplicate + 1
  elseif status == 200 or status == 202 then ok = ok + 1
  else other = other + 1 end
end

function done(summary, latency, requests)
  local t = {ok = 0, duplicate = 0, other = 0, sent_dupes = 0}
  for _, thread in ipairs(threads) do
    for key, _ in pairs(t) do t[key] = t[key] + thread:get(key) end
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "ok": %d, "duplicate": %d, "other": %d, "sent_dupes": %d, "errors": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, t.ok, t.duplicate, t.other, t.sent_dupes,
    e.connect + e.read + e.write + e.timeout, summary.duration,
    latency:percentile(50), latency:percentile(99)))
end
