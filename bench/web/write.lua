-- 50 concurrent writers: each request creates one person with a unique id
-- through POST /api/changes. Counts the answers by status.
local counter = 0
local threads = {}

function setup(thread)
    thread:set("tid", #threads + 1)
    table.insert(threads, thread)
end

function init(args)
    ok, failed = 0, 0
    -- Writers of several wrk processes at once give their ids a prefix each.
    prefix = args[1] or "p-bench"
end

function request()
    counter = counter + 1
    local id = string.format("%s-%d-%d", prefix, tid, counter)
    local body = string.format(
        '{"changes":[{"op":"create","record":{"type":"person","id":"%s","names":[{"text":"김영수","script":"hangul"}]}}]}', id)
    -- wrk.format replaces wrk.headers (from -H) when given headers: keep them.
    local headers = { ["Content-Type"] = "application/json" }
    for name, value in pairs(wrk.headers) do headers[name] = value end
    return wrk.format("POST", "/api/changes", headers, body)
end

function response(status, headers, body)
    if status == 200 then ok = ok + 1 else failed = failed + 1 end
end

function done(summary, latency, requests)
    local total_ok, total_failed = 0, 0
    for _, thread in ipairs(threads) do
        total_ok = total_ok + thread:get("ok")
        total_failed = total_failed + thread:get("failed")
    end
    io.write(string.format("writes answered 200: %d, other: %d\n", total_ok, total_failed))
end
