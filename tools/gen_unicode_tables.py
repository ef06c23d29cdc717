#!/usr/bin/env python3
"""Generates the Unicode tables of hearth's tokenizer from the Unicode Character Database.

Reads Debian's unicode-data files (UnicodeData.txt, PropList.txt, DerivedCoreProperties.txt,
DerivedNormalizationProps.txt) and writes one C++ source file that defines the arrays declared in
src/tokenizer/unicode_tables.h:

  - property ranges: general category + flags (White_Space, Alphabetic), for \\p{L}, \\p{N},
    \\p{M}, \\s, \\w and friends;
  - canonical combining classes (non-zero only);
  - NFC quick-check values (Maybe / No only);
  - full canonical decompositions (recursively expanded; Hangul syllables are algorithmic);
  - primary composites (canonical pairs that are not composition exclusions).

Every table is sorted by code point and meant to be binary-searched.

Usage: gen_unicode_tables.py --unicode-dir /usr/share/unicode --out unicode_tables.cpp
"""
import argparse
import os
import re
import sys

# Must match hearth::unicode::Gc in src/tokenizer/unicode.h.
CATEGORIES = ["Cn", "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd",
              "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf",
              "Cs", "Co"]
FLAG_WHITE_SPACE = 1
FLAG_ALPHABETIC = 2
MAX_CP = 0x10FFFF

SBASE, SCOUNT = 0xAC00, 11172


def read_unicode_data(path):
    """Returns (category per code point dict, ccc dict, decomposition dict)."""
    gc, ccc, decomp = {}, {}, {}
    range_start = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split(";")
            if len(fields) < 15:
                continue
            cp = int(fields[0], 16)
            name, cat, cc, dec = fields[1], fields[2], int(fields[3]), fields[5]
            if name.endswith(", First>"):
                range_start = cp
                continue
            if name.endswith(", Last>"):
                for c in range(range_start, cp + 1):
                    gc[c] = cat
                    if cc:
                        ccc[c] = cc
                range_start = None
                continue
            gc[cp] = cat
            if cc:
                ccc[cp] = cc
            if dec and not dec.startswith("<"):
                decomp[cp] = [int(x, 16) for x in dec.split()]
    return gc, ccc, decomp


def read_property_file(path, wanted):
    """Code points that have property `wanted` in a PropList-style file."""
    cps = set()
    pat = re.compile(r"^([0-9A-F]+)(?:\.\.([0-9A-F]+))?\s*;\s*([A-Za-z_]+)\s*(?:;\s*([A-Za-z]+))?")
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = pat.match(line)
            if not m or m.group(3) != wanted:
                continue
            lo = int(m.group(1), 16)
            hi = int(m.group(2), 16) if m.group(2) else lo
            cps.update(range(lo, hi + 1))
    return cps


def read_nfc_qc(path):
    """Maps code point -> 1 (Maybe) or 2 (No) for NFC_QC."""
    qc = {}
    pat = re.compile(r"^([0-9A-F]+)(?:\.\.([0-9A-F]+))?\s*;\s*NFC_QC\s*;\s*([MN])")
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = pat.match(line)
            if not m:
                continue
            lo = int(m.group(1), 16)
            hi = int(m.group(2), 16) if m.group(2) else lo
            v = 1 if m.group(3) == "M" else 2
            for c in range(lo, hi + 1):
                qc[c] = v
    return qc


def runs(value_of, default):
    """[(lo, hi, value)] for maximal runs of equal non-default values over all code points."""
    out = []
    cur = None
    for cp in range(MAX_CP + 1):
        v = value_of(cp)
        if cur is not None and v == cur[2] and cp == cur[1] + 1:
            cur[1] = cp
            continue
        if cur is not None:
            out.append(tuple(cur))
            cur = None
        if v != default:
            cur = [cp, cp, v]
    if cur is not None:
        out.append(tuple(cur))
    return out


def full_decomposition(cp, decomp):
    if cp not in decomp:
        return [cp]
    out = []
    for c in decomp[cp]:
        out.extend(full_decomposition(c, decomp))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--unicode-dir", default="/usr/share/unicode")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    d = args.unicode_dir

    gc, ccc, decomp = read_unicode_data(os.path.join(d, "UnicodeData.txt"))
    white = read_property_file(os.path.join(d, "PropList.txt"), "White_Space")
    alpha = read_property_file(os.path.join(d, "DerivedCoreProperties.txt"), "Alphabetic")
    norm_props = os.path.join(d, "DerivedNormalizationProps.txt")
    exclusions = read_property_file(norm_props, "Full_Composition_Exclusion")
    qc = read_nfc_qc(norm_props)
    if not gc or not white or not alpha or not exclusions or not qc:
        sys.exit("gen_unicode_tables.py: incomplete Unicode data in " + d)

    cat_index = {c: i for i, c in enumerate(CATEGORIES)}

    def prop(cp):
        flags = (FLAG_WHITE_SPACE if cp in white else 0) | (FLAG_ALPHABETIC if cp in alpha else 0)
        return (cat_index[gc.get(cp, "Cn")], flags)

    prop_runs = runs(prop, (0, 0))
    ccc_runs = runs(lambda cp: ccc.get(cp, 0), 0)
    qc_runs = runs(lambda cp: qc.get(cp, 0), 0)

    decomp_entries = []  # (cp, [cps])
    for cp in sorted(decomp):
        if SBASE <= cp < SBASE + SCOUNT:
            continue
        decomp_entries.append((cp, full_decomposition(cp, decomp)))

    comp_pairs = []
    for cp, parts in decomp.items():
        if len(parts) == 2 and cp not in exclusions:
            comp_pairs.append((parts[0], parts[1], cp))
    comp_pairs.sort()

    lines = []
    w = lines.append
    w("// Generated by tools/gen_unicode_tables.py from the Unicode Character Database; do not edit.")
    w('#include "tokenizer/unicode_tables.h"')
    w("")
    w("namespace hearth::unicode::tables {")
    w("")
    w("const PropRange kPropRanges[] = {")
    for lo, hi, (cat, flags) in prop_runs:
        w(f"  {{0x{lo:X}, 0x{hi:X}, {cat}, {flags}}},")
    w("};")
    w(f"const size_t kPropRangeCount = {len(prop_runs)};")
    w("")
    w("const ValueRange kCccRanges[] = {")
    for lo, hi, v in ccc_runs:
        w(f"  {{0x{lo:X}, 0x{hi:X}, {v}}},")
    w("};")
    w(f"const size_t kCccRangeCount = {len(ccc_runs)};")
    w("")
    w("const ValueRange kNfcQcRanges[] = {")
    for lo, hi, v in qc_runs:
        w(f"  {{0x{lo:X}, 0x{hi:X}, {v}}},")
    w("};")
    w(f"const size_t kNfcQcRangeCount = {len(qc_runs)};")
    w("")
    data = []
    w("const Decomposition kDecompositions[] = {")
    for cp, parts in decomp_entries:
        w(f"  {{0x{cp:X}, {len(data)}, {len(parts)}}},")
        data.extend(parts)
    w("};")
    w(f"const size_t kDecompositionCount = {len(decomp_entries)};")
    w("const uint32_t kDecompositionData[] = {")
    for i in range(0, len(data), 12):
        w("  " + " ".join(f"0x{c:X}," for c in data[i:i + 12]))
    w("};")
    w("")
    w("const CompositionPair kCompositions[] = {")
    for a, b, c in comp_pairs:
        w(f"  {{0x{a:X}, 0x{b:X}, 0x{c:X}}},")
    w("};")
    w(f"const size_t kCompositionCount = {len(comp_pairs)};")
    w("")
    w("}  // namespace hearth::unicode::tables")

    tmp = args.out + ".tmp"
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
