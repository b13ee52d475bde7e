-- wrk script for scripts/bench-token: sends GET requests from a list, each with its own
-- Authorization header, and counts every answer that is not a 200 (with a body that contains
-- `want`, when given) as bad.
--
--   wrk ... -s rotate.lua URL -- LIST NTHREADS OFFSETS WANT
--
-- LIST      lines `path<TAB>authorization[<TAB>anything]`
-- NTHREADS  wrk's -t; thread k sends lines k, k+N, k+2N, … in order, then wraps around
-- OFFSETS   comma-separated start positions per thread (its own lines), e.g. from a warm-up
--           run, so that a "cold" run never repeats a credential; `-` for all zero
-- WANT      a string the body of a good answer contains (`-` for any 200)
--
-- done() prints one `RESULT key=value …` line (latencies in microseconds) and, when anything
-- was bad, one `BAD <status> <body start>` line.

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   local list, nthreads, offsets = args[1], tonumber(args[2]), args[3]
   want = args[4]
   if want == "-" then want = nil end
   reqs = {}
   local i = 0
   for line in io.lines(list) do
      if i % nthreads == id then
         local path, auth = line:match("^([^\t]*)\t([^\t]*)")
         reqs[#reqs + 1] = wrk.format("GET", path, { ["Authorization"] = auth })
      end
      i = i + 1
   end
   if #reqs == 0 then
      error("no requests for thread " .. id .. " in " .. list)
   end
   pos = 0
   if offsets and offsets ~= "-" then
      local k = 0
      for v in offsets:gmatch("[^,]+") do
         if k == id then pos = tonumber(v) end
         k = k + 1
      end
   end
   size = #reqs
   wrapped = 0
   bad = 0
   badsample = ""
end

function request()
   if pos >= size then wrapped = wrapped + 1 end
   local r = reqs[(pos % size) + 1]
   pos = pos + 1
   return r
end

function response(status, headers, body)
   if status ~= 200 or (want and not (body and body:find(want, 1, true))) then
      bad = bad + 1
      if badsample == "" then
         badsample = status .. " " .. string.sub((body or ""):gsub("%s+", " "), 1, 300)
      end
   end
end

function done(summary, latency, requests)
   local nbad, nwrapped, sample, offs = 0, 0, "", {}
   for _, t in ipairs(threads) do
      nbad = nbad + t:get("bad")
      nwrapped = nwrapped + t:get("wrapped")
      offs[#offs + 1] = tostring(t:get("pos"))
      if sample == "" then sample = t:get("badsample") end
   end
   local e = summary.errors
   io.write(string.format(
      "RESULT requests=%d duration_us=%d p50_us=%.0f p90_us=%.0f p99_us=%.0f max_us=%.0f "
         .. "bad=%d connect=%d read=%d write=%d timeout=%d status=%d wrapped=%d offsets=%s\n",
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max, nbad, e.connect, e.read, e.write, e.timeout,
      e.status, nwrapped, table.concat(offs, ",")))
   if sample ~= "" then io.write("BAD " .. sample .. "\n") end
end
