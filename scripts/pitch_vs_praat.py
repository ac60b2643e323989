#!/usr/bin/env python3
"""Compare agentvoice's pitch figures (median F0, 10-90 % spread) with Praat's autocorrelation
pitch (through parselmouth: `pip install praat-parselmouth`) on a folder of mono recordings.

Usage: scripts/pitch_vs_praat.py RESULTS.jsonl   (results of `agentvoice analyze --mono agent`)
Prints per file and the mean absolute differences (semitones).
"""
import json, math, sys
import numpy as np
import parselmouth

rows = []
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    if r.get("error") or not r.get("pitch") or r["pitch"]["median_hz"] is None:
        continue
    snd = parselmouth.Sound(r["file"])
    if snd.n_channels > 1:
        snd = snd.extract_channel(1)
    f0 = snd.to_pitch_ac(time_step=0.01, pitch_floor=60, pitch_ceiling=420).selected_array["frequency"]
    f0 = f0[f0 > 0]
    if len(f0) < 10:
        continue
    p10, med, p90 = np.percentile(f0, [10, 50, 90])
    praat_spread = 12 * math.log2(p90 / p10)
    ours = r["pitch"]
    d_med = 12 * math.log2(ours["median_hz"] / med)
    d_spread = ours["spread_semitones"] - praat_spread
    rows.append((d_med, d_spread))
    print(f"{r['file'].rsplit('/', 1)[-1]:40s} median {ours['median_hz']:6.1f} vs {med:6.1f} Hz  "
          f"spread {ours['spread_semitones']:5.1f} vs {praat_spread:5.1f} st")
d = np.array(rows)
print(f"n={len(d)}  median F0: mean |diff| {np.mean(abs(d[:,0])):.2f} st, within 1 st {np.mean(abs(d[:,0]) < 1)*100:.0f} %"
      f"  spread: mean |diff| {np.mean(abs(d[:,1])):.2f} st, bias {np.mean(d[:,1]):+.2f} st")
