"""Numbers as damo reads and prints them: sizes, times, ratios.

damo stores and prints numbers in several human forms ("94,827,419,009,024",
"143.027 MiB", "16 m 40 s 100 ms", "5 %").  The parsers accept all of them;
the formatters reproduce damo 3.4.3's strings exactly, because reports are
compared with damo's byte for byte.
"""
import struct

# damo asks platform.architecture(), which runs `file` on the interpreter (a
# process, tens of ms at every start); the interpreter's pointer size says
# the same without it.
ULONG_MAX = 2**64 - 1 if struct.calcsize("P") == 8 else 2**32 - 1

NS_PER = {"ns": 1, "us": 1000, "ms": 1000**2, "s": 1000**3,
          "m": 60 * 1000**3, "h": 3600 * 1000**3, "d": 86400 * 1000**3}
_UNIT_OF_NS = {v: k for k, v in NS_PER.items()}

BYTES_PER = {"B": 1}
for _i, _p in enumerate("KMGTPE", start=1):
    BYTES_PER[_p] = BYTES_PER[_p + "B"] = BYTES_PER[_p + "iB"] = 1 << (10 * _i)


# ---------------------------------------------------------------- parsing

def to_number(txt):
    """A JSON number, or a decimal string with optional thousands separators."""
    if isinstance(txt, bool):
        raise ValueError("not a number: %r" % txt)
    if isinstance(txt, (int, float)):
        return txt
    if txt == "max":
        return ULONG_MAX
    plain = txt.replace(",", "")
    try:
        return int(plain)
    except ValueError:
        return float(plain)


def _common(txt, min_val=0, max_val=ULONG_MAX):
    if txt == "min":
        return min_val
    if txt == "max":
        return max_val
    try:
        return to_number(txt)
    except (ValueError, TypeError, AttributeError):
        return None


def to_bytes(txt):
    """'4096', '4,096', '4 KiB', '4K', '1.5 MiB', 'max' -> bytes (int)."""
    number = _common(txt)
    if number is not None:
        return number
    txt = txt.strip()
    for width in (3, 2, 1):
        unit = txt[-width:].strip()
        if len(txt) > width and unit in BYTES_PER and txt[-width:] == unit:
            number = to_number(txt[:-width].strip())
            return min(ULONG_MAX, int(number * BYTES_PER[unit]))
    raise ValueError("not a size: %r" % txt)


def to_ns(txt):
    """'1000', '5 ms', '16 m 40 s 100 ms' (parts are summed) -> nanoseconds."""
    number = _common(txt)
    if number is not None:
        return number
    fields = txt.split()
    if len(fields) > 2:
        return sum(to_ns("".join(fields[i:i + 2])) for i in range(0, len(fields), 2))
    txt = "".join(fields)
    for width in (2, 1):
        unit = txt[-width:]
        if len(txt) > width and unit in NS_PER and not (width == 1 and txt[-2:] in NS_PER):
            return to_number(txt[:-width]) * NS_PER[unit]
    return float(txt)


def to_us(txt):
    number = _common(txt)
    if number is not None:
        return number
    return to_ns(txt) / 1000


def to_ratio(txt):
    """'50 %' -> 0.5; a bare number is taken as it is."""
    number = _common(txt, 0.0)
    if number is not None:
        return number
    txt = txt.strip()
    if txt.endswith("%"):
        return to_number(txt[:-1].strip()) / 100.0
    return to_number(txt)


def to_percent(txt):
    number = _common(txt, 0)
    if number is not None:
        return number
    return to_ratio(txt) * 100


def to_bp(txt):
    number = _common(txt, 0)
    if number is not None:
        return number
    return to_ratio(txt) * 10000


# ---------------------------------------------------------------- formatting

def format_nr(nr, raw):
    if nr < 0:
        return "-" + format_nr(-nr, raw)
    text = "%d" % nr
    if raw:
        return text
    groups = []
    while text:
        groups.insert(0, text[-3:])
        text = text[:-3]
    return ",".join(groups)


_SIZE_UNITS = [(60, "EiB"), (50, "PiB"), (40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")]


def _format_size(sz, raw, number_fmt):
    if raw:
        return "%d" % sz
    sz = float(sz)
    if sz == float(ULONG_MAX):
        return "max"
    for shift, unit in _SIZE_UNITS:
        if sz > 1 << shift:
            return (number_fmt + " %s") % (sz / (1 << shift), unit)
    return "%d B" % sz


def format_sz(sz, raw):
    """Size with three decimals, e.g. '196.848 MiB' (damo's format_sz)."""
    return _format_size(sz, raw, "%.3f")


def format_sz_accurate(sz, raw):
    """Size with six decimals, e.g. '127.576196 TiB' (used for addresses)."""
    return _format_size(sz, raw, "%f")


def format_time_ns(time_ns, raw):
    """Time rounded for humans, e.g. '9 m 56.607 s' (damo's format_time_ns)."""
    if raw:
        return "%d" % time_ns
    time_ns = float(time_ns)
    sign = ""
    if time_ns < 0:
        sign, time_ns = "-", -time_ns
    if time_ns >= ULONG_MAX:
        return sign + "max"
    hour, minute, sec = NS_PER["h"], NS_PER["m"], NS_PER["s"]
    if time_ns >= hour:
        hours = int(time_ns / hour)
        rest = time_ns - hours * hour
        if rest == 0:
            return "%s%d h" % (sign, hours)
        return "%s%d h %s" % (sign, hours, format_time_ns(rest, False))
    if time_ns >= minute:
        if time_ns % minute == 0:
            return "%s%d m" % (sign, time_ns / minute)
        if time_ns % sec == 0:
            return "%s%d m %d s" % (sign, time_ns / minute, (time_ns % minute) / sec)
        return "%s%d m %.3f s" % (sign, time_ns / minute, (time_ns % minute) / sec)
    for unit in ("s", "ms", "us"):
        unit_ns = NS_PER[unit]
        if time_ns >= unit_ns:
            if time_ns % unit_ns == 0:
                return "%s%d %s" % (sign, time_ns / unit_ns, unit)
            return "%s%.3f %s" % (sign, time_ns / unit_ns, unit)
    return "%s%d ns" % (sign, time_ns)


def format_time_us(time_us, raw):
    if raw:
        return "%d" % time_us
    return format_time_ns(time_us * 1000, False)


def format_time_ns_exact(time_ns, raw):
    """Time without rounding, e.g. '16 m 40 s 100 ms' (damo's *_exact)."""
    if raw:
        return "%d" % time_ns
    sign = ""
    if time_ns < 0:
        sign, time_ns = "-", -time_ns
    if time_ns >= ULONG_MAX:
        return sign + "max"
    for unit_ns in sorted(_UNIT_OF_NS, reverse=True):
        if time_ns < unit_ns:
            continue
        if unit_ns == 1:
            return "%s%s ns" % (sign, "%.3f" % time_ns if time_ns % 1 else "%d" % time_ns)
        nr_units = int(time_ns / unit_ns)
        text = "%s %s" % (format_nr(nr_units, False), _UNIT_OF_NS[unit_ns])
        rest = time_ns - nr_units * unit_ns
        if rest == 0:
            return sign + text
        return "%s%s %s" % (sign, text, format_time_ns_exact(rest, False))
    return "0 ns"


def format_time_us_exact(time_us, raw):
    return format_time_ns_exact(time_us * 1000, raw)


def format_hz(hz, raw):
    if raw:
        return "%f" % hz
    if hz < 10 and hz != 0:
        return "%.3f hz" % hz
    return "%s hz" % format_nr(hz, False)


def format_ratio(ratio, raw):
    if raw:
        return "%f" % ratio
    whole = format_nr(int(ratio * 100), False)
    fraction = ("%.7f" % (ratio * 100 % 1)).rstrip("0")[2:]
    if fraction == "":
        return "%s %%" % whole
    return "%s.%s %%" % (whole, fraction)


def format_percent(percent, raw):
    if raw:
        return "%f" % percent
    return format_ratio(float(percent) / 100, False)
