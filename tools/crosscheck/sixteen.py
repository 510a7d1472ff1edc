"""Safetensors files of F32, BF16 and F16 tensors, written and read by hand in numpy, for the
mixed-precision cross-checks (mixed_precision.py, stochastic_rounding.py)."""
import json, struct, numpy as np

def bf16_round(x):
    """float32 array -> float32 rounded to the nearest bf16 (ties to even), NaN made quiet."""
    b = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    nan = (b & 0x7fffffff) > 0x7f800000
    r = (b + 0x7fff + ((b >> 16) & 1)) & 0xffff0000
    r = np.where(nan, (b | 0x00400000) & 0xffff0000, r)
    return (r & 0xffffffff).astype(np.uint32).view(np.float32)

def write(path, tensors, dtypes):
    """tensors: {name: array}; dtypes: {name: "BF16" | "F16"} (others F32). 16-bit values are rounded to nearest."""
    header, blobs, off = {}, [], 0
    for k, v in tensors.items():
        dt = dtypes.get(k, "F32")
        data = (bf16_round(v).view(np.uint32) >> 16).astype(np.uint16).tobytes() if dt == "BF16" else \
               np.asarray(v, dtype=np.float32).astype(np.float16).tobytes() if dt == "F16" else np.asarray(v, dtype='<f4').tobytes()
        header[k] = {"dtype": dt, "shape": list(np.shape(v)), "data_offsets": [off, off + len(data)]}
        off += len(data)
        blobs.append(data)
    h = json.dumps(header).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    open(path, 'wb').write(struct.pack('<Q', len(h)) + h + b''.join(blobs))

def read(path):
    """{name: (dtype, float32 array)}, 16-bit tensors widened exactly."""
    raw = open(path, 'rb').read()
    n = struct.unpack('<Q', raw[:8])[0]
    hdr = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for k, e in hdr.items():
        if k == "__metadata__": continue
        a, b = e["data_offsets"]
        buf = data[a:b]
        if e["dtype"] == "BF16": v = (np.frombuffer(buf, '<u2').astype(np.uint32) << 16).view(np.float32)
        elif e["dtype"] == "F16": v = np.frombuffer(buf, '<f2').astype(np.float32)
        else: v = np.frombuffer(buf, '<f4')
        out[k] = (e["dtype"], v.reshape(e["shape"]))
    return out
