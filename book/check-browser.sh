#!/usr/bin/env bash
# The book in a real browser: build it, serve it on a loopback port, open every page listed in
# book/src/SUMMARY.md in headless Chromium, and check what a reader would see:
#
#   - the page's title (the <title> mdBook writes from SUMMARY.md) and a heading;
#   - no raw `{{#` text (an include or directive mdBook did not expand);
#   - no empty code listing (what mdBook renders for an anchor it cannot find);
#   - at least one highlighted listing (highlight.js's `hljs` classes) on every page whose
#     source has code blocks, and highlighted Rust tokens on every page with ```rust blocks.
#
# One screenshot per page goes to target/book-screenshots/NAME.png for people to look at.
# Exits non-zero naming each page that fails.
#
# Needs mdbook, python3 and Debian's chromium (`apt-get install -y chromium`).

set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

for tool in mdbook python3 chromium; do
    if ! command -v "$tool" >/dev/null; then
        case $tool in
            chromium) hint="apt-get install -y chromium" ;;
            mdbook) hint="cargo install --locked mdbook" ;;
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

echo "check-browser: building the book"
build_log="$work/build.log"
mdbook build book >"$build_log" 2>&1 || { cat "$build_log" >&2; echo "check-browser: mdbook build failed" >&2; exit 1; }
if grep -E '(WARN|ERROR)' "$build_log" >&2; then
    echo "check-browser: mdbook build printed warnings or errors (above)" >&2
    exit 1
fi
rm -rf "$shots"
mkdir -p "$shots"

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

# "file.md<TAB>Title" for every page of SUMMARY.md.
pages=$(python3 - <<'EOF'
import re
for line in open("book/src/SUMMARY.md", encoding="utf-8"):
    for title, target in re.findall(r"\[([^\]]+)\]\(([^)#]+\.md)\)", line):
        print(f"{target}\t{title}")
EOF
)

failures=()
count=0
while IFS=$'\t' read -r md title; do
    [ -n "$md" ] || continue
    count=$((count + 1))
    name=${md%.md}
    url="$base/$name.html"
    dom="$work/$name.dom.html"
    if ! chromium_run --dump-dom "$url" >"$dom" 2>"$work/$name.chromium.log"; then
        failures+=("$name: chromium could not load $url (see its log: $(tail -n 3 "$work/$name.chromium.log" | tr '\n' ' '))")
        continue
    fi
    chromium_run --screenshot="$shots/$name.png" --window-size=1280,2000 "$url" >/dev/null 2>>"$work/$name.chromium.log" \
        || failures+=("$name: chromium could not take a screenshot of $url")
    problems=$(python3 - "$dom" "book/src/$md" "$title" 2>"$work/$name.stats" <<'EOF'
import html, re, sys
dom_path, md_path, title = sys.argv[1:4]
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
for p in problems:
    print(p)
print(f"{len(codes)} listings, {len(highlighted)} highlighted", file=sys.stderr)
EOF
)
    if [ -n "$problems" ]; then
        while IFS= read -r p; do failures+=("$name ($md): $p"); done <<<"$problems"
        echo "  ✗ $name — $(cat "$work/$name.stats")"
    else
        echo "  ✓ $name — $(cat "$work/$name.stats"), screenshot $shots/$name.png"
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
echo "check-browser: ok — $count pages render with their title and highlighted listings; screenshots in $shots/"
