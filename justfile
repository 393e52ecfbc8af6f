# minievent — libevent 2.1.12's core, read and rebuilt in Rust.
# `just` lists the recipes; README.md says which to run first.

set shell := ["bash", "-euo", "pipefail", "-c"]

# The C reference programs and their build flags (traces/reference/README.md).
reference_cflags := "-O2 -Wall -Wextra -Werror"

# The Chinese edition's build (book/po/README.md): the language mdbook-gettext translates into, and the book's title.
zh_env := "MDBOOK_BOOK__LANGUAGE=zh-CN MDBOOK_BOOK__TITLE='minievent：libevent 的事件循环，深入到系统调用'"

# List the recipes
default:
    @just --list --unsorted

# Read the book at http://localhost:3000, rebuilt when book/, src/, labs/ or traces/ change; `just serve 3001` for another port, `just serve zh` for the Chinese edition (中文) beside the English one
serve *ARGS:
    #!/usr/bin/env bash
    set -euo pipefail
    lang=""; port=3000
    for arg in {{ARGS}}; do
        case "$arg" in
            zh) lang=zh ;;
            *[!0-9]*|"") echo "error: '$arg' is neither a port nor an edition: 'just serve [zh] [PORT]', e.g. 'just serve', 'just serve 3001', 'just serve zh'" >&2; exit 2 ;;
            *) port=$arg ;;
        esac
    done
    if ! python3 -c "import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', $port))" 2>/dev/null; then
        echo "error: port $port is in use (another 'just serve'?): stop it, or pick another port: 'just serve $((port + 1))'" >&2; exit 1
    fi
    if [ -z "$lang" ]; then
        echo "serve: http://localhost:$port (the first build compiles the book's preprocessor; Ctrl-C stops)"
        exec mdbook serve book -p "$port"
    fi
    just _zh-tools
    # Each edition rebuilt into its own folder by `mdbook watch` (an English rebuild empties its
    # folder, so zh-CN/ cannot live inside it here); one server shows them as `just book zh` lays
    # them out: English at /, Chinese at /zh-CN/. No live reload: refresh the page.
    en=target/book-serve/en; zh=target/book-serve/zh-CN
    mkdir -p "$en" "$zh"
    mdbook build book -d "$en"
    env {{zh_env}} mdbook build book -d "$zh"
    pids=()
    trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
    mdbook watch book -d "$en" & pids+=($!)
    env {{zh_env}} mdbook watch book -d "$zh" & pids+=($!)
    echo "serve: English at http://localhost:$port/, 中文 at http://localhost:$port/zh-CN/ (Ctrl-C stops)"
    python3 - "$en" "$zh" "$port" <<'PY'
    import functools, http.server, os, sys
    en, zh = (os.path.abspath(d) for d in sys.argv[1:3])
    class Editions(http.server.SimpleHTTPRequestHandler):
        def translate_path(self, path):
            if path == "/zh-CN" or path.startswith("/zh-CN/"):
                self.directory = zh
                path = path[len("/zh-CN"):] or "/"
            return super().translate_path(path)
        def log_message(self, *args):
            pass
    http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[3])), functools.partial(Editions, directory=en)).serve_forever()
    PY

# Build the book into target/book (what `serve` shows); `just book zh` adds the Chinese edition in target/book/zh-CN
book LANG="":
    #!/usr/bin/env bash
    set -euo pipefail
    case "{{LANG}}" in
        "") exec mdbook build book ;;
        zh) ;;
        *) echo "error: there is no '{{LANG}}' edition: 'just book' for English, 'just book zh' for Chinese (中文)" >&2; exit 1 ;;
    esac
    just _zh-tools
    mdbook build book
    env {{zh_env}} mdbook build book -d target/book/zh-CN

# Run the test suite: the library, the trace snapshots, the parity checks with libevent — and, with libevent-dev installed, the tests that run the walk-through post's C servers
test:
    @cargo test
    @if [ -e /usr/include/event2/event.h ]; then just _reference-bins && cargo test -q --test echo_servers -- --ignored; else echo "note: the tests of the walk-through post's bugs (cargo test --test echo_servers -- --ignored) need libevent-dev; skipped"; fi

# Run a scenario under strace and print its normalized trace (`just trace step3`; add --libevent for the C twin, --raw for strace's own output)
trace NAME *FLAGS:
    @cargo build -q --bins
    @if [[ " {{FLAGS}} " == *" --libevent "* ]]; then just _reference-bins; fi
    @cargo run -q -p minievent-traces --bin trace -- run {{NAME}} {{FLAGS}}

# List the trace scenarios
traces:
    @cargo run -q -p minievent-traces --bin trace -- list

# Annotate every trace with the function that made each syscall (strace -k): builds minievent with frame pointers into target/annotate, records each scenario of minievent and of libevent, writes traces/annotated/ (`just annotate step3`; `--check` compares instead)
annotate *ARGS: _reference-bins
    RUSTFLAGS="-C force-frame-pointers=yes" CARGO_TARGET_DIR=target/annotate cargo build -q --bins
    cargo run -q -p minievent-traces --bin trace -- annotate --bin-dir target/annotate/debug {{ARGS}}

# Rebuild the C reference programs (real libevent) and re-record their traces into traces/libevent/
reference: _reference-bins
    @cargo run -q -p minievent-traces --bin trace -- record

# Prove traces/libevent/ is real: rebuild the C programs, re-record every scenario into a temp folder, compare (header lines aside)
check-reference: _reference-bins
    #!/usr/bin/env bash
    set -euo pipefail
    tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
    cargo run -q -p minievent-traces --bin trace -- record --out "$tmp" >/dev/null
    status=0
    for fresh in "$tmp"/*.trace; do
        committed="traces/libevent/$(basename "$fresh")"
        if [ ! -f "$committed" ]; then
            echo "error: $committed is missing: run 'just reference' and commit it" >&2; status=1
        elif ! diff -u --label "$committed" --label "fresh recording" <(grep -v '^#' "$committed") <(grep -v '^#' "$fresh"); then
            echo "error: $committed differs from a fresh recording of real libevent (diff above)" >&2; status=1
        fi
    done
    [ "$status" = 0 ] && echo "traces/libevent: $(ls "$tmp" | wc -l) scenarios re-recorded, all identical"
    exit "$status"

# Build traces/reference/*.c against the installed libevent into target/reference/ (in $CARGO_TARGET_DIR when set)
_reference-bins:
    #!/usr/bin/env bash
    set -euo pipefail
    if ! command -v gcc >/dev/null; then
        echo "error: gcc is not installed: run 'apt-get install gcc'" >&2; exit 1
    fi
    if ! pkg-config --exists libevent 2>/dev/null && [ ! -e /usr/include/event2/event.h ]; then
        echo "error: libevent's headers are missing: run 'apt-get install libevent-dev' (the reference programs link real libevent 2.1.12)" >&2; exit 1
    fi
    # Where the harness looks for them: $CARGO_TARGET_DIR (relative: from here), else target.
    out="${CARGO_TARGET_DIR:-target}/reference"
    mkdir -p "$out"
    for src in traces/reference/*.c; do
        name=$(basename "$src" .c)
        gcc {{reference_cflags}} -o "$out/$name" "$src" -levent
    done

# Download libevent 2.1.12's source from Debian's archive and unpack it into libevent-src/ (git-ignored), to read beside the book
libevent-src:
    #!/usr/bin/env bash
    set -euo pipefail
    dest=libevent-src
    if [ -f "$dest/libevent-2.1.12-stable/event.c" ]; then
        echo "libevent 2.1.12 is already in $dest/libevent-2.1.12-stable"; exit 0
    fi
    if ! command -v apt-get >/dev/null || [ ! -r /etc/os-release ]; then
        echo "error: this recipe uses Debian's archive through apt-get; on another system download libevent-2.1.12-stable.tar.gz from libevent's releases and unpack it into $dest/" >&2; exit 1
    fi
    . /etc/os-release
    suite=${VERSION_CODENAME:?error: /etc/os-release names no Debian codename}
    # A private apt configuration (its own sources list, lists and cache in a temp folder), so the
    # system's apt setup is neither needed nor changed.
    tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
    mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial"
    echo "deb-src http://deb.debian.org/debian $suite main" > "$tmp/sources.list"
    apt=(apt-get -q -o "Dir::Etc::SourceList=$tmp/sources.list" -o Dir::Etc::SourceParts=/nonexistent
         -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache" -o Debug::NoLocking=1
         -o "APT::Sandbox::User=$(id -un)")
    if ! "${apt[@]}" update >"$tmp/update.log" 2>&1 || grep -q '^\(Err\|W: Failed\)' "$tmp/update.log"; then
        echo "error: could not reach Debian's archive (deb.debian.org) to download libevent's source: check the network, or download libevent-2.1.12-stable.tar.gz from libevent's releases and unpack it into $dest/" >&2
        sed 's/^/  apt: /' "$tmp/update.log" | grep -i 'err\|fail' | head -n 3 >&2 || true
        exit 1
    fi
    (cd "$tmp" && "${apt[@]}" source --download-only libevent >/dev/null)
    orig=$(ls "$tmp"/libevent_2.1.12-stable.orig.tar.gz 2>/dev/null) || {
        echo "error: Debian $suite does not ship libevent 2.1.12 (found: $(ls "$tmp" | grep -m1 orig || echo nothing))" >&2; exit 1; }
    mkdir -p "$dest"
    tar -xzf "$orig" -C "$dest"
    echo "libevent 2.1.12-stable unpacked into $dest/libevent-2.1.12-stable (start with event.c, evmap.c, epoll.c)"

# Load-test an echo server: 300 connections at once, payloads up to 8 MiB, slow and late readers, half-closes, every byte and every fd checked; then 60 clients against the server limited to 32 fds: no spinning, few log lines, all served (`just stress echo_bufferevent`; --case load|fd-exhaustion; --libevent runs the walk-through post's C server, which loses bytes and exits when out of fds; `just stress x --help` for the options)
stress NAME *FLAGS:
    cargo build -q --release --bins
    if [[ " {{FLAGS}} " == *" --libevent "* ]]; then just _reference-bins; fi
    cargo run -q --release -p minievent-traces --bin stress -- {{NAME}} {{FLAGS}}

# minievent against libevent on libevent's own benchmarks (bench.c, bench_cascade.c), timers, the echo servers and their memory, in one run, with progress; results, tables and SVG plots into <target>/bench/ (`just bench --quick`; `just bench pipes --backends poll,select`; `just bench --help`)
bench *FLAGS: _reference-bins
    cargo build -q --release --bins
    cargo run -q --release -p minievent-traces --bin bench -- {{FLAGS}}

# Regenerate book/coverage/libevent-functions.txt (every function of libevent 2.1.12: file, name, lines) from libevent-src/, which the book's C-beside-Rust preprocessor and linter read; `--check` compares instead
libevent-index *FLAGS:
    @cargo run -q -p minievent-booklint --bin book-preprocessor -- index {{FLAGS}}

# Regenerate the book's performance figures (book/src/perf/: results.csv, tables, plots) — prints its estimate first (about 10-15 min on an idle 2-core machine)
bench-book: _reference-bins
    cargo build -q --release --bins
    cargo run -q --release -p minievent-traces --bin bench -- --book --estimate
    cargo run -q --release -p minievent-traces --bin bench -- --book

# Regenerate the book's appendix E (libevent's API, covered) from book/coverage/map.txt, checking each row against src/; `just coverage --extract libevent-src/libevent-2.1.12-stable` re-extracts the function list after `just libevent-src`
coverage *FLAGS:
    @cargo run -q -p minievent-booklint --bin api-coverage -- book {{FLAGS}}

# Regenerate book/po/messages.pot from the English chapters and merge it into book/po/zh-CN.po: changed paragraphs become fuzzy, new ones untranslated (then edit zh-CN.po; `just zh-check` counts what is left)
zh-update: _zh-tools
    #!/usr/bin/env bash
    set -euo pipefail
    just _zh-pot book/po
    msgmerge --quiet --update --backup=none --previous --no-wrap book/po/zh-CN.po book/po/messages.pot
    msgfmt --statistics --output-file=/dev/null book/po/zh-CN.po

# Check the Chinese edition is complete: every message of the current English chapters translated in book/po/zh-CN.po, none fuzzy
zh-check: _zh-tools
    #!/usr/bin/env bash
    set -euo pipefail
    tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
    just _zh-pot "$tmp"
    msgmerge --quiet --no-wrap --output-file="$tmp/zh-CN.po" book/po/zh-CN.po "$tmp/messages.pot"
    stats=$(LC_ALL=C msgfmt --statistics --output-file=/dev/null "$tmp/zh-CN.po" 2>&1)
    count() { grep -oE "[0-9]+ $1" <<<"$stats" | grep -oE '^[0-9]+' || echo 0; }
    translated=$(count "translated message"); fuzzy=$(count "fuzzy translation"); untranslated=$(count "untranslated message")
    if [ "$fuzzy" != 0 ] || [ "$untranslated" != 0 ]; then
        echo "error: the Chinese edition is behind the English one: $fuzzy fuzzy and $untranslated untranslated of $((translated + fuzzy + untranslated)) messages" >&2
        echo "       run 'just zh-update' (mdbook-xgettext, then msgmerge into book/po/zh-CN.po), translate the empty msgstr entries" >&2
        echo "       and fix the ones marked '#, fuzzy' (then delete that mark) in book/po/zh-CN.po; book/po/README.md has the terms" >&2
        exit 1
    fi
    if ! cmp -s <(grep -v '^"POT-Creation-Date' book/po/messages.pot) <(grep -v '^"POT-Creation-Date' "$tmp/messages.pot"); then
        echo "error: book/po/messages.pot is not the one the English chapters give: run 'just zh-update' and commit it" >&2
        exit 1
    fi
    echo "zh-check: all $translated messages of the Chinese edition translated, none fuzzy"

# Extract the English book's messages into DIR/messages.pot (mdbook-xgettext, `{{#include}}` lines unexpanded, as mdbook-gettext sees them)
_zh-pot DIR:
    #!/usr/bin/env bash
    set -euo pipefail
    MDBOOK_BUILD__USE_DEFAULT_PREPROCESSORS=false \
    MDBOOK_OUTPUT='{"xgettext": {"pot-file": "messages.pot", "granularity": 0}}' \
        mdbook build book -d "$(realpath -m "{{DIR}}")" >/dev/null 2>"{{DIR}}/xgettext.log" \
        || { cat "{{DIR}}/xgettext.log" >&2; echo "error: mdbook-xgettext failed (above)" >&2; exit 1; }
    rm -f "{{DIR}}/xgettext.log"

# The Chinese edition's tools: mdbook-i18n-helpers (mdbook-gettext, mdbook-xgettext) and GNU gettext (msgmerge, msgfmt)
_zh-tools:
    #!/usr/bin/env bash
    set -euo pipefail
    if ! command -v mdbook-gettext >/dev/null || ! command -v mdbook-xgettext >/dev/null; then
        echo "error: mdbook-gettext is not installed: run 'cargo install --locked mdbook-i18n-helpers@0.4.0' (0.4 is the release for mdbook 0.5)" >&2; exit 1
    fi
    if ! command -v msgmerge >/dev/null || ! command -v msgfmt >/dev/null; then
        echo "error: GNU gettext is not installed: run 'apt-get install gettext' (msgmerge and msgfmt)" >&2; exit 1
    fi

# Do lab N: build and test your file in labs/, and say what to read next
lab N:
    @cargo run -q -p minievent-labs -- lab {{N}}

# Every lab and its state (not started / failing / passing), found by running them
labs:
    @cargo run -q -p minievent-labs -- list

# The next hint for lab N (`--all` for every hint, `--reset` to start over)
hint N *FLAGS:
    @cargo run -q -p minievent-labs -- hint {{N}} {{FLAGS}}

# Everything CI checks: format, lints, tests, re-recorded libevent traces, the book in both editions, the labs
ci:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
    INSTA_UPDATE=no cargo test
    just _reference-bins
    cargo test -q --test echo_servers -- --ignored
    cargo test -q -p minievent-labs -p minievent-labs-splice -p minievent-labs-kit
    cargo run -q -p minievent-labs -- check
    just check-reference
    cargo run -q -p minievent-booklint -- book
    just annotate --check
    if [ -f libevent-src/libevent-2.1.12-stable/event.c ]; then just libevent-index --check; else echo "note: libevent-src/ absent: the function index was checked by booklint only (just libevent-src, then just libevent-index --check)"; fi
    cargo run -q -p minievent-booklint --bin api-coverage -- book --check
    just zh-check
    bash book/check-browser.sh
