# Helpers shared by the scripts under bench/ (sourced, not run).

# A free loopback port, as the kernel hands them out (callers run it in
# $(...), a subshell, so it cannot remember what it handed out before).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits up to 30 s for $2 to answer 200; else shows the log $3 and exits
# ($1 names what was waited for).
wait_http() {
    local i
    for i in $(seq 600); do
        if [ "$(curl -s -o /dev/null -w '%{http_code}' "$2" 2>/dev/null)" = 200 ]; then return 0; fi
        sleep 0.05
    done
    echo "$(basename "$0"): $1 does not answer 200 at $2:" >&2
    cat "$3" >&2 2>/dev/null || true
    exit 1
}

# The two measured requests, written into the folder $1: `get.lua` (a GET of
# $query with a browser's headers and 3 cookies) and `post.lua` (a 2 KB JSON
# order); sets query, ua, cookie and body_bytes.
bench_requests() {
    local dir=$1
query='/shop/search?q=trail+running+shoes&category=footwear&sort=price_asc&page=2&size=42'
ua='Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36'
cookie='sid=3b5d5c3712955042212316173ccf37be; cart=5f0c1e2a-9b7d-4c3e-8a61-2d4f6e8b0a19; prefs=lang%3Den%2Ccurrency%3DEUR'
cat >"$dir/get.lua" <<EOF
wrk.method = "GET"
wrk.headers["User-Agent"] = "$ua"
wrk.headers["Accept"] = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
wrk.headers["Accept-Language"] = "en-GB,en;q=0.9"
wrk.headers["Cookie"] = "$cookie"
EOF
# A 2 KB order document, one line, as a browser's JSON.stringify sends it.
python3 - "$dir/order.json" <<'EOF'
import json, sys
lines = [
    {"sku": "RUN-TR%02d-%s" % (i, c), "title": "Trail shoe model %d, colour %s" % (i, c),
     "qty": 1 + i % 3, "price": round(39.5 + 7.25 * i, 2), "tax": 0.19, "gift": i % 2 == 0}
    for i, c in enumerate(["red", "blue", "black", "green", "grey", "white", "navy", "teal"])
]
doc = {
    "order": "A-2026-0004711", "created": "2026-03-14T10:22:31Z", "currency": "EUR",
    "customer": {"id": 90210, "name": "Alex Example", "email": "alex@example.org",
                 "phone": "+44 20 7946 0000", "newsletter": False},
    "ship_to": {"street": "12 Harbour Road", "city": "Bristol", "zip": "BS1 5TT", "country": "GB"},
    "lines": lines,
    "payment": {"method": "card", "brand": "mastercard", "last4": "5454", "3ds": True},
    "note": "Please ring twice; the parcel may be left with the neighbour at number 14.",
}
out = json.dumps(doc, separators=(",", ":"))
pad = 2048 - len(out) - len(',"ref":""')
doc["ref"] = "x" * max(pad, 0)
open(sys.argv[1], "w").write(json.dumps(doc, separators=(",", ":")))
EOF
{
    echo 'wrk.method = "POST"'
    echo 'wrk.headers["Content-Type"] = "application/json"'
    echo 'wrk.headers["Accept"] = "application/json"'
    echo "wrk.headers[\"User-Agent\"] = \"$ua\""
    printf 'wrk.body = [==[%s]==]\n' "$(cat "$dir/order.json")"
} >"$dir/post.lua"
body_bytes=$(wc -c <"$dir/order.json")
}
