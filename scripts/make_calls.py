#!/usr/bin/env python3
"""Synthetic test calls with exact truth, in the format of ../shared/data/calls/.

Usage
  /tmp/pv/bin/python scripts/make_calls.py --out DIR --count N --seed S
      [--speech /work/shared/data/speech] [--prefix ho] [--trims-from DEV_TRUTH_DIR] [--stems]
  agentvoice eval calls DIR                       # analyse and score (the repo's scorer)
  agentvoice eval calls DIR --save R.jsonl && python3 /work/shared/data/score_calls.py R.jsonl DIR

Writes DIR/<prefix>_NNN.wav, DIR/truth/<prefix>_NNN.json and DIR/truth.tsv, the same layout,
truth fields and definitions as the dev calls (see /work/shared/data/README.md), so that
`agentvoice eval calls DIR` and `score_calls.py RESULTS.jsonl DIR` score them unchanged. Use it
for held-out checks: a different --seed gives calls nobody tuned on. Deterministic given --seed
(and the speech folder). Needs python3 with numpy, scipy and pyebur128 (pip install into a
venv), and sox on PATH (mu-law / A-law encoding and decoding for the loudness reference).

How a call is built (all at 16 kHz, float): real utterances from the speech folder (Mandarin:
agent = THCHS-30 speaker D4, customers = the AISHELL-3 pool; English: agent LJSpeech or Harvard,
customer the other) are trimmed of leading/trailing silence: files the dev truths already place
(--trims-from) keep the dev set's trims exactly, so segment ends follow the same convention;
others (Harvard 11-18) by an energy rule (150-4000 Hz band, 10 ms frames above
max(10th percentile + 10 dB, 99th percentile - 45 dB), runs of >= 30 ms, 60 ms margin; on the
dev files it lands 0.05 s from the dev trims on average). They are placed on a
timeline: greeting latency 0.3-4 s (not within 0.05 s of the 2 s rule, where the trim
convention itself decides pass/fail), pauses, dead air (2.1-6 s), near misses (1.2-1.9 s),
turns with response latencies, overtalk (negative latencies). A segment is the span of one
placed (trimmed) utterance. Kinds: agent_only (mono), stereo (agent left, customer right;
sometimes a faint copy of the customer, -35 to -25 dB, 0-20 ms late, leaks into the agent
channel: `crosstalk`), mixed_mono (both in one channel). Channel: wideband 16 kHz PCM16 or
telephone (Butterworth 300-3400 Hz order 4 zero-phase, resample_poly to 8 kHz; PCM16, mu-law or
A-law via sox). Noise: none, white, pink, brown, 50 Hz hum with harmonics, babble (3-6
continuous streams of other talkers' utterances), SNR 10-35 dB (speech power over the channel's
speech spans / noise power over the whole channel, both after the channel filter). Agent speech
-38 to -19 dBFS (RMS over its spans), customer -6..+3 dB relative; a few calls clipped (peak
6-10 dB over full scale) or with a DC offset. Truth: dead_air = gaps >= 2 s between the union
of all speech; greeting_latency_s = first agent onset; response_latencies_s = for each customer
segment answered by the agent before the customer speaks again, next agent onset - customer end;
overtalk = agent-and-customer intersections; target = the agent (agent_only, stereo) or all
speech (mixed_mono); loudness_ref_lufs = libebur128 (pyebur128) integrated loudness of the
decoded file, all channels.
"""
from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from math import gcd
from pathlib import Path

import numpy as np
import pyebur128
import scipy.io.wavfile as wavfile
import scipy.signal as ss

SR = 16000
GENERATOR_VERSION = "heldout-1.0"
BAND_SOS = ss.butter(4, [150, 4000], "bandpass", fs=SR, output="sos")
TEL_SOS = ss.butter(4, [300, 3400], "bandpass", fs=SR, output="sos")
CHANNELS = {  # name: (sample rate, encoding, bandwidth, weight)
    "wb16k_pcm16": (16000, "pcm_s16le", "wideband", 0.35),
    "tel8k_pcm16": (8000, "pcm_s16le", "telephone", 0.22),
    "tel8k_mulaw": (8000, "mu-law", "telephone", 0.23),
    "tel8k_alaw": (8000, "a-law", "telephone", 0.20),
}
NOISES = {"none": 0.12, "white": 0.14, "pink": 0.14, "brown": 0.14, "hum50": 0.14, "babble": 0.32}


# ------------------------------------------------------------------ sources

# More calls than this is a typo, not a test set (each takes about 2 s and 1-3 MB).
MAX_COUNT = 100_000

def trim_span(x: np.ndarray) -> tuple[int, int]:
    """Sample span [s, e) of the audible part of an utterance (energy rule, see the docstring)."""
    hop = SR // 100
    y = ss.sosfiltfilt(BAND_SOS, x)
    n = len(y) // hop
    db = 10 * np.log10(np.mean(y[: n * hop].reshape(n, hop) ** 2, axis=1) + 1e-12)
    thr = max(np.percentile(db, 10) + 10.0, np.percentile(db, 99) - 45.0)
    on = db > thr
    runs, i = [], 0
    while i < n:
        if on[i]:
            j = i
            while j < n and on[j]:
                j += 1
            if j - i >= 3:
                runs.append((i, j))
            i = j
        else:
            i += 1
    if not runs:
        return 0, len(x)
    margin = int(0.06 * SR)
    return max(0, runs[0][0] * hop - margin), min(len(x), runs[-1][1] * hop + margin)


def dev_trims(folder: Path | None) -> dict:
    """{utterance file: (src_start_s, src_end_s)} as the truth JSONs of folder trimmed them."""
    out: dict = {}
    for f in sorted(folder.glob("*.json")) if folder and folder.is_dir() else []:
        t = json.loads(f.read_text(encoding="utf-8"))
        for role in ("agent", "customer"):
            for u in (t.get(role) or {}).get("utterances", []):
                out.setdefault(u["file"], (u["src_start_s"], u["src_end_s"]))
    return out


def load_speech(folder: Path, trims: dict) -> list[dict]:
    """Every utterance of manifest.tsv, resampled to 16 kHz, trimmed (as `trims` says, else by
    the energy rule), RMS-normalised to 1."""
    out = []
    with open(folder / "manifest.tsv", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            sr, x = wavfile.read(folder / row["file"])
            x = x.astype(np.float64)
            if x.ndim > 1:
                x = x.mean(axis=1)
            x /= 32768.0
            g = gcd(sr, SR)
            if sr != SR:
                x = ss.resample_poly(x, SR // g, sr // g)
            if row["file"] in trims:
                s, e = (int(round(v * SR)) for v in trims[row["file"]])
                e = min(e, len(x))
                how = "dev set"
            else:
                s, e = trim_span(x)
                how = "energy rule"
            seg = x[s:e] - np.mean(x[s:e])
            seg /= np.sqrt(np.mean(seg**2)) + 1e-12
            name = row["file"]
            corpus = name.split("_")[0]
            speaker = {
                "thchs30": "thchs30:" + name.split("_")[1],
                "aishell3": "aishell3:" + name.split("_")[1][:7],
                "ljspeech": "ljspeech:LJ",
                "harvard": "harvard:1",
            }.get(corpus, corpus)
            out.append({
                "file": name, "corpus": corpus, "speaker": speaker, "language": row["language"],
                "syllables": int(row["syllables"]), "transcript": row["transcript"],
                "verification": row.get("verification", ""),
                "src_start_s": round(s / SR, 6), "src_end_s": round(e / SR, 6), "trim": how,
                "audio": seg,
            })
    return out


# ------------------------------------------------------------------ noise

def colored(rng, n: int, exponent: float) -> np.ndarray:
    """Noise with power spectrum ~ 1/f^exponent (0 white, 1 pink, 2 brown), unit RMS."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / SR)
    f[0] = f[1]
    spec *= 1.0 / np.maximum(f, 20.0) ** (exponent / 2)
    y = np.fft.irfft(spec, n)
    return y / (np.sqrt(np.mean(y**2)) + 1e-12)


def hum(rng, n: int) -> np.ndarray:
    t = np.arange(n) / SR
    y = sum((1.0 / k) * np.sin(2 * np.pi * 50.0 * k * t + rng.uniform(0, 2 * np.pi))
            for k in range(1, 41))
    return y / np.sqrt(np.mean(y**2))


def babble(rng, n: int, pool: list[dict]) -> tuple[np.ndarray, int]:
    """3-6 continuous streams of back-to-back utterances from pool, summed, unit RMS."""
    k = int(rng.integers(3, 7))
    y = np.zeros(n)
    for _ in range(k):
        pos = -int(rng.uniform(0, 3) * SR)
        gain = 10 ** (rng.uniform(-4, 2) / 20)
        while pos < n:
            u = pool[int(rng.integers(len(pool)))]["audio"]
            a, b = max(pos, 0), min(pos + len(u), n)
            if b > a:
                y[a:b] += gain * u[a - pos:b - pos]
            pos += len(u) + int(rng.uniform(0.02, 0.25) * SR)
    return y / (np.sqrt(np.mean(y**2)) + 1e-12), k


def make_noise(rng, kind: str, n: int, pool: list[dict]) -> tuple[np.ndarray, dict]:
    if kind == "white":
        return colored(rng, n, 0.0), {}
    if kind == "pink":
        return colored(rng, n, 1.0), {}
    if kind == "brown":
        return colored(rng, n, 2.0), {}
    if kind == "hum50":
        return hum(rng, n), {}
    y, k = babble(rng, n, pool)
    return y, {"talkers": k}


# ------------------------------------------------------------------ intervals

def merge(segs):
    out = []
    for s, e in sorted(segs):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return out


def gaps_of(segs):
    m = merge(segs)
    return [[m[i][1], m[i + 1][0]] for i in range(len(m) - 1)]


def intersect(a, b):
    out, i, j = [], 0, 0
    a, b = merge(a), merge(b)
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if hi > lo:
            out.append([lo, hi])
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def response_latencies(agent, cust):
    """For each customer segment the agent answers before the customer speaks again."""
    out = []
    cs = sorted(cust)
    for i, (s, e) in enumerate(cs):
        nxt = [a for a in sorted(agent) if a[0] > s]
        if not nxt:
            continue
        a0 = nxt[0][0]
        if i + 1 < len(cs) and cs[i + 1][0] < a0:
            continue
        out.append({"customer_end": e, "agent_start": a0, "latency_s": round(a0 - e, 6)})
    return out


def span_mask(segs, n: int, sr: int) -> np.ndarray:
    m = np.zeros(n, bool)
    for s, e in segs:
        m[int(round(s * sr)):int(round(e * sr))] = True
    return m


# ------------------------------------------------------------------ timeline

def pick(rng, pool, uses, max_uses=2):
    cand = [i for i in range(len(pool)) if uses.get(i, 0) < max_uses] or list(range(len(pool)))
    i = cand[int(rng.integers(len(cand)))]
    uses[i] = uses.get(i, 0) + 1
    return i, uses[i]


def gap_draw(rng, weights):
    """(type, seconds) for a pause: normal, near_miss (1.2-1.9 s) or dead_air (2.1-6 s)."""
    kinds = list(weights)
    p = np.array(list(weights.values()))
    k = kinds[int(rng.choice(len(kinds), p=p / p.sum()))]
    if k == "normal":
        return k, rng.uniform(0.25, 1.15)
    if k == "near_miss":
        return k, rng.uniform(1.2, 1.9)
    if k == "dead_air":
        return k, rng.uniform(2.1, 6.0)
    return k, -rng.uniform(0.3, 1.5)


def plan_agent_only(rng, apool, greet):
    target = rng.uniform(25, 90)
    uses, placed, t, gaps = {}, [], greet, []
    while True:
        i, use = pick(rng, apool, uses)
        u = apool[i]
        dur = len(u["audio"]) / SR
        placed.append(("agent", i, t, use))
        t += dur
        if t >= target or len(placed) >= 20:
            break
        kind, g = gap_draw(rng, {"normal": 0.55, "near_miss": 0.15, "dead_air": 0.30})
        gaps.append({"type": kind, "planned_s": round(g, 3)})
        t += g
    return placed, {"target_duration_s": round(target, 3), "gaps_planned": gaps}


def plan_dialogue(rng, apool, cpool, greet):
    target = rng.uniform(25, 85)
    uses = {"agent": {}, "customer": {}}
    pools = {"agent": apool, "customer": cpool}
    last_end = {"agent": -1.0, "customer": -1.0}
    placed, trans = [], []
    party, t, prev_dur = "agent", greet, None
    turns = 0
    while True:
        n_in = 1 if rng.uniform() < 0.7 else 2
        for j in range(n_in):
            i, use = pick(rng, pools[party], uses[party])
            dur = len(pools[party][i]["audio"]) / SR
            if j > 0:
                t = last_end[party] + rng.uniform(0.25, 1.0)
            placed.append((party, i, t, use))
            last_end[party] = t + dur
            prev_dur = dur
        turns += 1
        end = max(last_end.values())
        if (end >= target and turns >= 2) or turns >= 16:
            break
        other = "customer" if party == "agent" else "agent"
        kind, g = gap_draw(rng, {"normal": 0.52, "near_miss": 0.10, "dead_air": 0.16,
                                 "overtalk": 0.22})
        if kind == "overtalk":
            # the newcomer starts before the speaker ends, and outlasts them
            g = -min(-g, 0.5 * prev_dur)
            if g > -0.2 or end + g < last_end[other] + 0.1:
                kind, g = "normal", rng.uniform(0.25, 1.15)
        trans.append({"from": party, "to": other, "type": kind, "planned_s": round(g, 3)})
        t = end + g
        if kind == "overtalk":
            # the next utterance must end after the current one: pick a long enough one
            need = -g + 0.3
            ok = [k for k in range(len(pools[other])) if len(pools[other][k]["audio"]) / SR > need
                  and uses[other].get(k, 0) < 2]
            if not ok:
                kind, g = "normal", rng.uniform(0.25, 1.15)
                trans[-1].update(type=kind, planned_s=round(g, 3))
                t = end + g
            else:
                k = ok[int(rng.integers(len(ok)))]
                uses[other][k] = uses[other].get(k, 0) + 1
                dur = len(pools[other][k]["audio"]) / SR
                placed.append((other, k, t, uses[other][k]))
                last_end[other] = t + dur
                prev_dur = dur
                turns += 1
                # a second utterance in this turn, sometimes
                if rng.uniform() < 0.3:
                    i, use = pick(rng, pools[other], uses[other])
                    t = last_end[other] + rng.uniform(0.25, 1.0)
                    placed.append((other, i, t, use))
                    last_end[other] = t + len(pools[other][i]["audio"]) / SR
                    prev_dur = len(pools[other][i]["audio"]) / SR
                end = max(last_end.values())
                if (end >= target and turns >= 2) or turns >= 16:
                    break
                party2 = other
                other = "customer" if party2 == "agent" else "agent"
                kind, g = gap_draw(rng, {"normal": 0.6, "near_miss": 0.12, "dead_air": 0.18,
                                         "overtalk": 0.0001})
                if kind == "overtalk":
                    kind, g = "normal", 0.5
                trans.append({"from": party2, "to": other, "type": kind, "planned_s": round(g, 3)})
                t = end + g
        party = other
    return placed, {"target_duration_s": round(target, 3), "transitions_planned": trans}


# ------------------------------------------------------------------ one call

def dbfs(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(x**2)) + 1e-20))


def write_wav(path: Path, chans: list[np.ndarray], sr: int, encoding: str):
    data = np.stack(chans, axis=1) if len(chans) > 1 else chans[0]
    pcm = np.clip(np.round(data * 32767.0), -32768, 32767).astype(np.int16)
    if encoding == "pcm_s16le":
        wavfile.write(path, sr, pcm)
        return
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td) / "pcm.wav"
        wavfile.write(tmp, sr, pcm)
        enc = {"mu-law": "mu-law", "a-law": "a-law"}[encoding]
        subprocess.run(["sox", "-D", str(tmp), "-e", enc, "-b", "8", str(path)], check=True)


def decode(path: Path) -> tuple[np.ndarray, int, int]:
    """The file as sox decodes it: float frames (n, channels), rate, channels."""
    info = subprocess.run(["soxi", str(path)], capture_output=True, text=True, check=True).stdout
    sr = int([ln for ln in info.splitlines() if ln.startswith("Sample Rate")][0].split(":")[1])
    ch = int([ln for ln in info.splitlines() if ln.startswith("Channels")][0].split(":")[1])
    raw = subprocess.run(["sox", str(path), "-t", "f32", "-e", "floating-point", "-b", "32", "-"],
                         capture_output=True, check=True).stdout
    x = np.frombuffer(raw, dtype="<f4").astype(np.float64).reshape(-1, ch)
    return x, sr, ch


def loudness_lufs(x: np.ndarray, sr: int) -> float:
    st = pyebur128.R128State(x.shape[1], sr, pyebur128.MeasurementMode.MODE_I)
    st.add_frames(np.ascontiguousarray(x.reshape(-1)), x.shape[0])
    return float(pyebur128.get_loudness_global(st))


def r6(v):
    return round(float(v), 6)


def spans6(segs):
    return [[r6(s), r6(e)] for s, e in segs]


def make_call(idx: int, kind: str, seed: int, prefix: str, speech: list[dict], out: Path,
              stems: Path | None = None) -> dict:
    rng = np.random.default_rng([seed, idx])
    call = f"{prefix}_{idx + 1:03d}"
    language = "zh" if rng.uniform() < 0.6 else "en"
    if language == "zh":
        apool = [u for u in speech if u["corpus"] == "thchs30"]
        cpool = [u for u in speech if u["corpus"] == "aishell3"]
    else:
        a_corp = "ljspeech" if rng.uniform() < 0.6 else "harvard"
        c_corp = "harvard" if a_corp == "ljspeech" else "ljspeech"
        apool = [u for u in speech if u["corpus"] == a_corp]
        cpool = [u for u in speech if u["corpus"] == c_corp]
    used = {u["corpus"] for u in apool} | ({u["corpus"] for u in cpool} if kind != "agent_only"
                                           else set())
    bpool = [u for u in speech if u["corpus"] not in used]
    chan = list(CHANNELS)[int(rng.choice(len(CHANNELS), p=[v[3] for v in CHANNELS.values()]))]
    out_sr, encoding, bandwidth, _ = CHANNELS[chan]
    noise_kind = list(NOISES)[int(rng.choice(len(NOISES), p=list(NOISES.values())))]
    snr = None if noise_kind == "none" else float(rng.uniform(10, 35))
    level = float(rng.uniform(-38, -19))
    cust_rel = float(rng.uniform(-6, 3))
    clip = bool(rng.uniform() < 0.08)
    dc = float(rng.choice([-1, 1]) * rng.uniform(0.02, 0.05)) if rng.uniform() < 0.06 else 0.0
    xt = None
    if kind == "stereo" and rng.uniform() < 0.4:
        xt = {"applied": True, "level_db": r6(rng.uniform(-35, -25)),
              "delay_ms": r6(rng.uniform(0, 20)), "from": "customer", "into": "agent"}
    greet = round(float(rng.uniform(0.3, 4.0)), 3)
    while abs(greet - 2.0) < 0.05:  # the truth's own boundary convention is this uncertain
        greet = round(float(rng.uniform(0.3, 4.0)), 3)

    if kind == "agent_only":
        placed, plan_extra = plan_agent_only(rng, apool, greet)
    else:
        placed, plan_extra = plan_dialogue(rng, apool, cpool, greet)
    trailing = rng.uniform(0.3, 1.5)
    pools = {"agent": apool, "customer": cpool}
    last = max(t + len(pools[p][i]["audio"]) / SR for p, i, t, _ in placed)
    n16 = int(np.ceil((last + trailing) * SR))
    if out_sr == 8000:
        n16 += n16 % 2

    tracks = {"agent": np.zeros(n16), "customer": np.zeros(n16)}
    utts = {"agent": [], "customer": []}
    for party, i, t, use in placed:
        u = pools[party][i]
        s0 = int(round(t * SR))
        g = float(rng.uniform(-2, 2))
        a = u["audio"] * 10 ** (g / 20)
        tracks[party][s0:s0 + len(a)] += a
        utts[party].append({
            "file": u["file"], "speaker": u["speaker"], "start": r6(s0 / SR),
            "end": r6((s0 + len(a)) / SR), "start_sample_16k": s0, "n_samples_16k": len(a),
            "syllables": u["syllables"], "transcript": u["transcript"],
            "src_start_s": u["src_start_s"], "src_end_s": u["src_end_s"],
            "gain_db_rel": r6(g), "verification": u["verification"], "use": use,
            "trim": u["trim"],
        })
    for p in utts:
        utts[p].sort(key=lambda x: x["start"])
    seg = {p: [[x["start"], x["end"]] for x in utts[p]] for p in utts}

    # levels: scale each party so its speech RMS over its spans hits the plan (at 16 kHz,
    # before the channel filter; the final levels are measured and recorded below)
    def over(x, segs):
        return x[span_mask(segs, len(x), SR)]
    for p, lv in (("agent", level), ("customer", level + cust_rel)):
        if seg[p]:
            tracks[p] *= 10 ** (lv / 20) / (np.sqrt(np.mean(over(tracks[p], seg[p]) ** 2)) + 1e-20)

    if kind == "agent_only":
        chans = [tracks["agent"]]
        ch_segs = [seg["agent"]]
        roles = ["agent"]
    elif kind == "stereo":
        a = tracks["agent"].copy()
        if xt:
            d = int(round(xt["delay_ms"] / 1000 * SR))
            leak = np.concatenate([np.zeros(d), tracks["customer"][: n16 - d]])
            a += leak * 10 ** (xt["level_db"] / 20)
        chans = [a, tracks["customer"]]
        ch_segs = [seg["agent"], seg["customer"]]
        roles = ["agent", "customer"]
    else:
        chans = [tracks["agent"] + tracks["customer"]]
        ch_segs = [merge(seg["agent"] + seg["customer"])]
        roles = ["agent", "customer"]

    def channel(x):
        if bandwidth == "telephone":
            return ss.resample_poly(ss.sosfiltfilt(TEL_SOS, x), 1, 2)
        return x
    speech_out = [channel(x) for x in chans]
    n_out = len(speech_out[0])
    per_channel_noise = []
    final = []
    noise_out = []
    for ci, (x, segs) in enumerate(zip(speech_out, ch_segs)):
        y = x
        noise_out.append(np.zeros_like(x))
        if noise_kind != "none":
            nz, info = make_noise(rng, noise_kind, n16, bpool)
            nz = channel(nz)
            sp = np.mean(x[span_mask(segs, n_out, out_sr)] ** 2)
            nz *= np.sqrt(sp / 10 ** (snr / 10) / np.mean(nz**2))
            y = x + nz
            noise_out[-1] = nz
            per_channel_noise.append({"channel": ci, "snr_db_measured":
                                      r6(10 * np.log10(sp / np.mean(nz**2))),
                                      "noise_dbfs": r6(dbfs(nz)), **info})
        final.append(y)
    gain_db, peak_limited = 0.0, False
    peak = max(np.max(np.abs(y)) for y in final)
    clip_info = {"applied": False}
    if clip:
        over_db = float(rng.uniform(6, 10))
        gain_db = over_db - 20 * np.log10(peak)
        final = [np.clip(y * 10 ** (gain_db / 20), -1.0, 1.0) for y in final]
        frac = float(np.mean([np.mean(np.abs(y) >= 1.0) for y in final]))
        clip_info = {"applied": True, "peak_over_full_scale_db": r6(over_db),
                     "clipped_fraction": r6(frac)}
    elif peak + abs(dc) > 0.95:
        gain_db = 20 * np.log10((0.95 - abs(dc)) / peak)
        peak_limited = True
        final = [y * 10 ** (gain_db / 20) for y in final]
    if dc:
        final = [np.clip(y + dc, -1.0, 32767 / 32768) for y in final]

    wav = out / f"{call}.wav"
    write_wav(wav, final, out_sr, encoding)
    if stems is not None:
        # the speech and the noise of each channel apart, as they entered the file (channel
        # filter and gain applied; before clipping, DC and encoding): for oracles that need
        # the local SNR, e.g. scripts/gap_oracle.py --stems
        g = 10 ** (gain_db / 20)
        np.savez_compressed(stems / f"{call}.npz", rate=out_sr,
                            speech=np.stack(speech_out).astype(np.float32) * g,
                            noise=np.stack(noise_out).astype(np.float32) * g)
    dec, dsr, dch = decode(wav)
    lufs = loudness_lufs(dec, dsr)
    lufs0 = loudness_lufs(dec[:, :1], dsr)
    dur = dec.shape[0] / dsr

    # measured speech levels of the decoded file (DC removed), per channel and per role
    lv_ch = [r6(dbfs(dec[span_mask(s, dec.shape[0], dsr), c] - dc)) for c, s in enumerate(ch_segs)]
    if kind == "stereo":
        lv_role = {"agent": lv_ch[0], "customer": lv_ch[1]}
    else:
        g_all = 10 ** (gain_db / 20)
        lv_role = {p: (r6(dbfs(channel(tracks[p])[span_mask(seg[p], n_out, out_sr)] * g_all))
                       if seg[p] else None) for p in ("agent", "customer")}
        if kind == "agent_only":
            lv_role = {"agent": lv_ch[0], "customer": None}

    allsp = seg["agent"] + seg["customer"]
    dead = [g for g in gaps_of(allsp) if g[1] - g[0] >= 2.0 - 1e-9]
    agent_pauses = [g for g in gaps_of(seg["agent"]) if g[1] - g[0] >= 2.0 - 1e-9]
    lat = response_latencies(seg["agent"], seg["customer"]) if kind != "agent_only" else []
    ot = intersect(seg["agent"], seg["customer"])

    def role_block(p, ch):
        if not utts[p]:
            return None
        sp = sum(e - s for s, e in seg[p])
        syl = sum(x["syllables"] for x in utts[p])
        names = sorted({x["speaker"] for x in utts[p]})
        pooled = len(names) > 1
        return {
            "speaker": ("pool:" + ",".join(names)) if pooled else names[0],
            "pooled_voices": pooled, "channel": ch, "segments": spans6(seg[p]),
            "speech_s": r6(sp), "syllables": syl, "n_utterances": len(utts[p]),
            "n_repeated_utterances": sum(1 for x in utts[p] if x["use"] > 1),
            "articulation_rate_spm": r6(syl / sp * 60), "speaking_rate_spm": r6(syl / dur * 60),
            "first_onset_s": seg[p][0][0], "last_end_s": seg[p][-1][1], "utterances": utts[p],
        }

    if kind == "mixed_mono":
        tsegs = merge(allsp)
        tsyl = sum(x["syllables"] for p in utts for x in utts[p])
        role = "all"
    else:
        tsegs = seg["agent"]
        tsyl = sum(x["syllables"] for x in utts["agent"])
        role = "agent"
    tsp = sum(e - s for s, e in merge(tsegs))
    asr = {p: sum(1 for x in utts[p] if "ASR-derived" in x["verification"]) for p in utts}
    truth = {
        "call": call, "file": f"{call}.wav", "split": "heldout", "seed": seed, "index": idx,
        "generator_version": GENERATOR_VERSION, "kind": kind, "language": language,
        "channels": len(final), "channel_roles": roles if kind == "stereo" else
        (["agent"] if kind == "agent_only" else ["agent+customer"]),
        "sample_rate": out_sr, "encoding": encoding, "bandwidth": bandwidth,
        "channel_filter": ("Butterworth band-pass 300-3400 Hz (order 4, zero-phase) at 16 kHz, "
                           "then resample_poly 1:2 to 8 kHz") if bandwidth == "telephone"
        else "none",
        "duration_s": r6(dur), "n_samples": int(dec.shape[0]),
        "noise": {"kind": noise_kind, "snr_db": None if snr is None else r6(snr),
                  "snr_definition": "speech power over the speech spans of the channel / noise "
                  "power over the whole channel, both after the channel filter",
                  "per_channel": per_channel_noise},
        "level": {"target_speech_dbfs": r6(level), "customer_rel_db":
                  None if kind == "agent_only" else r6(cust_rel),
                  "definition": "RMS over the speech spans, 20*log10 with full scale = 1.0 "
                  "(0 dBFS)", "gain_after_mix_db": r6(gain_db), "peak_limited": peak_limited,
                  "speech_dbfs_per_channel": lv_ch, "speech_dbfs_per_role": lv_role},
        "clipping": clip_info, "dc_offset": r6(dc),
        "crosstalk": xt if xt else ({"applied": False} if kind == "stereo" else None),
        "loudness_ref_lufs": r6(lufs), "loudness_ref_lufs_ch0": r6(lufs0),
        "loudness_ref_note": "pyebur128 integrated loudness of the decoded file, all channels "
        "(BS.1770: per-channel mean squares summed, weight 1.0)",
        "agent": role_block("agent", 0),
        "customer": role_block("customer", 1 if kind == "stereo" else 0),
        "asr_derived_transcripts": asr,
        "greeting_latency_s": seg["agent"][0][0], "greeting_pass": seg["agent"][0][0] <= 2.0,
        "dead_air": spans6(dead), "agent_pauses": spans6(agent_pauses),
        "response_latencies": lat, "response_latencies_s": [x["latency_s"] for x in lat],
        "overtalk": spans6(ot), "overtalk_s": r6(sum(e - s for s, e in ot)),
        "target": {
            "role": role, "note": "what the speech.*/rate.*/silence.* keys of a result for this "
            "file should describe: the agent (agent_only, stereo ch0) or all speech (mixed_mono); "
            "long_gaps = dead air (nobody speaking), first_onset_s = greeting latency",
            "segments": spans6(tsegs), "speech_s": r6(tsp), "syllables": tsyl,
            "first_onset_s": tsegs[0][0], "long_gaps": spans6(dead),
            "all_gaps": spans6(gaps_of(tsegs)), "speaking_rate_spm": r6(tsyl / dur * 60),
            "articulation_rate_spm": r6(tsyl / tsp * 60),
        },
        "plan": {"channel": chan, "noise": noise_kind, "snr_db": snr and r6(snr),
                 "level_dbfs": r6(level), "customer_rel_db": r6(cust_rel), "clip": clip,
                 "dc": bool(dc), "greeting_latency_planned_s": greet, "max_uses": 2,
                 **plan_extra},
    }
    with open(out / "truth" / f"{call}.json", "w", encoding="utf-8") as f:
        json.dump(truth, f, indent=1, ensure_ascii=False)
    return truth


TSV_COLS = ["file", "syllables", "speech_seconds", "segments", "gaps", "first_speech_s", "lufs",
            "kind", "language", "channels", "sample_rate", "encoding", "noise", "snr_db",
            "speech_dbfs", "clipped", "dc_offset", "duration_s", "agent_syllables",
            "customer_syllables", "greeting_latency_s", "greeting_pass", "dead_air",
            "response_latencies_s", "overtalk", "agent_segments", "customer_segments"]


def tsv_row(t: dict) -> list:
    tg, c = t["target"], t["customer"]
    js = json.dumps
    return [t["file"], tg["syllables"], tg["speech_s"], js(tg["segments"]), js(tg["all_gaps"]),
            tg["first_onset_s"], t["loudness_ref_lufs"], t["kind"], t["language"], t["channels"],
            t["sample_rate"], t["encoding"], t["noise"]["kind"],
            "" if t["noise"]["snr_db"] is None else t["noise"]["snr_db"],
            t["level"]["speech_dbfs_per_role"]["agent"], int(t["clipping"]["applied"]),
            t["dc_offset"], t["duration_s"], t["agent"]["syllables"],
            "" if c is None else c["syllables"], t["greeting_latency_s"],
            int(t["greeting_pass"]), js(t["dead_air"]), js(t["response_latencies_s"]),
            js(t["overtalk"]), js(t["agent"]["segments"]), "" if c is None else js(c["segments"])]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output folder (created)")
    ap.add_argument("--count", type=int, default=40,
                    help=f"number of calls (default 40, at most {MAX_COUNT})")
    ap.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    ap.add_argument("--speech", default="/work/shared/data/speech",
                    help="folder with manifest.tsv and the utterances")
    ap.add_argument("--prefix", default="ho", help="call name prefix (default ho)")
    ap.add_argument("--trims-from", default="/work/shared/data/calls/truth",
                    help="truth folder whose utterance trims (src_start_s, src_end_s) are reused "
                    "for the same files, so segment ends follow the dev set's convention; "
                    "'' = the energy rule for every file")
    ap.add_argument("--stems", action="store_true",
                    help="also write OUT/stems/<call>.npz: each channel's speech and noise apart "
                    "(for scripts/gap_oracle.py --stems); the calls are the same with or without")
    a = ap.parse_args(argv)
    if not 1 <= a.count <= MAX_COUNT:
        ap.error(f"--count must be 1 to {MAX_COUNT}")
    out = Path(a.out)
    try:
        (out / "truth").mkdir(parents=True, exist_ok=True)
        if a.stems:
            (out / "stems").mkdir(exist_ok=True)
    except OSError as e:
        ap.error(f"--out {out}: cannot create it: {e.strerror}")
    speech = load_speech(Path(a.speech), dev_trims(Path(a.trims_from) if a.trims_from else None))
    # kinds in the dev set's proportions (16 agent_only, 14 stereo, 10 mixed_mono of 40)
    n_a = round(a.count * 16 / 40)
    n_s = round(a.count * 14 / 40)
    kinds = ["agent_only"] * n_a + ["stereo"] * n_s + ["mixed_mono"] * (a.count - n_a - n_s)
    kinds = [kinds[i] for i in np.random.default_rng([a.seed, 999_999]).permutation(a.count)]
    rows = []
    for i, k in enumerate(kinds):
        t = make_call(i, k, a.seed, a.prefix, speech, out, out / "stems" if a.stems else None)
        rows.append(tsv_row(t))
        print(f"{t['file']}: {k} {t['language']} {t['plan']['channel']} {t['noise']['kind']} "
              f"{t['duration_s']:.1f} s, greeting {t['greeting_latency_s']:.2f} s, "
              f"dead air {len(t['dead_air'])}, overtalk {len(t['overtalk'])}", file=sys.stderr)
    with open(out / "truth.tsv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(TSV_COLS)
        w.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
