#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ under AddressSanitizer and runs each for a fixed
# number of inputs, one after another, in one process each (no forks, no parallel jobs).
#
#   scripts/fuzz.sh                 every target, 1 000 000 inputs each
#   scripts/fuzz.sh 20000           every target, 20 000 inputs each (a quick check)
#   scripts/fuzz.sh 200000 png idx  only these targets
#
# Extra libFuzzer flags go in FUZZ_ARGS, e.g. FUZZ_ARGS=-len_control=0 to try inputs up to
# -max_len from the start instead of letting their length grow slowly.
#
# Targets: idx amat cifar gzip png checkpoint safetensors. Seeds are generated afresh into
# .build-fuzz/seeds/; the corpus grows in .build-fuzz/corpus/<target>/ and crash, timeout and
# out-of-memory inputs land in .build-fuzz/findings/<target>/ (all ignored by git). Reproduce
# one with `.build-fuzz/release/fuzz-<target> FILE`. Exits non-zero on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=1000000
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then runs=$1; shift; fi
all=(idx amat cifar gzip png checkpoint safetensors)
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=("${all[@]}")
for t in "${targets[@]}"; do
    [[ " ${all[*]} " == *" ${t#fuzz-} "* ]] || { echo "unknown target $t (known: ${all[*]})" >&2; exit 2; }
done

scratch=.build-fuzz
echo "== building Fuzz/ with -sanitize=fuzzer,address (release: -O, safety checks kept)"
swift build -c release --package-path Fuzz --scratch-path "$scratch" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
bin="$scratch/release"

echo "== writing seeds"
rm -rf "$scratch/seeds"
python3 - "$scratch/seeds" <<'PY'
import gzip, os, struct, sys, zlib
root = sys.argv[1]
def put(target, name, data):
    os.makedirs(f"{root}/{target}", exist_ok=True)
    with open(f"{root}/{target}/{name}", "wb") as f:
        f.write(data)
def gz(data):
    return gzip.compress(data, mtime=0)

# IDX: images (magic 0x803) and labels (0x801), plain and gzip.
def idx_images(n, r, c):
    return struct.pack(">IIII", 0x803, n, r, c) + bytes((i * 37) % 256 for i in range(n * r * c))
def idx_labels(labels):
    return struct.pack(">II", 0x801, len(labels)) + bytes(labels)
for name, data in [("img-2x3x4", idx_images(2, 3, 4)), ("img-1x28x28", idx_images(1, 28, 28)),
                   ("img-0", idx_images(0, 28, 28)), ("lab-5", idx_labels([7, 2, 1, 0, 4])), ("lab-0", idx_labels([]))]:
    put("idx", name, data)
    put("idx", name + ".gz", gz(data))

# .amat: one binary image per line.
for name, text in [("small", "0 1 0\n1 1 0\n"), ("floats", "0.0 1.000 1e0\n0 0 1\n"),
                   ("crlf", "1 0\r\n0 1\r\n\r\n"), ("row", " ".join("01"[i % 3 == 0] for i in range(784)) + "\n")]:
    put("amat", name, text.encode())
    put("amat", name + ".gz", gz(text.encode()))

# CIFAR-10: records of one label byte and 3x32x32 pixels.
record = lambda label: bytes([label]) + bytes((i * 7) % 256 for i in range(3072))
put("cifar", "one", record(3))
put("cifar", "two.gz", gz(record(9) + record(0)))

# gzip: members, concatenations, stored blocks, plain bytes.
put("gzip", "text.gz", gz(b"hello, world\n" * 20))
put("gzip", "two-members.gz", gz(b"first ") + gz(b"second"))
put("gzip", "empty.gz", gz(b""))
put("gzip", "stored.gz", gzip.compress(bytes(range(256)), compresslevel=0, mtime=0))
put("gzip", "plain", b"not compressed at all")
put("gzip", "zeros.gz", gz(bytes(100000)))

# PNG: every colour type and bit depth, every filter type, palettes with and without tRNS.
def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
def png(w, h, depth, colour, rows, extra=b"", interlace=0):
    ihdr = struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, interlace)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
samples = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
def image(w, h, depth, colour, extra=b""):
    row_bytes = (w * samples[colour] * depth + 7) // 8
    rows = b"".join(bytes([y % 5]) + bytes((x * 31 + y * 17) % 256 for x in range(row_bytes)) for y in range(h))
    return png(w, h, depth, colour, rows, extra)
for colour, depths in {0: [1, 2, 4, 8, 16], 2: [8, 16], 4: [8, 16], 6: [8, 16]}.items():
    for depth in depths:
        put("png", f"c{colour}-d{depth}.png", image(5, 4, depth, colour))
palette = chunk(b"PLTE", bytes(range(48)))
for depth in [1, 2, 4, 8]:
    put("png", f"palette-d{depth}.png", image(3, 3, depth, 3, palette))
put("png", "palette-trns.png", image(4, 2, 4, 3, palette + chunk(b"tRNS", bytes([0, 128, 255]))))
put("png", "text-chunk.png", image(2, 2, 8, 0, chunk(b"tEXt", b"Comment\x00fuzz")))
put("png", "interlaced.png", png(1, 1, 8, 0, b"\x00\x00", interlace=1))
PY
ASAN_OPTIONS=detect_leaks=0 AUTOREG_FUZZ_WRITE_SEEDS="$scratch/seeds/checkpoint" "$bin/fuzz-checkpoint"
ASAN_OPTIONS=detect_leaks=0 AUTOREG_FUZZ_WRITE_SEEDS="$scratch/seeds/safetensors" "$bin/fuzz-safetensors"

declare -A max_len=([idx]=65536 [amat]=65536 [cifar]=65536 [gzip]=65536 [png]=65536 [checkpoint]=65536 [safetensors]=65536)
summary=()
status=0
for t in "${targets[@]}"; do
    t=${t#fuzz-}
    corpus="$scratch/corpus/$t" findings="$scratch/findings/$t" log="$scratch/logs/fuzz-$t.log"
    mkdir -p "$corpus" "$findings" "$(dirname "$log")"
    echo "== fuzz-$t: $runs inputs (log: $log)"
    start=$(date +%s)
    set +e
    "$bin/fuzz-$t" "$corpus" "$scratch/seeds/$t" -runs="$runs" -max_len="${max_len[$t]}" \
        -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$findings/" ${FUZZ_ARGS:-} >"$log" 2>&1
    code=$?
    set -e
    seconds=$(( $(date +%s) - start ))
    executed=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    if [[ $code -eq 0 ]]; then
        result="no finding"
    else
        status=1
        result="FINDING (exit $code): $(grep -m1 -E 'ERROR: (AddressSanitizer|libFuzzer)|Fatal error|SUMMARY' "$log" || echo see log)"
        grep -E '^artifact_prefix|Test unit written to' "$log" || true
    fi
    line="fuzz-$t: ${executed:-?} inputs ran in ${seconds} s (${rate:-?} exec/s): $result"
    echo "$line"
    summary+=("$line")
done

echo "== summary ($runs inputs asked per target)"
printf '%s\n' "${summary[@]}"
exit $status
