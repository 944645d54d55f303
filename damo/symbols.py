"""Function names for instruction addresses, from the ELF symbol tables of
the files a process had mapped (stdlib only: struct over the ELF headers).

An instruction address ``ip`` inside a file mapping [start, end) at file
offset ``offset`` is at file offset ``ip - start + offset``; the PT_LOAD
segment holding that offset turns it into the ELF virtual address that
``.symtab`` / ``.dynsym`` function symbols (STT_FUNC, STT_GNU_IFUNC) cover.
"""
import bisect
import os
import struct

import numpy as np

_ELF_MAGIC = b"\x7fELF"
_PT_LOAD = 1
_SHT_SYMTAB = 2
_SHT_DYNSYM = 11
_STT_FUNC = 2
_STT_GNU_IFUNC = 10
UNKNOWN = "[unknown]"


class ElfError(Exception):
    pass


def is_elf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == _ELF_MAGIC
    except OSError:
        return False


class ElfSymbols:
    """Function symbols and loadable segments of one ELF file (64 or 32 bit,
    either byte order)."""

    def __init__(self, path):
        self.path = path
        self.segments = []          # (p_offset, p_filesz, p_vaddr)
        starts, ends, names = [], [], []
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            raise ElfError("%s: %s" % (path, e.strerror or e)) from None
        if data[:4] != _ELF_MAGIC or len(data) < 64:
            raise ElfError("%s: not an ELF file" % path)
        is64 = data[4] == 2
        end = "<" if data[5] == 1 else ">"
        try:
            if is64:
                (phoff, shoff) = struct.unpack_from(end + "QQ", data, 32)
                (phentsize, phnum, shentsize, shnum) = struct.unpack_from(end + "HHHH", data, 54)
            else:
                (phoff, shoff) = struct.unpack_from(end + "II", data, 28)
                (phentsize, phnum, shentsize, shnum) = struct.unpack_from(end + "HHHH", data, 42)
            for i in range(phnum):
                o = phoff + i * phentsize
                if is64:
                    p_type, _, p_offset, p_vaddr, _, p_filesz = struct.unpack_from(
                        end + "IIQQQQ", data, o)
                else:
                    p_type, p_offset, p_vaddr, _, p_filesz = struct.unpack_from(
                        end + "IIIII", data, o)
                if p_type == _PT_LOAD:
                    self.segments.append((p_offset, p_filesz, p_vaddr))
            sections = []
            for i in range(shnum):
                o = shoff + i * shentsize
                if is64:
                    (_, sh_type, _, _, sh_offset, sh_size, sh_link, _, _, sh_entsize) = \
                        struct.unpack_from(end + "IIQQQQIIQQ", data, o)
                else:
                    (_, sh_type, _, _, sh_offset, sh_size, sh_link, _, _, sh_entsize) = \
                        struct.unpack_from(end + "IIIIIIIIII", data, o)
                sections.append((sh_type, sh_offset, sh_size, sh_link, sh_entsize))
            seen = set()
            for sh_type, sh_offset, sh_size, sh_link, sh_entsize in sections:
                if sh_type not in (_SHT_SYMTAB, _SHT_DYNSYM) or not sh_entsize:
                    continue
                str_off, str_size = sections[sh_link][1], sections[sh_link][2]
                strtab = data[str_off:str_off + str_size]
                for k in range(sh_size // sh_entsize):
                    o = sh_offset + k * sh_entsize
                    if is64:
                        st_name, st_info, _, _, st_value, st_size = struct.unpack_from(
                            end + "IBBHQQ", data, o)
                    else:
                        st_name, st_value, st_size, st_info, _, _ = struct.unpack_from(
                            end + "IIIBBH", data, o)
                    if (st_info & 0xF) not in (_STT_FUNC, _STT_GNU_IFUNC) or not st_value:
                        continue
                    if (st_value, st_size) in seen:
                        continue
                    seen.add((st_value, st_size))
                    nul = strtab.find(b"\0", st_name)
                    name = strtab[st_name:nul if nul >= 0 else None].decode("utf-8", "replace")
                    starts.append(st_value)
                    ends.append(st_value + max(st_size, 1))
                    names.append(name)
        except (struct.error, IndexError) as e:
            raise ElfError("%s: malformed ELF (%s)" % (path, e)) from None
        order = np.argsort(np.asarray(starts, dtype=np.uint64), kind="stable")
        self.starts = np.asarray(starts, dtype=np.uint64)[order]
        self.ends = np.asarray(ends, dtype=np.uint64)[order]
        self.names = [names[i] for i in order.tolist()]

    def vaddr_of_offset(self, offsets):
        """ELF virtual addresses of file offsets (numpy); -1 outside segments."""
        offsets = np.asarray(offsets, dtype=np.int64)
        out = np.full(len(offsets), -1, dtype=np.int64)
        for p_offset, p_filesz, p_vaddr in self.segments:
            inside = (offsets >= p_offset) & (offsets < p_offset + max(p_filesz, 1))
            out[inside] = offsets[inside] - p_offset + p_vaddr
        return out

    def lookup(self, vaddrs):
        """Index into ``names`` of the function holding each vaddr, or -1."""
        vaddrs = np.asarray(vaddrs, dtype=np.int64)
        if not len(self.starts):
            return np.full(len(vaddrs), -1, dtype=np.int64)
        idx = np.searchsorted(self.starts.astype(np.int64), vaddrs, side="right") - 1
        ok = (idx >= 0) & (vaddrs >= 0)
        idx_ok = np.where(ok, idx, 0)
        ok &= vaddrs < self.ends.astype(np.int64)[idx_ok]
        return np.where(ok, idx, -1)


class Symbolizer:
    """Function names for instruction addresses of one process, given its
    code mappings [(start, end, offset, path)]."""

    def __init__(self, code_maps):
        self.maps = sorted({(int(s), int(e), int(o), p) for s, e, o, p in code_maps})
        self._starts = [m[0] for m in self.maps]
        self._elves = {}

    def _elf(self, path):
        if path not in self._elves:
            try:
                self._elves[path] = ElfSymbols(path) if os.path.isfile(path) else None
            except ElfError:
                self._elves[path] = None
        return self._elves[path]

    def symbolize(self, ips):
        """(names, objects, index): a function per distinct instruction
        address.  ``index[i]`` is the row of ips[i] in names/objects; a
        function is named once per object even when many ips fall in it.
        Addresses outside every known mapping get their own hex name."""
        ips = np.asarray(ips, dtype=np.uint64)
        uniq, inverse = np.unique(ips, return_inverse=True)
        keys = {}
        names, objects = [], []
        row_of_uniq = np.empty(len(uniq), dtype=np.int64)
        mapping_of = np.array([bisect.bisect_right(self._starts, int(ip)) - 1
                               for ip in uniq.tolist()], dtype=np.int64)
        resolved = {}
        for mi in np.unique(mapping_of).tolist():
            sel = np.flatnonzero(mapping_of == mi)
            sel_ips = uniq[sel].astype(np.int64)
            if mi < 0:
                inside = np.zeros(len(sel), dtype=bool)
            else:
                start, end, offset, path = self.maps[mi]
                inside = sel_ips < end
            for k, i in enumerate(sel.tolist()):
                if not inside[k]:
                    resolved[i] = ("0x%x" % int(uniq[i]), "?")
            if not inside.any():
                continue
            start, end, offset, path = self.maps[mi]
            obj = os.path.basename(path)
            elf = self._elf(path)
            idx = np.full(int(inside.sum()), -1, dtype=np.int64)
            if elf is not None:
                vaddrs = elf.vaddr_of_offset(sel_ips[inside] - start + offset)
                idx = elf.lookup(vaddrs)
            for i, fi in zip(sel[inside].tolist(), idx.tolist()):
                resolved[i] = (elf.names[fi] if fi >= 0 else UNKNOWN, obj)
        for i in range(len(uniq)):
            key = resolved[i]
            row = keys.get(key)
            if row is None:
                row = keys[key] = len(names)
                names.append(key[0])
                objects.append(key[1])
            row_of_uniq[i] = row
        return names, objects, row_of_uniq[inverse]
