#!/usr/bin/env bash
# Copies the stereo calls of a call set (a folder of WAV files with truth/<call>.json) with
# one line made quieter or louder: the agent's line (channel 1) or the customer's
# (channel 2) scaled by GAIN_DB, speech and noise alike, as when a customer's phone line
# reaches the recorder quieter than the agent's headset. Each file keeps its encoding
# (mu-law, A-law, PCM); the truth files are copied unchanged (the timeline is the same).
# Mono calls are left out. Score the copy with `agentvoice eval calls OUT_DIR`.
#
# usage: scripts/shift_line_level.sh SRC_DIR OUT_DIR agent|customer GAIN_DB
#   e.g. scripts/shift_line_level.sh /work/shared/data/calls target/calls-customer-10 customer -10
set -euo pipefail
usage="usage: shift_line_level.sh SRC_DIR OUT_DIR agent|customer GAIN_DB"
src=${1:?$usage}
out=${2:?$usage}
line=${3:?$usage}
gain_db=${4:?$usage}
command -v sox >/dev/null || { echo "sox is needed (apt-get install sox)" >&2; exit 1; }
case "$line" in
agent) remix=(remix "1v$(awk -v g="$gain_db" 'BEGIN { print 10 ^ (g / 20) }')" 2) ;;
customer) remix=(remix 1 "2v$(awk -v g="$gain_db" 'BEGIN { print 10 ^ (g / 20) }')") ;;
*) echo "$usage" >&2; exit 2 ;;
esac
mkdir -p "$out/truth"
copied=0
for truth in "$src"/truth/*.json; do
    call=$(basename "$truth" .json)
    grep -q '"kind": *"stereo"' "$truth" || continue
    sox "$src/$call.wav" "$out/$call.wav" "${remix[@]}"
    cp "$truth" "$out/truth/"
    copied=$((copied + 1))
done
echo "$copied stereo calls, $line line ${gain_db} dB: $out"
