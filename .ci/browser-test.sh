#!/usr/bin/env bash
# Browser test of the HTML report: analyses samples/, then loads index.html, an agent page
# and a call page in headless Chromium (from disk, no network) and checks that there are no
# console messages (errors), that the plots are in the DOM, that the team table sorts, and
# that screenshots are of non-trivial size.
#
# Usage: .ci/browser-test.sh [OUT_DIR]   (screenshots are left in OUT_DIR, default a temp dir)
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

echo "== browser test: chromium and a Chinese font"
apt-get install -y -qq --no-install-recommends chromium fonts-wqy-microhei >/dev/null

out=${1:-$(mktemp -d)}
mkdir -p "$out"
cargo build --release -q
./target/release/agentvoice analyze samples -o "$out/report" >/dev/null
./target/release/agentvoice report "$out/report" >/dev/null

agent_page="$out/report/report/agents/张伟.html"
call_page=$(find "$out/report/report/calls/张伟" -name '*.html' | sort | head -n 1)
[ -f "$agent_page" ] || { echo "FAIL: no agent page $agent_page"; exit 1; }
[ -n "$call_page" ] || { echo "FAIL: no call page for 张伟"; exit 1; }

chrome() {
    chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$(mktemp -d)" --enable-logging=stderr --v=0 --hide-scrollbars "$@"
}

fail=0
check_page() { # name file min_svgs must_contain
    local name=$1 file=$2 min_svgs=$3 text=$4
    local dom="$out/$name.dom.html" log="$out/$name.log" shot="$out/$name.png"
    chrome --dump-dom "file://$file" >"$dom" 2>"$log" || true
    chrome --window-size=1200,1600 --screenshot="$shot" "file://$file" >/dev/null 2>>"$log" || true
    local svgs
    svgs=$(grep -o '<svg' "$dom" | wc -l)
    if grep -q ':CONSOLE' "$log"; then
        echo "FAIL: $name: console messages:"; grep ':CONSOLE' "$log"; fail=1
    fi
    if [ "$svgs" -lt "$min_svgs" ]; then
        echo "FAIL: $name: $svgs plots in the DOM, expected at least $min_svgs"; fail=1
    fi
    if ! grep -q "$text" "$dom"; then
        echo "FAIL: $name: '$text' not in the page"; fail=1
    fi
    local size
    size=$(stat -c %s "$shot" 2>/dev/null || echo 0)
    if [ "$size" -lt 30000 ]; then
        echo "FAIL: $name: screenshot $shot is $size bytes"; fail=1
    fi
    echo "$name: $svgs plots, screenshot $shot ($size bytes)"
}

check_page index "$out/report/index.html" 1 "张伟"
check_page agent "$agent_page" 5 "张伟"
check_page call "$call_page" 1 "Rolling speaking rate"

# Sorting: click the "Rate median" header of a copy of index.html and check the order.
sorttest="$out/report/sorttest.html"
cp "$out/report/index.html" "$sorttest"
cat >>"$sorttest" <<'EOF'
<script>
(function(){var t=document.querySelector('table.sortable');var ths=t.querySelectorAll('th');
var col=-1;ths.forEach(function(h,i){if(h.textContent.indexOf('Rate median')===0)col=i});
ths[col].click();var v=Array.prototype.map.call(t.tBodies[0].rows,function(r){
return parseFloat(r.cells[col].getAttribute('data-v'))}).filter(function(x){return !isNaN(x)});
var ok=v.length>1;for(var i=1;i<v.length;i++)if(v[i]<v[i-1])ok=false;
document.title=ok?'SORT-OK':'SORT-BAD '+v.join(',');})();
</script>
EOF
title=$(chrome --dump-dom "file://$sorttest" 2>/dev/null | grep -o '<title>[^<]*</title>' || true)
rm -f "$sorttest"
case "$title" in
    *SORT-OK*) echo "sorting: ok" ;;
    *) echo "FAIL: sorting: $title"; fail=1 ;;
esac

if [ "$fail" -ne 0 ]; then
    echo "browser test FAILED (pages and logs in $out)"
    exit 1
fi
echo "browser test passed (screenshots in $out)"
