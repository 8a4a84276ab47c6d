"""The recipe's Q8_0 and Q4_0 quantizers against ggml's own reference ones, byte for byte.

    /usr/bin/python3 test/llama/ggml_quants.py path/to/libggml-base.so   -> JSON {"q8_0": {...}, "q4_0": {...}}

ggml's quantize_row_q8_0_ref and quantize_row_q4_0_ref are called through ctypes from the
libggml-base that node-llama-cpp ships, on blocks built to hit the edge cases (zeros, a negative
extreme, equal magnitudes of both signs, halves that round differently to even and away from
zero, tiny and huge scales) and on the glassbox-code weights themselves.
"""
import ctypes
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "models", "recipe"))
from gguf_writer import QK, q4_0, q8_0  # noqa: E402

BYTES = {"q8_0": 2 + QK, "q4_0": 2 + QK // 2}


def edge_blocks():
    rng = np.random.default_rng(7)
    blocks = [np.zeros(QK), -np.ones(QK), np.linspace(-8, 7, QK), np.linspace(-7, 8, QK)]
    b = rng.normal(size=QK); b[3] = -b[np.abs(b).argmax()] * 1.0; blocks.append(b)   # equal magnitudes
    blocks.append(np.arange(QK) - 15.5)                                                # q4: x / d + 8.5 on halves
    halves = np.arange(QK) % 8 - 3.5; halves[0] = 127.0; blocks.append(halves)        # q8: d = 1, codes on k + 0.5
    blocks += [rng.normal(size=QK) * s for s in (1e-30, 1e-6, 1.0, 1e6)]
    return np.stack(blocks).astype(np.float32)


def main():
    lib = ctypes.CDLL(sys.argv[1])
    data = {"edge": edge_blocks()}
    weights = os.path.join(HERE, "..", "..", "models", "glassbox-code", "onnx", "model.onnx")
    if os.path.exists(weights):
        import onnx
        from onnx import numpy_helper
        arrays = [numpy_helper.to_array(i) for i in onnx.load(weights).graph.initializer]
        data["glassbox-code"] = np.concatenate(
            [a.astype(np.float32).reshape(-1) for a in arrays if a.ndim == 2 and a.size % QK == 0])
    out = {}
    for name, ours in (("q8_0", q8_0), ("q4_0", q4_0)):
        fn = getattr(lib, f"quantize_row_{name}_ref")
        fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
        res = {}
        for what, x in data.items():
            x = np.ascontiguousarray(x.reshape(-1), dtype=np.float32)
            ref = np.zeros(x.size // QK * BYTES[name], dtype=np.uint8)
            fn(x.ctypes.data, ref.ctypes.data, x.size)
            mine = np.frombuffer(ours(x.reshape(-1, QK)), dtype=np.uint8)
            res[what] = {"blocks": int(x.size // QK),
                         "blocks_differing": int((ref.reshape(-1, BYTES[name]) != mine.reshape(-1, BYTES[name])).any(axis=1).sum())}
        out[name] = res
    print(json.dumps(out))


if __name__ == "__main__":
    main()
