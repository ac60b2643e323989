#!/usr/bin/env python3
"""Loudness-only peers for BENCHMARKS.md: integrated loudness of one WAV file.

usage: loudness_peers.py {pyloudnorm|libebur128|libebur128-tp} FILE

pyloudnorm: BS.1770 in numpy (reads the whole file into memory).
libebur128: the C library through the `pyebur128` binding, fed in 1 s blocks
(`-tp` adds true peak). Prints the integrated loudness (LUFS).
"""
import sys

import numpy as np
import soundfile as sf


def main():
    peer, path = sys.argv[1], sys.argv[2]
    if peer == "pyloudnorm":
        import pyloudnorm

        data, rate = sf.read(path, dtype="float64")
        print(f"{pyloudnorm.Meter(rate).integrated_loudness(data):.2f} LUFS")
        return
    import pyebur128

    info = sf.info(path)
    mode = pyebur128.MeasurementMode.MODE_I
    if peer == "libebur128-tp":
        mode |= pyebur128.MeasurementMode.MODE_TRUE_PEAK
    state = pyebur128.R128State(info.channels, info.samplerate, mode)
    for block in sf.blocks(path, blocksize=info.samplerate, dtype="float64", always_2d=True):
        state.add_frames(np.ascontiguousarray(block).ravel(), len(block))
    print(f"{pyebur128.get_loudness_global(state):.2f} LUFS")


if __name__ == "__main__":
    main()
