#!/usr/bin/env python3
"""Where do detected segment ends miss the truth's, utterance by utterance?

    agentvoice eval calls DIR --save DIR.jsonl
    python3 scripts/end_errors.py DIR.jsonl:DIR [RESULTS:DIR ...] [--top 15]

For every placed utterance of every truth (DIR/truth/*.json, from make_calls.py or the dev
calls), the detected segment end of the same party's line nearest the utterance's end
(within 0.7 s; agent_only and stereo calls: mono mixed calls have one line for both
parties and are skipped) gives an end error, detected minus true, seconds. Prints per
source utterance (the truth's `file`) the count, median and mean absolute error on steady
noise and in babble, worst mean absolute error first.

An utterance whose ends come early on every call, whatever the noise, has a last sound the
channel does not carry (ljspeech LJ001-0009's final /s/ lies above 4 kHz; an 8 kHz line
removes it) or one too soft for the detector: `eval calls --misses` tells which, by how far
the line's sound rose over its noise at the truth's boundary. Standard library only.
"""
import argparse
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

MAX_DISTANCE_S = 0.7


def nearest_end(segments: list, end_s: float):
    """The end of `segments` nearest `end_s`, if within MAX_DISTANCE_S."""
    best = min((s[1] for s in segments), key=lambda e: abs(e - end_s), default=None)
    return best if best is not None and abs(best - end_s) <= MAX_DISTANCE_S else None


def collect(results: Path, folder: Path, errors: dict) -> int:
    """Adds the end errors of one results file to `errors`; returns the problems met."""
    problems = 0
    try:
        lines = results.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        print(f"end_errors: {results}: {e}", file=sys.stderr)
        return 1
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            call = Path(r["file"]).stem
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            print(f"end_errors: {results}:{number}: not a result line ({e}); skipped",
                  file=sys.stderr)
            problems += 1
            continue
        truth_path = folder / "truth" / f"{call}.json"
        try:
            t = json.loads(truth_path.read_text())
            kind, noise = t["kind"], t["noise"]["kind"]
        except (OSError, json.JSONDecodeError, KeyError, TypeError) as e:
            print(f"end_errors: {truth_path}: no usable truth ({e}); skipped", file=sys.stderr)
            problems += 1
            continue
        if kind not in ("agent_only", "stereo") or r.get("error"):
            continue
        lines_of = {"agent": (r.get("speech") or {}).get("segments") or []}
        if kind == "stereo":
            lines_of["customer"] = ((r.get("customer") or {}).get("speech") or {}).get(
                "segments") or []
        group = "babble" if noise == "babble" else "steady"
        try:
            for party, segments in lines_of.items():
                for u in (t.get(party) or {}).get("utterances") or []:
                    end = nearest_end(segments, float(u["end"]))
                    if end is not None:
                        errors[u["file"]][group].append(end - float(u["end"]))
        except (KeyError, TypeError, ValueError, IndexError) as e:
            print(f"end_errors: {truth_path} or its result: unexpected shape ({e}); skipped",
                  file=sys.stderr)
            problems += 1
    return problems


def summary(values: list) -> str:
    if not values:
        return f"{0:4d}      -       -"
    mae = statistics.fmean(abs(v) for v in values)
    return f"{len(values):4d} {statistics.median(values):+6.3f} {mae:6.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pairs", nargs="+", metavar="RESULTS:DIR",
                        help="an `eval calls --save` file and the folder it scored")
    parser.add_argument("--top", type=int, default=15, help="utterances to list (default 15)")
    args = parser.parse_args()
    if args.top < 0:
        parser.error("--top must be 0 or more")
    errors = defaultdict(lambda: {"steady": [], "babble": []})
    problems = 0
    for pair in args.pairs:
        results, sep, folder = pair.rpartition(":")
        if not sep or not results:
            parser.error(f"{pair}: expected RESULTS:DIR")
        problems += collect(Path(results), Path(folder), errors)
    if not errors:
        print("end_errors: no utterance end matched a detected end", file=sys.stderr)
        return 1
    print("end error, detected minus true (s): n, median, mean absolute")
    print(f"{'utterance':34} {'steady noise':>18} {'babble':>18}")
    rows = sorted(errors.items(),
                  key=lambda kv: -statistics.fmean(abs(v) for v in kv[1]["steady"] or [0.0]))
    for name, by in rows[: args.top]:
        print(f"{name:34} {summary(by['steady'])} {summary(by['babble'])}")
    everything = [v for by in errors.values() for g in by.values() for v in g]
    print(f"{'all':34} {summary([v for by in errors.values() for v in by['steady']])} "
          f"{summary([v for by in errors.values() for v in by['babble']])}  "
          f"({len(everything)} ends)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
