"""The per-page bits with per-chunk summaries (sim_pagebits.h) behave like a
plain set of pages under any sequence of operations, including exception
list spills."""
import random

import pytest

from damo_engine.memory import PageBitsForTest

CHUNK = 512


@pytest.mark.parametrize("seed", range(12))
def test_pagebits_match_a_plain_set(seed):
    rng = random.Random(seed)
    nchunks = rng.choice([1, 3, 8])
    pages = nchunks * CHUNK
    bits, model = PageBitsForTest(nchunks), set()
    for step in range(3000):
        op = rng.random()
        if op < 0.25:
            lo = rng.randrange(pages)
            hi = min(pages, lo + rng.choice([1, 7, 300, CHUNK, 2 * CHUNK, pages]))
            bits.set_range(lo, hi)
            model.update(range(lo, hi))
        elif op < 0.55:                     # DAMON-like single-page clears
            i = rng.randrange(pages)
            bits.clear(i)
            model.discard(i)
        elif op < 0.65:
            i = rng.randrange(pages)
            bits.set(i)
            model.add(i)
        elif op < 0.72:
            c = rng.randrange(nchunks)
            bits.set_chunk(c)
            model.update(range(c * CHUNK, (c + 1) * CHUNK))
        elif op < 0.77:
            c = rng.randrange(nchunks)
            bits.clear_chunk(c)
            model.difference_update(range(c * CHUNK, (c + 1) * CHUNK))
        elif op < 0.82:
            lo = rng.randrange(pages)
            hi = min(pages, lo + rng.randrange(1, 3 * CHUNK))
            bits.clear_range(lo, hi)
            model.difference_update(range(lo, hi))
        else:
            lo = rng.randrange(pages)
            hi = rng.randrange(lo, pages + 1)
            assert bits.count(lo, hi) == sum(1 for p in model if lo <= p < hi), step
        probe = rng.randrange(pages)
        assert bits.test(probe) == (probe in model), (step, probe)
    assert [p for p in range(pages) if bits.test(p)] == sorted(model)


def test_clearing_pages_of_full_chunks_keeps_exceptions_then_spills():
    bits = PageBitsForTest(200)
    cap = bits.max_exceptions
    assert 1 < cap < 190
    bits.set_range(0, 200 * CHUNK)
    for c in range(cap - 1):                 # one clear in each of cap - 1 chunks
        bits.clear(c * CHUNK + 5)
    assert bits.nr_exceptions == cap - 1
    assert not bits.test(5) and bits.test(6)
    for c in range(cap - 1, cap + 6):        # the list spills and starts over
        bits.clear(c * CHUNK + 5)
    assert bits.nr_exceptions < cap
    assert bits.count(0, 200 * CHUNK) == 200 * CHUNK - (cap + 6)
    bits.set_range(0, 200 * CHUNK)           # a sweep makes them all set again
    assert bits.count(0, 200 * CHUNK) == 200 * CHUNK and bits.nr_exceptions == 0
