#!/usr/bin/env bash
# Builds a telephone-channel copy of a speech set (a folder with manifest.tsv and WAV files):
# each utterance is resampled to 8 kHz, mixed with noise at an SNR of 10-35 dB, band-passed
# to 300-3400 Hz and stored as 8-bit mu-law. Noise kinds rotate white, pink, brown, babble
# (4 streams of other utterances of the same set). The SNR and the noise kind of each file
# follow from its row number only, so the set is rebuilt identically (sox -R).
# The SNR is the whole clean file's RMS over the noise's RMS (the utterances carry a little
# silence at both ends, so the speech itself sits 1-2 dB higher than the nominal SNR).
#
# usage: scripts/make_telephone_speech.sh SRC_DIR OUT_DIR
#   e.g. scripts/make_telephone_speech.sh /work/shared/data/speech target/speech-telephone
set -euo pipefail
src=${1:?usage: make_telephone_speech.sh SRC_DIR OUT_DIR}
out=${2:?usage: make_telephone_speech.sh SRC_DIR OUT_DIR}
command -v sox >/dev/null || { echo "sox is needed (apt-get install sox)" >&2; exit 1; }
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Column numbers of the manifest.
header=$(head -n 1 "$src/manifest.tsv")
col() { awk -F'\t' -v name="$1" 'NR==1 { for (i = 1; i <= NF; i++) if ($i == name) print i }' "$src/manifest.tsv"; }
file_col=$(col file)
mapfile -t files < <(tail -n +2 "$src/manifest.tsv" | cut -f"$file_col")
n=${#files[@]}

rms() { sox "$1" -n stat 2>&1 | awk '/RMS +amplitude/ { print $3 }'; }

printf '%s\tnoise\tsnr_db\n' "$header" >"$out/manifest.tsv"
row=0
tail -n +2 "$src/manifest.tsv" | while IFS= read -r line; do
  name=$(printf '%s' "$line" | cut -f"$file_col")
  snr=$((10 + (row * 11) % 26))
  kinds=(whitenoise pinknoise brownnoise babble)
  kind=${kinds[$((row % 4))]}
  sox -R "$src/$name" -c 1 -b 16 "$tmp/clean.wav" rate -v 8000
  dur=$(soxi -D "$tmp/clean.wav")
  if [ "$kind" = babble ]; then
    streams=()
    for s in 1 2 3 4; do
      parts=()
      for p in 0 1 2; do
        k=$(((row + s * 3 + p) % n))
        [ "$k" -eq "$row" ] && k=$(((k + 1) % n))
        parts+=("$src/${files[$k]}")
      done
      for p in "${!parts[@]}"; do
        sox -R "${parts[$p]}" -c 1 -b 16 "$tmp/part$p.wav" rate -v 8000
      done
      sox "$tmp/part0.wav" "$tmp/part1.wav" "$tmp/part2.wav" "$tmp/stream$s.wav" trim 0.$s "$dur" pad 0 "$dur"
      streams+=("$tmp/stream$s.wav")
    done
    sox -R -m "${streams[@]}" "$tmp/noise_raw.wav" trim 0 "$dur"
  else
    sox -R -n -r 8000 -c 1 -b 16 "$tmp/noise_raw.wav" synth "$dur" "$kind"
  fi
  speech=$(rms "$tmp/clean.wav")
  noise=$(rms "$tmp/noise_raw.wav")
  gain=$(awk -v s="$speech" -v n="$noise" -v snr="$snr" 'BEGIN { printf "%.6f", (n > 0 ? s / n / 10 ^ (snr / 20) : 0) }')
  sox -R -m -v 1 "$tmp/clean.wav" -v "$gain" "$tmp/noise_raw.wav" "$tmp/mix.wav" trim 0 "$dur"
  sox -R "$tmp/mix.wav" -e mu-law -b 8 -r 8000 "$out/$name" sinc 300-3400
  printf '%s\t%s\t%s\n' "$line" "${kind%noise}" "$snr" >>"$out/manifest.tsv"
  row=$((row + 1))
done
echo "wrote $(($(wc -l <"$out/manifest.tsv") - 1)) telephone utterances to $out"
