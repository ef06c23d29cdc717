"""GGUF files read and written in Python, for the malformed-input corpus (make_cases.py) and the
fuzz seeds (fuzz/make_seeds.py): both derive their GGUF inputs from the fixtures' real files.

  g = read(path)        # {"version", "kv": [[key, type, value]], "tensors": [{...}], "data"}
  write_bytes(g)        # the file again (offsets recomputed, tensors' bytes from t["data"])

Follows the GGUF specification (version 2 and 3): little-endian, strings as u64 length + bytes,
metadata values typed (arrays with their element type and count), tensor infos (name, dims in
ggml order, type, offset into the data section), the data section aligned to general.alignment
(default 32).
"""
import struct

U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
SCALAR = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f", BOOL: "<?",
          U64: "<Q", I64: "<q", F64: "<d"}
# ggml tensor types: (values per block, bytes per block)
BLOCKS = {0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
          30: (1, 2)}
GGML_F32, GGML_F16, GGML_Q4_0, GGML_Q8_0, GGML_BF16 = 0, 1, 2, 8, 30


class Reader:
    def __init__(self, b):
        self.b, self.p = b, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.b, self.p)[0]
        self.p += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.take("<Q")
        s = self.b[self.p:self.p + n].decode("utf-8", "surrogateescape")
        self.p += n
        return s

    def value(self, t):
        if t in SCALAR:
            return self.take(SCALAR[t])
        if t == STRING:
            return self.string()
        if t == ARRAY:
            et, n = self.take("<I"), self.take("<Q")
            return [et, [self.value(et) for _ in range(n)]]
        raise ValueError("unknown metadata type %d" % t)


def read(path):
    b = open(path, "rb").read()
    r = Reader(b)
    if b[:4] != b"GGUF":
        raise ValueError(path + ": not a GGUF file")
    r.p = 4
    version, n_tensors, n_kv = r.take("<I"), r.take("<Q"), r.take("<Q")
    kv = []
    for _ in range(n_kv):
        key = r.string()
        t = r.take("<I")
        kv.append([key, t, r.value(t)])
    tensors = []
    for _ in range(n_tensors):
        name = r.string()
        ne = [r.take("<Q") for _ in range(r.take("<I"))]
        tensors.append({"name": name, "ne": ne, "type": r.take("<I"), "offset": r.take("<Q")})
    align = next((v for k, _, v in kv if k == "general.alignment"), 32)
    start = (r.p + align - 1) // align * align
    for t in tensors:
        t["data"] = b[start + t["offset"]:start + t["offset"] + nbytes(t)]
    return {"version": version, "kv": kv, "tensors": tensors}


def nbytes(t):
    per, size = BLOCKS[t["type"]]
    n = 1
    for d in t["ne"]:
        n *= d
    return n // per * size


def pack_string(s):
    b = s.encode("utf-8", "surrogateescape") if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def pack_value(t, v):
    if t in SCALAR:
        return struct.pack(SCALAR[t], v)
    if t == STRING:
        return pack_string(v)
    et, items = v
    return struct.pack("<IQ", et, len(items)) + b"".join(pack_value(et, x) for x in items)


def write_bytes(g, align=32):
    """The file: header, metadata, tensor infos with offsets laid out in order, the data."""
    out = b"GGUF" + struct.pack("<IQQ", g["version"], len(g["tensors"]), len(g["kv"]))
    for key, t, v in g["kv"]:
        out += pack_string(key) + struct.pack("<I", t) + pack_value(t, v)
    data, offsets = b"", []
    for t in g["tensors"]:
        data += b"\0" * ((align - len(data) % align) % align)
        offsets.append(t.get("force_offset", len(data)))
        data += t["data"]
    for t, off in zip(g["tensors"], offsets):
        out += pack_string(t["name"]) + struct.pack("<I", len(t["ne"])) + b"".join(struct.pack("<Q", d) for d in t["ne"])
        out += struct.pack("<IQ", t["type"], off)
    out += b"\0" * ((align - len(out) % align) % align)
    return out + data


def get(g, key, default=None):
    return next((v for k, _, v in g["kv"] if k == key), default)


def set_kv(g, key, t, v):
    for e in g["kv"]:
        if e[0] == key:
            e[1], e[2] = t, v
            return
    g["kv"].append([key, t, v])


def tensor(g, name):
    return next(t for t in g["tensors"] if t["name"] == name)


def copy(g):
    """A deep enough copy to edit (tensor bytes become bytearrays)."""
    return {"version": g["version"], "kv": [[k, t, v] for k, t, v in g["kv"]],
            "tensors": [dict(t, ne=list(t["ne"]), data=bytearray(t["data"])) for t in g["tensors"]]}
