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
        self._starts_list = None
        self._ends_list = None

    def name_at(self, offset):
        """The function holding file offset ``offset``, or None (scalar)."""
        if self._starts_list is None:
            self._starts_list = self.starts.tolist()
            self._ends_list = self.ends.tolist()
        for p_offset, p_filesz, p_vaddr in self.segments:
            if p_offset <= offset < p_offset + max(p_filesz, 1):
                vaddr = offset - p_offset + p_vaddr
                i = bisect.bisect_right(self._starts_list, vaddr) - 1
                if i >= 0 and vaddr < self._ends_list[i]:
                    return self.names[i]
                return None
        return None

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


class FunctionTable:
    """Function ids for instruction addresses, as a traced process runs:
    ``table(ip)`` names the function holding ip from the code mappings the
    trace source knows at that time (``source.code_mapping(ip)``), and gives
    its id in ``names`` / ``objects``.  Addresses outside every known code
    mapping are functions of their own, named by their address."""

    def __init__(self, source):
        self.source = source
        self.ids = {}
        self.names = []
        self.objects = []
        self._elves = {}

    def _elf(self, path):
        if path not in self._elves:
            try:
                self._elves[path] = ElfSymbols(path) if os.path.isfile(path) else None
            except ElfError:
                self._elves[path] = None
        return self._elves[path]

    def __call__(self, ip):
        m = self.source.code_mapping(ip)
        if m is None and hasattr(self.source, "learn_code"):
            self.source.learn_code(ip)
            m = self.source.code_mapping(ip)
        if m is None:
            key = ("0x%x" % ip, "?")
        else:
            start, end, offset, path = m
            elf = self._elf(path)
            name = elf.name_at(ip - start + offset) if elf is not None else None
            key = (name or UNKNOWN, os.path.basename(path))
        f = self.ids.get(key)
        if f is None:
            f = self.ids[key] = len(self.names)
            self.names.append(key[0])
            self.objects.append(key[1])
        return f
