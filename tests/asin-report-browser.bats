#!/usr/bin/env bats
# asin-report in a real browser: Debian's chromium, headless, driven by
# its own command line (no puppeteer), with the network off (a network
# namespace of its own where unshare works, a dead proxy and no name
# resolution otherwise; the page's Content-Security-Policy forbids fetches
# anyway).  The page must load with no console message, show every
# section given, and sort, filter and page its candidates; a test script
# appended to a copy of the page drives the controls and writes what it
# saw into the DOM, which --dump-dom prints.  Screenshots (desktop and
# phone width) and a print PDF are kept in build/asin-report/ for a person
# to look at.  Skips when no browser is installed (make deps installs
# chromium where apt-get can).
load helper

F="$FIXTURES/asin-report"

setup() {
	CHROME=$(command -v chromium || command -v chromium-browser ||
	    command -v google-chrome || true)
	[ -n "$CHROME" ] || skip "no browser: chromium is not installed (make deps installs it where apt-get works)"
	OUT="$BUILD_DIR/asin-report"
	mkdir -p "$OUT"
}

# browser ARGS...: headless chromium with the network off; console
# messages go to stderr as "...:INFO:CONSOLE:..." lines.
browser() {
	local net=()
	unshare -n true 2>/dev/null && net=(unshare -n)
	timeout 180 "${net[@]}" "$CHROME" --headless --no-sandbox --disable-gpu \
	    --no-first-run --no-default-browser-check --hide-scrollbars \
	    --user-data-dir="$BATS_TEST_TMPDIR/profile" \
	    --proxy-server=127.0.0.1:9 --host-resolver-rules='MAP * ~NOTFOUND' \
	    --enable-logging=stderr --v=0 "$@"
}

# no_console LOG: the browser log holds no console message from the page.
# Messages whose source is the browser's own UI (chrome://, as newer
# Chromium logs from its internal pages even headless) are not the page's.
no_console() {
	if grep -E ':CONSOLE[:(]|Uncaught' "$1" |
	    grep -vE 'source: (chrome|chrome-untrusted|devtools)://' >&2; then
		echo "console messages above" >&2
		return 1
	fi
}

full_page() {
	asin-report --days 10 --history "$F/history.ndjson" \
	    --uplift "$F/uplift.ndjson" --metrics "$F/eval" \
	    --model "$F/model.json" "$F/candidates.ndjson" -o "$1"
}

# with_probe PAGE SCRIPT: PAGE with SCRIPT run after the page's own,
# writing its findings into <pre id=probe>.
with_probe() {
	PROBE="$2" python3 -c '
import os, sys
page = open(sys.argv[1], encoding="utf-8").read()
probe = ("<script>(function(){var out=[];" + os.environ["PROBE"] +
    ";var p=document.createElement(\"pre\");p.id=\"probe\";"
    "p.textContent=out.join(\"\\n\");document.body.appendChild(p);})();"
    "</script></body>")
i = page.rindex("</body>")
sys.stdout.write(page[:i] + probe + page[i + 7:])' "$1"
}

# probe_result DOM: the text of <pre id=probe>.
probe_result() {
	sed -n '/<pre id="probe">/,/<\/pre>/p' "$1" | sed 's/.*<pre id="probe">//; s/<\/pre>.*//'
}

@test "browser: the console detector sees an error" {
	printf '<!DOCTYPE html><html><body><script>nosuch();</script></body></html>\n' >"$BATS_TEST_TMPDIR/bad.html"
	browser --dump-dom "file://$BATS_TEST_TMPDIR/bad.html" >/dev/null 2>"$BATS_TEST_TMPDIR/log"
	run no_console "$BATS_TEST_TMPDIR/log"
	assert_status 1
}

@test "browser: every section loads with no console message; screenshots and PDF kept" {
	full_page "$OUT/report.html"
	browser --dump-dom "file://$OUT/report.html" >"$BATS_TEST_TMPDIR/dom" 2>"$BATS_TEST_TMPDIR/log"
	no_console "$BATS_TEST_TMPDIR/log"
	for id in candidates experiments model cand-table exp-table metrics-table importance-table; do
		grep -q "id=\"$id\"" "$BATS_TEST_TMPDIR/dom" || { echo "no #$id"; return 1; }
	done
	# The script ran to its end: the loading class is gone, the count is its own.
	grep -q '^<html lang="en" class="">' "$BATS_TEST_TMPDIR/dom"
	grep -q '<output id="cand-count">6 of 6 shown</output>' "$BATS_TEST_TMPDIR/dom"
	assert_eq 3 "$(grep -o '<figure>' "$BATS_TEST_TMPDIR/dom" | wc -l)" figures
	# The title with markup is text in the DOM, not an element.
	grep -q '<small>&lt;script&gt;alert("x")&lt;/script&gt; Bob'"'"'s "best" &amp; co</small>' "$BATS_TEST_TMPDIR/dom"
	assert_eq 2 "$(grep -o '<script' "$BATS_TEST_TMPDIR/dom" | wc -l)" scripts
	rm -f "$OUT/report.png" "$OUT/report-phone.png" "$OUT/report.pdf"
	browser --screenshot="$OUT/report.png" --window-size=1280,3200 \
	    "file://$OUT/report.html" >/dev/null 2>"$BATS_TEST_TMPDIR/log"
	no_console "$BATS_TEST_TMPDIR/log"
	browser --screenshot="$OUT/report-phone.png" --window-size=390,3200 \
	    "file://$OUT/report.html" >/dev/null 2>"$BATS_TEST_TMPDIR/log"
	browser --print-to-pdf="$OUT/report.pdf" --no-pdf-header-footer \
	    "file://$OUT/report.html" >/dev/null 2>"$BATS_TEST_TMPDIR/log"
	[ "$(head -c 8 "$OUT/report.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ]
	[ "$(head -c 8 "$OUT/report-phone.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ]
	[ "$(head -c 5 "$OUT/report.pdf")" = "%PDF-" ]
}

@test "browser: sorting by a column and filtering by text and category" {
	full_page "$BATS_TEST_TMPDIR/r.html"
	with_probe "$BATS_TEST_TMPDIR/r.html" "
var t=document.getElementById('cand-table'),q=document.getElementById('cand-q'),c=document.getElementById('cand-cat'),n=document.getElementById('cand-count');
function vis(){return Array.prototype.filter.call(t.tBodies[0].rows,function(r){return !r.hidden&&!r.classList.contains('pg');}).map(function(r){return r.cells[1].querySelector('b').textContent;}).join(' ');}
function click(l){Array.prototype.forEach.call(t.tHead.rows[0].cells,function(th){var b=th.querySelector('button');if(b&&b.textContent===l)b.click();});}
function sortstate(){return Array.prototype.map.call(t.tHead.rows[0].cells,function(th){return th.getAttribute('aria-sort')||'-';}).join(',');}
out.push('initial: '+vis());
click('Score');out.push('score up: '+vis()+' | '+sortstate());
click('Score');out.push('score down: '+vis()+' | '+sortstate());
click('Price');out.push('price up: '+vis());
click('ASIN and title');out.push('asin up: '+vis());
q.value='TRAIN';q.dispatchEvent(new Event('input'));out.push('text train: '+vis()+' | '+n.textContent);
q.value='';q.dispatchEvent(new Event('input'));
c.value='Kitchen';c.dispatchEvent(new Event('change'));out.push('category Kitchen: '+vis()+' | '+n.textContent);
q.value='chef';q.dispatchEvent(new Event('input'));out.push('both: '+vis()+' | '+n.textContent)" >"$BATS_TEST_TMPDIR/p.html"
	browser --dump-dom "file://$BATS_TEST_TMPDIR/p.html" >"$BATS_TEST_TMPDIR/dom" 2>"$BATS_TEST_TMPDIR/log"
	no_console "$BATS_TEST_TMPDIR/log"
	assert_eq "initial: B000000006 B000000005 B000000004 B000000002 B000000001 B000000003
score up: B000000003 B000000005 B000000004 B000000001 B000000002 B000000006 | -,-,-,-,ascending,-,-,-,-,-,-,-
score down: B000000002 B000000001 B000000005 B000000004 B000000003 B000000006 | -,-,-,-,descending,-,-,-,-,-,-,-
price up: B000000002 B000000003 B000000001 B000000004 B000000005 B000000006
asin up: B000000001 B000000002 B000000003 B000000004 B000000005 B000000006
text train: B000000001 | 1 of 1 shown (6 in all)
category Kitchen: B000000004 B000000005 | 2 of 2 shown (6 in all)
both: B000000004 | 1 of 1 shown (6 in all)" "$(probe_result "$BATS_TEST_TMPDIR/dom")"
}

@test "browser: a long list shows 200 rows, then more, then all" {
	for i in $(seq 1 450); do
		printf '{"asin":"B%09d","marketplace":"US","date":"2024-01-01","category":"C%d","score":%d}\n' "$i" $((i % 2)) "$i"
	done >"$BATS_TEST_TMPDIR/c"
	asin-report "$BATS_TEST_TMPDIR/c" -o "$BATS_TEST_TMPDIR/r.html"
	with_probe "$BATS_TEST_TMPDIR/r.html" "
var n=document.getElementById('cand-count'),m=document.getElementById('cand-more'),a=document.getElementById('cand-all'),c=document.getElementById('cand-cat');
function shown(){return document.querySelectorAll('#cand-table tbody tr:not([hidden]):not(.pg)').length;}
function first(){return document.querySelector('#cand-table tbody tr:not([hidden]):not(.pg) b').textContent;}
out.push(shown()+' '+n.textContent+' more:'+!m.hidden+' '+first());
document.querySelectorAll('#cand-table th button')[4].click();out.push('score up: '+shown()+' '+first());
document.querySelectorAll('#cand-table th button')[4].click();out.push('score down: '+shown()+' '+first());
m.click();out.push(shown()+' '+n.textContent);
a.click();out.push(shown()+' '+n.textContent+' more:'+!m.hidden);
c.value='C1';c.dispatchEvent(new Event('change'));out.push(shown()+' '+n.textContent+' more:'+!m.hidden)" >"$BATS_TEST_TMPDIR/p.html"
	browser --dump-dom "file://$BATS_TEST_TMPDIR/p.html" >"$BATS_TEST_TMPDIR/dom" 2>"$BATS_TEST_TMPDIR/log"
	no_console "$BATS_TEST_TMPDIR/log"
	assert_eq "200 200 of 450 shown more:true B000000450
score up: 200 B000000001
score down: 200 B000000450
400 400 of 450 shown
450 450 of 450 shown more:false
200 200 of 225 shown (450 in all) more:true" "$(probe_result "$BATS_TEST_TMPDIR/dom")"
}
