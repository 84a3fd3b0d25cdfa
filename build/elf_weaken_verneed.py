#!/usr/bin/env python3
"""Marks one version requirement (e.g. GLIBCXX_3.4.32) of an ELF64 little-endian shared library as
weak (VER_FLG_WEAK) so that the dynamic loader does not refuse the library when the version is
missing. Walks the SHT_GNU_verneed chains. Idempotent. Usage: elf_weaken_verneed.py FILE VERSION"""
import struct
import sys

SHT_GNU_VERNEED = 0x6FFFFFFE
VER_FLG_WEAK = 0x2


def main(path: str, version: str) -> int:
    with open(path, "r+b") as f:
        data = bytearray(f.read())
        if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
            print(f"{path}: not an ELF64 little-endian file", file=sys.stderr)
            return 1
        shoff, = struct.unpack_from("<Q", data, 0x28)
        shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
        sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
        found = False
        for sh in sections:
            if sh[1] != SHT_GNU_VERNEED:
                continue
            strtab = sections[sh[6]]  # sh_link -> .dynstr
            str_off = strtab[4]
            def name_at(o: int) -> str:
                end = data.index(b"\0", str_off + o)
                return data[str_off + o:end].decode()
            off = sh[4]
            for _ in range(sh[7]):  # sh_info = number of Verneed entries
                vn_version, vn_cnt, vn_file, vn_aux, vn_next = struct.unpack_from("<HHIII", data, off)
                aux = off + vn_aux
                for _ in range(vn_cnt):
                    vna_hash, vna_flags, vna_other, vna_name, vna_next = struct.unpack_from("<IHHII", data, aux)
                    if name_at(vna_name) == version:
                        struct.pack_into("<H", data, aux + 4, vna_flags | VER_FLG_WEAK)
                        found = True
                    if vna_next == 0:
                        break
                    aux += vna_next
                if vn_next == 0:
                    break
                off += vn_next
        if not found:
            return 0  # nothing requires that version: nothing to do
        f.seek(0)
        f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
