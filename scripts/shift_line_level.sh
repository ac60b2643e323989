#!/usr/bin/env bash
# Copies the stereo calls of a call set (a folder of WAV files with truth/<call>.json) with
# one line made quieter or louder: the agent's line (channel 1) or the customer's
# (channel 2) scaled by GAIN_DB, speech and noise alike, as when a customer's phone line
# reaches the recorder quieter than the agent's headset. Each file keeps its encoding
# (mu-law, A-law, PCM); the truth files are copied unchanged (the timeline is the same).
# sox runs with -R (repeatable dither), so a copy is rebuilt byte for byte.
# Mono calls are left out. Score the copy with `agentvoice eval calls OUT_DIR`.
#
# usage: scripts/shift_line_level.sh SRC_DIR OUT_DIR agent|customer GAIN_DB
#   e.g. scripts/shift_line_level.sh /work/shared/data/calls target/calls-customer-10 customer -10
set -euo pipefail
usage="usage: shift_line_level.sh SRC_DIR OUT_DIR agent|customer GAIN_DB (GAIN_DB -60 to 20)"
die() { echo "shift_line_level.sh: $*" >&2; exit 2; }
[ $# -eq 4 ] || die "$usage"
src=$1
out=$2
line=$3
gain_db=$4
command -v sox >/dev/null || die "sox is needed (apt-get install sox)"
awk -v g="$gain_db" 'BEGIN { exit !(g ~ /^[-+]?[0-9]+([.][0-9]+)?$/ && g >= -60 && g <= 20) }' ||
    die "GAIN_DB '$gain_db' is not a number from -60 to 20"
factor=$(awk -v g="$gain_db" 'BEGIN { print 10 ^ (g / 20) }')
case "$line" in
agent) remix=(remix "1v$factor" 2) ;;
customer) remix=(remix 1 "2v$factor") ;;
*) die "the line is 'agent' or 'customer', not '$line'" ;;
esac
shopt -s nullglob
truths=("$src"/truth/*.json)
[ ${#truths[@]} -gt 0 ] || die "$src/truth/ holds no truth files (*.json)"
mkdir -p "$out/truth"
copied=0
failed=0
for truth in "${truths[@]}"; do
    call=$(basename "$truth" .json)
    grep -q '"kind": *"stereo"' "$truth" || continue
    # Written under a temporary name and renamed, so a failed copy leaves nothing behind.
    tmp="$out/.$call.tmp.wav"
    if ! reason=$(sox -R "$src/$call.wav" "$tmp" "${remix[@]}" 2>&1 >/dev/null) ||
        [ ! -s "$tmp" ]; then
        echo "shift_line_level.sh: $src/$call.wav: $(echo "$reason" | grep FAIL | head -n 1)" >&2
        rm -f "$tmp"
        failed=$((failed + 1))
        continue
    fi
    warning=$(echo "$reason" | grep WARN | head -n 1 || true)
    [ -z "$warning" ] || echo "shift_line_level.sh: $src/$call.wav: $warning" >&2
    mv "$tmp" "$out/$call.wav"
    cp "$truth" "$out/truth/"
    copied=$((copied + 1))
done
echo "$copied stereo calls, $line line ${gain_db} dB: $out ($failed failed)"
[ "$failed" -eq 0 ]
