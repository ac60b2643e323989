#!/usr/bin/env bash
# Writes small seed recordings (one of each format we read) into fuzz/corpus/decode_analyze.
set -euo pipefail
cd "$(dirname "$0")"
out=corpus/decode_analyze
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# 0.25 s: a tone burst, silence and noise, so every analysis stage has something to do.
sox -n -r 8000 -c 1 -b 16 "$tmp/base.wav" synth 0.1 sine 180 : synth 0.05 sine 0 : synth 0.1 whitenoise vol 0.3
sox "$tmp/base.wav" -e signed -b 16 "$out/s16.wav"
sox "$tmp/base.wav" -e unsigned -b 8 "$out/u8.wav"
sox "$tmp/base.wav" -e signed -b 24 "$out/s24.wav"
sox "$tmp/base.wav" -e signed -b 32 "$out/s32.wav"
sox "$tmp/base.wav" -e floating-point -b 32 "$out/f32.wav"
sox "$tmp/base.wav" -e mu-law "$out/mulaw.wav"
sox "$tmp/base.wav" -e a-law "$out/alaw.wav"
sox "$tmp/base.wav" -e ima-adpcm "$out/ima.wav"
sox "$tmp/base.wav" -e ms-adpcm "$out/msadpcm.wav"
sox "$tmp/base.wav" -c 2 "$out/stereo.wav"
sox "$tmp/base.wav" -r 16000 "$out/s16_16k.wav"
sox "$tmp/base.wav" "$out/tone.flac"
ffmpeg -loglevel error -y -i "$tmp/base.wav" -c:a libmp3lame -b:a 16k "$out/tone.mp3" || true
ls -l "$out"
