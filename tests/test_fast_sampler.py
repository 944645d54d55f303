"""sim_sample.h's sampler, which draws the pages a batch of random accesses
touches without making them: each candidate page (present and not young, or
not dirty for writes; or not present, for the faults) is picked with
probability p, independently.  Two ways of drawing it: gaps over the
candidates (a pass over the chunks' words) and, for huge sparse bursts,
gaps over every page with the non-candidates passed over.  They pick
different pages for one RNG state, so what must hold is the distribution:
only candidates, in address order, each with probability p, uniformly over
the range, with the per-draw spread of independent picks.  The model of the
page bits is plain numpy arrays; the expected figures are binomial."""
import numpy as np
import pytest

from damo_engine.memory import PageBitsForTest, kunit_sampler_picks

CHUNK = 512
NCHUNKS = 64
NPAGES = NCHUNKS * CHUNK
LO, HI = 100, NPAGES - 37          # edges inside chunks


def layout():
    """Page bits of every kind the summaries know: absent chunks, chunks
    present and all young (nothing to draw), present and none young,
    present with young pages scattered, partly present, and summarised
    chunks with a few exception pages; numpy models beside them."""
    i = np.arange(NPAGES)
    c = i // CHUNK
    present = np.zeros(NPAGES, bool)
    young = np.zeros(NPAGES, bool)
    dirty = np.zeros(NPAGES, bool)
    present[(c >= 8) & (c < 56)] = True
    young[(c >= 8) & (c < 16)] = True
    scattered = (c >= 24) & (c < 40)
    young[scattered & ((i * 2654435761 >> 7) % 3 == 0)] = True
    partial = (c >= 40) & (c < 48)
    present[partial & (i % 5 == 0)] = False
    young[partial & (i % 7 == 0) & present] = True
    dirty[young & (i % 2 == 0)] = True
    pb_p, pb_y, pb_d = PageBitsForTest(NCHUNKS), PageBitsForTest(NCHUNKS), PageBitsForTest(NCHUNKS)
    for k in range(8, 56):
        pb_p.set_chunk(k)                   # summarised chunks
    for k in range(8, 16):
        pb_y.set_chunk(k)
    for li in np.flatnonzero(partial & ~present):
        pb_p.clear(int(li))                 # materialised (many clears per chunk)
    for li in np.flatnonzero(young & ~((c >= 8) & (c < 16))):
        pb_y.set(int(li))
    for li in np.flatnonzero(dirty):
        pb_d.set(int(li))
    # a summarised chunk with exception pages (cleared pages kept in a list)
    for li in (50 * CHUNK + 3, 50 * CHUNK + 400, 51 * CHUNK + 511):
        pb_p.clear(li)
        present[li] = False
    assert pb_p.nr_exceptions > 0
    for li in range(0, NPAGES, 97):         # the bits say what the model says
        assert pb_p.test(li) == present[li] and pb_y.test(li) == young[li]
        assert pb_d.test(li) == dirty[li]
    return (pb_p, pb_y, pb_d), (present, young, dirty)


@pytest.fixture(scope="module")
def bits():
    return layout()


def candidates(model, kind):
    present, young, dirty = model
    if kind == "absent":
        m = ~present
    elif kind == "write":
        m = present & ~(young & dirty)
    else:
        m = present & ~young
    m = m.copy()
    m[:LO] = False
    m[HI:] = False
    return m


def draw(bits, kind, p, sparse, seed):
    pb_p, pb_y, pb_d = bits
    return kunit_sampler_picks(pb_p, pb_y, pb_d if kind == "write" else None,
                               kind == "absent", LO, HI, p, sparse, seed)


KINDS = ["read", "write", "absent"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("sparse", [False, True])
def test_picks_are_candidates_in_address_order(bits, kind, sparse):
    pbs, model = bits
    cand = candidates(model, kind)
    for p in (0.01, 0.3):
        for seed in range(5):
            picks = np.array(draw(pbs, kind, p, sparse, seed))
            assert len(picks) > 0
            assert np.all(np.diff(picks) > 0)
            assert cand[picks].all()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("sparse", [False, True])
def test_p_one_picks_every_candidate(bits, kind, sparse):
    pbs, model = bits
    assert draw(pbs, kind, 1.0, sparse, 1) == list(np.flatnonzero(candidates(model, kind)))


@pytest.mark.parametrize("kind", KINDS)
def test_sparse_draws_have_the_distribution_of_the_pass_over_the_words(bits, kind):
    pbs, model = bits
    cand = candidates(model, kind)
    n_cand = int(cand.sum())
    p, trials = 0.003, 300
    mean = n_cand * p                       # picks per draw: Binomial(n_cand, p)
    var = n_cand * p * (1 - p)
    # 8 bins of equally many candidates each, for the uniformity test
    idx = np.flatnonzero(cand)
    edges = idx[np.linspace(0, n_cand, 9).astype(int)[1:-1]]
    totals = {}
    for sparse in (False, True):
        counts = []
        per_bin = np.zeros(8)
        for seed in range(trials):
            picks = np.array(draw(pbs, kind, p, sparse, 1000 + seed))
            counts.append(len(picks))
            per_bin += np.bincount(np.searchsorted(edges, picks, side="right"), minlength=8)
        counts = np.array(counts, float)
        total = counts.sum()
        # the total within 5 standard deviations of trials * n_cand * p
        assert abs(total - trials * mean) < 5 * np.sqrt(trials * var), (sparse, total)
        # independent picks: the per-draw variance of a binomial (its
        # estimate's relative spread is about sqrt(2 / trials) = 8%)
        assert 0.6 * var < counts.var(ddof=1) < 1.5 * var, (sparse, counts.var(ddof=1))
        # uniform over the range: chi-square with 7 degrees of freedom
        # (above 40 with probability ~1e-6)
        expect = total / 8
        assert ((per_bin - expect) ** 2 / expect).sum() < 40, (sparse, per_bin)
        totals[sparse] = total
    assert abs(totals[True] - totals[False]) < 5 * np.sqrt(2 * trials * var)


def test_sparse_and_pass_draw_differently_for_one_seed(bits):
    """The two ways are not the same draw (so recordings that use the sparse
    one differ from the pass's for the same seed: documented, not hidden)."""
    pbs, _ = bits
    assert draw(pbs, "read", 0.01, False, 7) != draw(pbs, "read", 0.01, True, 7)


# -- the pass over the words, pick by pick --------------------------------
# A model of sim_rng.h (xoshiro256** seeded by splitmix64) and of the gaps
# (smp_gap: the geometric draw through smp_fast_ln), written from their
# definitions: the pass over the words must pick, for one RNG state, the
# candidates that gaps over the candidates in address order land on (what
# makes a recording the same whatever way the pass walks the chunks).
M64 = (1 << 64) - 1


def _splitmix(x):
    x = (x + 0x9E3779B97F4A7C15) & M64
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return x, z ^ (z >> 31)


def _rng(seed):
    s, x = [], seed
    for _ in range(4):
        x, z = _splitmix(x)
        s.append(z)
    return s


def _rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M64


def _next(s):
    result = (_rotl((s[1] * 5) & M64, 7) * 9) & M64
    t = (s[1] << 17) & M64
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], 45)
    return result


def _fast_ln(u):
    import struct
    i = struct.unpack("<Q", struct.pack("<d", u))[0]
    e = ((i >> 52) & 0x7FF) - 1023
    m = struct.unpack("<d", struct.pack("<Q", (i & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000))[0]
    if m > 1.4142135623730951:
        m *= 0.5
        e += 1
    t = (m - 1.0) / (m + 1.0)
    t2 = t * t
    return e * 0.6931471805599453 + \
        2.0 * t * (1.0 + t2 * (1.0 / 3 + t2 * (1.0 / 5 + t2 * (1.0 / 7 + t2 * (1.0 / 9)))))


def _gap(s, lq):
    u = 1.0 - (_next(s) >> 11) * 2.0 ** -53
    g = _fast_ln(u) / lq
    return int(g) if g < 4.0e18 else int(4e18)


def model_picks(cand, p, seed):
    import math
    s = _rng(seed)
    lq = math.log(1.0 - p)
    idx = np.flatnonzero(cand)
    picks, pos = [], _gap(s, lq)
    while pos < len(idx):
        picks.append(int(idx[pos]))
        pos += 1 + _gap(s, lq)
    return picks


@pytest.mark.parametrize("kind", KINDS)
def test_pass_picks_what_gaps_over_the_candidates_land_on(bits, kind):
    pbs, model = bits
    cand = candidates(model, kind)
    # absent: small p only (from about 4 picks expected in a chunk its
    # picks are drawn a word at a time, not by gaps)
    for p in ((0.001, 0.004) if kind == "absent" else (0.001, 0.02, 0.3, 0.9)):
        for seed in range(4):
            picks = draw(pbs, kind, p, False, 77 + seed)
            assert picks == model_picks(cand, p, 77 + seed), (kind, p, seed)
            assert len(picks) > 0


def test_pass_over_sparse_candidates_picks_by_gaps():
    """Candidates one or two per chunk over summarised chunks (DAMON's
    mkold of one page per region): each chunk is loaded once, passed whole
    when the gap runs past it; the picks are still the gaps' landings."""
    rng = np.random.default_rng(5)
    present, young = np.ones(NPAGES, bool), np.ones(NPAGES, bool)
    pb_p, pb_y = PageBitsForTest(NCHUNKS), PageBitsForTest(NCHUNKS)
    for k in range(NCHUNKS):
        pb_p.set_chunk(k)
        pb_y.set_chunk(k)
    for li in rng.choice(NPAGES, 90, replace=False):
        pb_y.clear(int(li))              # exceptions, then spills into page bits
        young[li] = False
    cand = present & ~young
    cand[:LO] = False
    cand[HI:] = False
    for p in (0.05, 0.5):
        for seed in range(6):
            picks = kunit_sampler_picks(pb_p, pb_y, None, False, LO, HI, p, False, seed)
            assert picks == model_picks(cand, p, seed)
