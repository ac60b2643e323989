#!/usr/bin/env python3
"""How well could a detector place long gaps if it heard only what stands over the noise?

    python3 scripts/gap_oracle.py DIR [DIR ...] [--over 3,6,10] [--stems]

For each call of DIR/truth/*.json (made by make_calls.py, or the dev calls), an oracle that
KNOWS where each utterance lies (the truth's segments) places each segment's edges at the
first and last 10 ms frame, within 0.1 s of the truth's segment, whose band energy
(300-3400 Hz) stands OVER dB above the channel's noise (the median band energy of the
frames outside every truth segment), then pads them by a constant start and end pad. Its
long gaps (>= 2 s, nobody speaking) are matched to the truth's dead air as score_calls.py
does (overlap, both ends within 0.25 s). Prints, for steady noise (none, white, pink,
brown, hum) and babble apart, F1 for every threshold and pad pair, best last.

An upper bound for any detector on steady noise: it is given where the speech is, and
frames OVER dB above steady noise are the speech's. In babble it is no bound: a swell of
the background voices inside the truth's window passes for the utterance's edge.

With --stems (calls made by `make_calls.py --stems`, which writes each channel's speech and
noise apart to DIR/stems/<call>.npz) a frame is heard where the speech's own band energy
stands OVER dB above the noise's in that same frame (the local SNR; the noise floored at
-100 dB, before the file's encoding). That bounds babble too: no detector that hears only
speech standing OVER dB over the background voices at that moment can do better.
Needs numpy, scipy and ffmpeg (as make_calls.py's environment).
"""
import argparse
import itertools
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
from scipy.signal import butter, sosfilt

HOP_S = 0.01


def band_db(y: np.ndarray, rate: int, low_hz: float = 300, high_hz: float = 3400) -> np.ndarray:
    """10 ms band energy (dB, 300-3400 Hz unless told) of one channel's samples."""
    sos = butter(4, [low_hz, min(high_hz, rate / 2 * 0.95)], btype="band", fs=rate,
                 output="sos")
    y = sosfilt(sos, y.astype(np.float64))
    hop = int(rate * HOP_S)
    n = len(y) // hop
    return 10 * np.log10((y[: n * hop].reshape(n, hop) ** 2).mean(1) + 1e-12)


def decode(path: Path, channels: int) -> np.ndarray:
    """The file's samples, one column per channel (ffmpeg)."""
    done = subprocess.run(["ffmpeg", "-v", "quiet", "-i", str(path), "-f", "f32le", "-"],
                          capture_output=True)
    if done.returncode != 0 or not done.stdout:
        raise ValueError("not a readable audio file")
    raw = done.stdout[: len(done.stdout) // (4 * channels) * 4 * channels]
    return np.frombuffer(raw, np.float32).reshape(-1, channels)


def band_energy_db(path: Path, rate: int, channels: int) -> list[np.ndarray]:
    """10 ms band energy (dB) of each channel of the decoded file."""
    x = decode(path, channels)
    return [band_db(x[:, ch], rate) for ch in range(channels)]


def stems_band_db(path: Path, rate: int, channels: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per channel, the 10 ms band energy (dB) of the speech stem and of the noise stem
    (floored at -100 dB) of a call written by make_calls.py --stems."""
    with np.load(path) as z:
        stem_rate, speech, noise = int(z["rate"]), z["speech"], z["noise"]
    if stem_rate != rate:
        raise ValueError(f"stems at {stem_rate} Hz, the call at {rate} Hz")
    if speech.ndim != 2 or speech.shape != noise.shape or speech.shape[0] != channels:
        raise ValueError(f"stems of shape {speech.shape} and {noise.shape}, the call has "
                         f"{channels} channel(s)")
    return [(band_db(sp, rate), np.maximum(band_db(nz, rate), -100.0))
            for sp, nz in zip(speech, noise)]


def long_gaps(segments: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Pauses of at least 2 s between the merged segments."""
    merged: list[list[float]] = []
    for s, e in sorted(segments):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [(a[1], b[0]) for a, b in zip(merged, merged[1:]) if b[0] - a[1] >= 2.0]


def matched(truth: list, found: list, tol: float = 0.25) -> int:
    """Truth gaps matched one-to-one by a found gap that overlaps it, both ends within tol."""
    used: set[int] = set()
    hits = 0
    for t in truth:
        for j, d in enumerate(found):
            if j not in used and d[0] < t[1] and d[1] > t[0] \
                    and abs(d[0] - t[0]) <= tol and abs(d[1] - t[1]) <= tol:
                used.add(j)
                hits += 1
                break
    return hits


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dirs", nargs="+", type=Path)
    ap.add_argument("--over", default="3,6,10", help="thresholds over the noise, dB")
    ap.add_argument("--stems", action="store_true",
                    help="hear a frame by its local SNR, from DIR/stems/<call>.npz")
    a = ap.parse_args()
    try:
        overs = [float(v) for v in a.over.split(",")]
    except ValueError:
        ap.error(f"--over {a.over!r}: give numbers of dB separated by commas, e.g. 3,6")
    start_pads = [0.0, 0.03, 0.06]
    end_pads = [0.0, 0.05, 0.10, 0.15, 0.20, 0.25]
    totals = {(g, *k): [0, 0, 0] for g in ("steady", "babble")
              for k in itertools.product(overs, start_pads, end_pads)}
    skipped = 0
    for folder in a.dirs:
        truth_paths = sorted((folder / "truth").glob("*.json"))
        if not truth_paths:
            sys.exit(f"gap_oracle: {folder}: no truth/*.json there")
        for truth_path in truth_paths:
            try:
                t = json.loads(truth_path.read_text())
                dbs = band_energy_db(folder / t["file"], t["sample_rate"], t["channels"])
                heard_s = len(dbs[0]) * HOP_S
                if heard_s < t["duration_s"] - 0.1:
                    raise ValueError(f"audio ends at {heard_s:.2f} s, the truth says "
                                     f"{t['duration_s']:.2f} s (truncated?)")
            except (OSError, ValueError, KeyError, TypeError, IndexError) as e:
                what = f"missing key {e}" if isinstance(e, KeyError) else str(e)
                print(f"gap_oracle: {truth_path}: {what}; skipped", file=sys.stderr)
                skipped += 1
                continue
            heard = None
            if a.stems:
                try:
                    heard = stems_band_db(folder / "stems" / (Path(t["file"]).stem + ".npz"),
                                          t["sample_rate"], t["channels"])
                except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as e:
                    print(f"gap_oracle: {truth_path}: cannot read its stems ({e}); skipped",
                          file=sys.stderr)
                    skipped += 1
                    continue
            roles = [r for r in ("agent", "customer") if t.get(r)]
            chan = {r: 0 if t["kind"] == "mixed_mono" else t[r]["channel"] for r in roles}
            noise = {}
            for ch in set(chan.values()):
                outside = np.ones(len(dbs[ch]), bool)
                for r in roles:
                    if chan[r] == ch:
                        for s, e in t[r]["segments"]:
                            outside[max(0, int(s * 100) - 10): int(e * 100) + 10] = False
                noise[ch] = (np.median(dbs[ch][outside]) if outside.sum() > 50
                             else np.percentile(dbs[ch], 10))
            group = "babble" if t["noise"]["kind"] == "babble" else "steady"
            for key, tally in totals.items():
                if key[0] != group:
                    continue
                _, over, start_pad, end_pad = key
                segments = []
                for r in roles:
                    db = dbs[chan[r]]
                    for s, e in t[r]["segments"]:
                        i0 = max(0, int((s - 0.1) * 100))
                        i1 = min(len(db), int((e + 0.1) * 100) + 1)
                        if heard is None:
                            loud = np.nonzero(db[i0:i1] >= noise[chan[r]] + over)[0]
                        else:
                            sp_db, nz_db = heard[chan[r]]
                            i1 = min(i1, len(sp_db))
                            loud = np.nonzero(sp_db[i0:i1] >= nz_db[i0:i1] + over)[0]
                        if len(loud):
                            segments.append((max(0.0, (i0 + loud[0]) * HOP_S - start_pad),
                                             (i0 + loud[-1] + 1) * HOP_S + end_pad))
                found = long_gaps(segments)
                truth_gaps = [tuple(g) for g in t["dead_air"]]
                tally[0] += matched(truth_gaps, found)
                tally[1] += len(truth_gaps)
                tally[2] += len(found)
    rows = []
    for (group, over, start_pad, end_pad), (hits, n_true, n_found) in totals.items():
        p = hits / n_found if n_found else 0.0
        r = hits / n_true if n_true else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        rows.append((group, f1, f"{group} over {over:g} dB, pads {start_pad:.2f}/{end_pad:.2f} s: "
                     f"true {n_true} found {n_found} matched {hits} F1 {f1:.3f}"))
    for group in ("steady", "babble"):
        for _, _, line in sorted(r for r in rows if r[0] == group):
            print(line)
    if skipped:
        sys.exit(1)


if __name__ == "__main__":
    main()
