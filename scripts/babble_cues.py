#!/usr/bin/env python3
"""Can a frame's own features tell an utterance's soft end from the background voices after it?

    python3 scripts/babble_cues.py DIR [DIR ...]

For each babble call of DIR (made by `make_calls.py --stems`), around each end of a target
segment followed by at least 1 s without the target speaking, two kinds of 10 ms frame of
the decoded file (first channel, the target's on every kind made by make_calls.py):

- the utterance's own: the last 0.25 s before the truth's end where the speech stem stands
  less than 12 dB over the noise stem (a soft end) but no more than 3 dB under it;
- the background voices': 0.03-0.6 s after the end.

For each, five cues that a detector could compute from the file alone:

- level: band energy (300-3400 Hz) over the median of the frames outside every segment;
- voicing: the peak normalised autocorrelation over 40 ms in the 70-400 Hz pitch range;
- tracked: the same, but only within 10 % of the lag followed from the utterance's last
  strongly voiced frame (the talker's own pitch going on);
- shape: the RMS distance (dB) of six sub-band levels, less their mean, from the median
  shape of the frames outside every segment (the background voices' long-term spectrum);
- swing: how far the band energy lies from its 0.21 s centred power average, averaged over
  the same window (a talker's syllables swing it; a swell of many voices hardly does).

Prints the ROC AUC of each cue (utterance frames against background frames), over all
frames and within bands of `level`: 0.5 is no better than chance, under 0.5 means the
background voices score higher. Needs numpy, scipy and ffmpeg (as make_calls.py).
"""
import argparse
import json
import sys
import zipfile
from pathlib import Path

import numpy as np
from scipy.signal import butter, sosfilt

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gap_oracle import HOP_S, band_db, decode  # noqa: E402

SUB_BANDS = [(200, 500), (500, 900), (900, 1400), (1400, 2000), (2000, 2700), (2700, 3400)]
CUES = ["level", "voicing", "tracked", "shape", "swing"]


def nccf(y: np.ndarray, start: int, window: int, lo: int, hi: int) -> np.ndarray | None:
    """Normalised cross-correlation of y[start:start+window] with itself at lags 0..hi
    (lags under lo set to -1)."""
    seg = y[start:start + window + hi]
    if start < 0 or len(seg) < window + hi:
        return None
    c = np.correlate(seg, seg[:window], "valid")
    e = np.concatenate([[0.0], np.cumsum(seg ** 2)])
    lagged = e[window:window + hi + 1] - e[: hi + 1]
    r = c / np.sqrt(lagged * lagged[0] + 1e-20)
    r[:lo] = -1.0
    return r


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    ranks = np.concatenate([pos, neg]).argsort().argsort() + 1
    return (ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))


def call_rows(folder: Path, t: dict) -> list[tuple]:
    rate = t["sample_rate"]
    x = decode(folder / t["file"], t["channels"])[:, 0].astype(np.float64)
    with np.load(folder / "stems" / (Path(t["file"]).stem + ".npz")) as z:
        speech_db = band_db(z["speech"][0], rate)
        noise_db = np.maximum(band_db(z["noise"][0], rate), -100.0)
    sos = butter(4, [200, min(3400, rate / 2 * 0.95)], btype="band", fs=rate, output="sos")
    y = sosfilt(sos, x)
    level_db = band_db(x, rate)
    n = min(len(level_db), len(speech_db))
    subs = np.stack([band_db(x, rate, lo, hi)[:n] for lo, hi in SUB_BANDS], 1)
    subs = np.apply_along_axis(lambda c: np.convolve(c, np.ones(3) / 3, "same"), 0, subs)
    shape = subs - subs.mean(1, keepdims=True)
    segments = t["target"]["segments"]
    outside = np.ones(n, bool)
    for s, e in segments:
        outside[int(s / HOP_S): int(e / HOP_S) + 1] = False
    if outside.sum() < 50:
        return []
    background_db = np.median(level_db[:n][outside])
    background_shape = np.median(shape[outside], 0)
    distance = np.sqrt(((shape - background_shape) ** 2).mean(1))
    # How far each frame's level lies from its 0.21 s centred power average, averaged over
    # the same window: a talker's syllables swing it, a swell of many voices hardly does.
    kernel = np.ones(21) / 21
    smoothed_db = 10 * np.log10(np.convolve(10 ** (level_db[:n] / 10), kernel, "same") + 1e-12)
    swing = np.convolve(np.abs(level_db[:n] - smoothed_db), kernel, "same")
    hop, window = int(rate * HOP_S), int(0.04 * rate)
    lo, hi = int(rate / 400), int(rate / 70)
    rows = []
    for k, (_, end) in enumerate(segments):
        following = segments[k + 1][0] if k + 1 < len(segments) else t["duration_s"]
        if following - end < 1.0:
            continue
        last = int(end / HOP_S)
        lag = None
        for i in range(last - 80, last - 25):
            r = nccf(y, i * hop, window, lo, hi)
            if r is not None and r.max() > 0.8 and level_db[i] > background_db + 10:
                lag = int(r.argmax())
        if lag is None:
            continue
        for i in range(last - 25, min(last + 60, n)):
            r = nccf(y, i * hop, window, lo, hi)
            if r is None:
                break
            a, b = max(lo, int(lag * 0.9)), min(hi, int(lag * 1.1) + 1)
            j = a + int(r[a:b].argmax())
            if r[j] > 0.6:
                lag = j
            local_snr = speech_db[i] - noise_db[i]
            own = i < last and -3 < local_snr < 12
            background = last + 3 <= i < last + 60
            if own or background:
                rows.append((int(own), level_db[i] - background_db, r.max(), r[j], distance[i],
                             swing[i]))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dirs", nargs="+", type=Path)
    a = ap.parse_args()
    rows, calls, skipped = [], 0, 0
    for folder in a.dirs:
        for truth_path in sorted((folder / "truth").glob("*.json")):
            try:
                t = json.loads(truth_path.read_text())
                if t["noise"]["kind"] != "babble":
                    continue
                rows += call_rows(folder, t)
                calls += 1
            except (OSError, ValueError, KeyError, TypeError, IndexError, EOFError,
                    zipfile.BadZipFile) as e:
                what = f"missing key {e}" if isinstance(e, KeyError) else str(e)
                print(f"babble_cues: {truth_path}: {what}; skipped", file=sys.stderr)
                skipped += 1
    if not rows:
        sys.exit("babble_cues: no babble call with stems scored")
    m = np.array(rows, dtype=float)
    own, cues = m[:, 0] == 1, m[:, 1:]
    print(f"{calls} babble calls: {own.sum()} soft-end frames, {(~own).sum()} background frames")
    print(f"{'level band (dB over background)':34}" + "".join(f"{c:>9}" for c in CUES))
    for lo_db, hi_db in [(-99, 99), (0, 12), (0, 8), (3, 15)]:
        zone = (cues[:, 0] >= lo_db) & (cues[:, 0] < hi_db)
        name = "all" if lo_db == -99 else f"[{lo_db}, {hi_db})"
        line = f"{name + f'  ({(zone & own).sum()} / {(zone & ~own).sum()})':34}"
        print(line + "".join(f"{auc(cues[zone & own, c], cues[zone & ~own, c]):9.3f}"
                             for c in range(len(CUES))))
    sys.exit(1 if skipped else 0)


if __name__ == "__main__":
    main()
