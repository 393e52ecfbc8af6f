#!/usr/bin/env bash
# The book in a real browser, both editions: build the English book into target/book and the
# Chinese one (book/po/zh-CN.po, through mdbook-gettext) into target/book/zh-CN with `just book zh`,
# serve them on a loopback port, open every page listed in book/src/SUMMARY.md in each
# edition in headless Chromium, and check what a reader would see:
#
#   - the page's title (the <title> mdBook writes from SUMMARY.md — in the Chinese edition, the
#     title's translation in zh-CN.po) and a heading;
#   - no raw `{{#` text (an include or directive mdBook did not expand);
#   - no empty code listing (what mdBook renders for an anchor it cannot find);
#   - at least one highlighted listing (highlight.js's `hljs` classes) on every page whose
#     source has code blocks, and highlighted Rust tokens on every page with ```rust blocks;
#   - the language switch (theme/language-switch.js) linking to the same page in the other
#     edition; and in the Chinese edition, Chinese text on the page.
#
# One screenshot per page goes to target/book-screenshots/NAME.png (English) and
# target/book-screenshots/zh-CN/NAME.png (Chinese) for people to look at.
# Exits non-zero naming each page that fails.
#
# Needs just, mdbook, mdbook-gettext (mdbook-i18n-helpers), python3 and Debian's chromium
# (`apt-get install -y chromium`).

set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

for tool in just mdbook mdbook-gettext python3 chromium; do
    if ! command -v "$tool" >/dev/null; then
        case $tool in
            chromium) hint="apt-get install -y chromium" ;;
            just) hint="cargo install --locked just" ;;
            mdbook) hint="cargo install --locked mdbook@0.5.4" ;;
            mdbook-gettext) hint="cargo install --locked mdbook-i18n-helpers@0.4.0" ;;
            *) hint="apt-get install -y python3" ;;
        esac
        echo "check-browser: $tool is not installed: run '$hint'" >&2
        exit 1
    fi
done

out_dir=target/book
shots=target/book-screenshots
work=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

echo "check-browser: building the book, both editions (just book zh)"
build_log="$work/build.log"
just book zh >"$build_log" 2>&1 || { cat "$build_log" >&2; echo "check-browser: just book zh failed" >&2; exit 1; }
if grep -E '(WARN|ERROR)' "$build_log" >&2; then
    echo "check-browser: just book zh printed warnings or errors (above)" >&2
    exit 1
fi
rm -rf "$shots"
mkdir -p "$shots/zh-CN"

# A free port on the loopback interface, and a static server on it.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$out_dir" "$port" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
    if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/index.html', timeout=1)" 2>/dev/null; then
        break
    fi
    sleep 0.1
done
base="http://127.0.0.1:$port"

chromium_run() {
    timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$(mktemp -d -p "$work")" "$@"
}

# "edition<TAB>file.md<TAB>Title" for every page of SUMMARY.md in each edition: "en" with the
# titles of SUMMARY.md, "zh-CN" with their translations in book/po/zh-CN.po.
pages=$(python3 - <<'EOF'
import re

def unquote(s):
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), s)

po, entry, field = {}, {}, None
for line in open("book/po/zh-CN.po", encoding="utf-8").read().splitlines() + [""]:
    m = re.match(r'(msgid|msgstr) "(.*)"$', line)
    if m:
        field = m.group(1)
        entry[field] = unquote(m.group(2))
    elif line.startswith('"') and field:
        entry[field] += unquote(line[1:-1])
    elif not line.strip():
        if entry.get("msgid") and entry.get("msgstr"):
            po[entry["msgid"]] = entry["msgstr"]
        entry, field = {}, None
for line in open("book/src/SUMMARY.md", encoding="utf-8"):
    for title, target in re.findall(r"\[([^\]]+)\]\(([^)#]+\.md)\)", line):
        print(f"en\t{target}\t{title}")
        print(f"zh-CN\t{target}\t{po.get(title, title)}")
EOF
)

failures=()
count=0
while IFS=$'\t' read -r edition md title; do
    [ -n "$md" ] || continue
    count=$((count + 1))
    name=${md%.md}
    # The page in this edition, and the same page in the other one (where the switch must lead).
    if [ "$edition" = en ]; then
        page=$name; url="$base/$name.html"; other="$base/zh-CN/$name.html"
    else
        page=$edition/$name; url="$base/$edition/$name.html"; other="$base/$name.html"
    fi
    tag=${page//\//-}
    dom="$work/$tag.dom.html"
    if ! chromium_run --dump-dom "$url" >"$dom" 2>"$work/$tag.chromium.log"; then
        failures+=("$page: chromium could not load $url (see its log: $(tail -n 3 "$work/$tag.chromium.log" | tr '\n' ' '))")
        continue
    fi
    chromium_run --screenshot="$shots/$page.png" --window-size=1280,2000 "$url" >/dev/null 2>>"$work/$tag.chromium.log" \
        || failures+=("$page: chromium could not take a screenshot of $url")
    problems=$(python3 - "$dom" "book/src/$md" "$title" "$edition" "$other" 2>"$work/$tag.stats" <<'EOF'
import html, re, sys
dom_path, md_path, title, edition, other = sys.argv[1:6]
dom = open(dom_path, encoding="utf-8").read()
src = open(md_path, encoding="utf-8").read()
problems = []

m = re.search(r"<title>(.*?)</title>", dom, re.S)
shown = html.unescape(m.group(1)).strip() if m else ""
if not shown.startswith(title + " - "):
    problems.append(f"its <title> is {shown!r}, expected {title!r} from SUMMARY.md")
main = re.search(r"<main\b.*?</main>", dom, re.S)
main = main.group(0) if main else ""
if not re.search(r"<h1\b", main):
    problems.append("it shows no heading")
if "{{#" in main:
    at = main.index("{{#")
    problems.append("raw mdBook directive text in the page: " + html.unescape(re.sub(r"<[^>]+>", "", main[at:at + 120])).split("\n")[0])

# mdBook puts its copy button inside <pre>, before <code>.
codes = re.findall(r"<pre\b[^>]*>(?:(?!</pre>).)*?<code\b([^>]*)>(.*?)</code>", main, re.S)
for attrs, body in codes:
    if not html.unescape(re.sub(r"<[^>]+>", "", body)).strip():
        problems.append(f"an empty code listing ({attrs.strip()}): an include that found nothing")
highlighted = [c for c in codes if re.search(r'class="[^"]*\bhljs\b', c[0])]
if (codes or re.search(r"^```", src, re.M)) and not highlighted:
    problems.append("no highlighted code listing (no <pre><code class=\"... hljs\">): did highlight.js run?")
if re.search(r"^```rust", src, re.M):
    rust = [b for a, b in highlighted if "language-rust" in a and 'class="hljs-' in b]
    if not rust:
        problems.append("no Rust listing with highlighted tokens (hljs-keyword, ...)")
switch = re.search(r'<a\b[^>]*\bid="language-switch"[^>]*>', dom)
href = re.search(r'\bhref="([^"]*)"', switch.group(0)) if switch else None
if not href:
    problems.append("no language switch (a#language-switch) in the menu bar: did theme/language-switch.js run?")
elif html.unescape(href.group(1)).split("#")[0] != other:
    problems.append(f"the language switch leads to {html.unescape(href.group(1))!r}, expected {other!r}")
if edition == "zh-CN" and not re.search(r"[\u4e00-\u9fff]", re.sub(r"<[^>]+>", "", main)):
    problems.append("no Chinese text on the page: was book/po/zh-CN.po applied?")
for p in problems:
    print(p)
print(f"{len(codes)} listings, {len(highlighted)} highlighted", file=sys.stderr)
EOF
)
    if [ -n "$problems" ]; then
        while IFS= read -r p; do failures+=("$page ($md): $p"); done <<<"$problems"
        echo "  ✗ $page — $(cat "$work/$tag.stats")"
    else
        echo "  ✓ $page — $(cat "$work/$tag.stats"), screenshot $shots/$page.png"
    fi
done <<<"$pages"

if [ "$count" -eq 0 ]; then
    echo "check-browser: no pages found in book/src/SUMMARY.md" >&2
    exit 1
fi
if [ "${#failures[@]}" -gt 0 ]; then
    echo "check-browser: ${#failures[@]} problem(s):" >&2
    printf '  %s\n' "${failures[@]}" >&2
    exit 1
fi
echo "check-browser: ok — $count pages (English and Chinese) render with their title, highlighted listings and the language switch; screenshots in $shots/"
