#!/usr/bin/env bash
# Side-by-side timing for BENCHMARKS.md: agentvoice's whole analysis (one thread) and
# loudness-only peers on the same files, in the same run.
#
# usage: scripts/bench_peers.sh FILE.wav...   (needs ffmpeg, sox, GNU time; optional
#        PY=/path/to/python with pyloudnorm, soundfile and pyebur128 installed)
# Prints: tool, file, audio seconds, wall s, CPU s (user+sys), x real time on CPU time,
# peak memory. CPU time is the fair figure on a shared machine; wall time is shown too.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${AGENTVOICE:-$here/../target/release/agentvoice}"
py="${PY:-}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
printf '%-28s %-16s %9s %8s %8s %10s %8s\n' tool file audio_s wall_s cpu_s x_rt_cpu peak_MB
run() {
    local name="$1" file="$2"
    shift 2
    local secs
    secs=$(soxi -D "$file")
    /usr/bin/time -f '%e %U %S %M' -o "$out/t" "$@" >/dev/null 2>"$out/err" || {
        echo "$name failed: $(tail -1 "$out/err")" >&2
        return
    }
    read -r wall user sys kb <"$out/t"
    awk -v n="$name" -v f="$(basename "$file")" -v a="$secs" -v w="$wall" -v u="$user" \
        -v s="$sys" -v k="$kb" 'BEGIN { c = u + s; if (c < 0.005) c = 0.005;
        printf "%-28s %-16s %9.0f %8.2f %8.2f %10.0f %8.1f\n", n, f, a, w, c, a / c, k / 1024 }'
}
for f in "$@"; do
    run "agentvoice analyze -j1" "$f" "$bin" analyze "$f" -o "$out/av" --jobs 1
    run "ffmpeg ebur128" "$f" ffmpeg -nostats -i "$f" -filter_complex ebur128 -f null -
    run "ffmpeg ebur128=peak=true" "$f" ffmpeg -nostats -i "$f" -filter_complex ebur128=peak=true -f null -
    run "sox stats" "$f" sox "$f" -n stats
    if [ -n "$py" ]; then
        run "libebur128 (pyebur128)" "$f" "$py" "$here/loudness_peers.py" libebur128 "$f"
        run "libebur128 +true peak" "$f" "$py" "$here/loudness_peers.py" libebur128-tp "$f"
        run "pyloudnorm" "$f" "$py" "$here/loudness_peers.py" pyloudnorm "$f"
    fi
done
