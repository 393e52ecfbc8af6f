# minievent — libevent 2.1.12's core, read and rebuilt in Rust.
# `just` lists the recipes; README.md says which to run first.

set shell := ["bash", "-euo", "pipefail", "-c"]

# The C reference programs and their build flags (traces/reference/README.md).
reference_cflags := "-O2 -Wall -Wextra -Werror"

# List the recipes
default:
    @just --list --unsorted

# Read the book at http://localhost:3000, rebuilt whenever book/, src/, labs/ or traces/ change
serve:
    @mdbook serve book

# Build the book into target/book (what `serve` shows)
book:
    @mdbook build book

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

# Build traces/reference/*.c against the installed libevent into target/reference/
_reference-bins:
    #!/usr/bin/env bash
    set -euo pipefail
    if ! command -v gcc >/dev/null; then
        echo "error: gcc is not installed: run 'apt-get install gcc'" >&2; exit 1
    fi
    if ! pkg-config --exists libevent 2>/dev/null && [ ! -e /usr/include/event2/event.h ]; then
        echo "error: libevent's headers are missing: run 'apt-get install libevent-dev' (the reference programs link real libevent 2.1.12)" >&2; exit 1
    fi
    mkdir -p target/reference
    for src in traces/reference/*.c; do
        name=$(basename "$src" .c)
        gcc {{reference_cflags}} -o "target/reference/$name" "$src" -levent
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
    "${apt[@]}" update >/dev/null
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

# Regenerate the book's performance figures (book/src/perf/: results.csv, tables, plots) — prints its estimate first (about 10-15 min on an idle 2-core machine)
bench-book: _reference-bins
    cargo build -q --release --bins
    cargo run -q --release -p minievent-traces --bin bench -- --book --estimate
    cargo run -q --release -p minievent-traces --bin bench -- --book

# Regenerate the book's appendix E (libevent's API, covered) from book/coverage/map.txt, checking each row against src/; `just coverage --extract libevent-src/libevent-2.1.12-stable` re-extracts the function list after `just libevent-src`
coverage *FLAGS:
    @cargo run -q -p minievent-booklint --bin api-coverage -- book {{FLAGS}}

# Do lab N: build and test your file in labs/, and say what to read next
lab N:
    @cargo run -q -p minievent-labs -- lab {{N}}

# Every lab and its state (not started / failing / passing), found by running them
labs:
    @cargo run -q -p minievent-labs -- list

# The next hint for lab N (`--all` for every hint, `--reset` to start over)
hint N *FLAGS:
    @cargo run -q -p minievent-labs -- hint {{N}} {{FLAGS}}

# Everything CI checks: format, lints, tests, re-recorded libevent traces, the book, the labs
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
    cargo run -q -p minievent-booklint --bin api-coverage -- book --check
    bash book/check-browser.sh
