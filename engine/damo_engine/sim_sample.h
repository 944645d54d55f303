/*
 * Drawing the pages that a batch of uniformly random accesses touches,
 * without performing the accesses.
 *
 * n random accesses to P pages touch each page with probability
 * 1 - exp(-n/P), independently (Poisson).  What that changes in the page
 * tables depends only on the pages whose bits are not set yet: a page already
 * young (and dirty, for writes) stays so whether it is touched again or not.
 * So the sampler walks only the candidate pages (present but not young, or
 * not present at all) and picks each with that probability by geometric
 * skipping: the cost is the candidate words visited plus the pages picked,
 * and whole 2 MiB chunks (64 of them per summary word) that hold no
 * candidate are skipped on the pagebits summaries.
 */
#ifndef DAMO_SIM_SAMPLE_H
#define DAMO_SIM_SAMPLE_H
#include <math.h>
#include <stdint.h>
#include "sim_pagebits.h"
#include "sim_rng.h"

/* the page bits of word w (64 pages), summaries and exceptions resolved */
static inline uint64_t pb_word(const pagebits *b, uint64_t w)
{
	uint64_t c = w >> 3, x;

	if (bm_test(b->full, c)) {
		x = ~0ULL;
		if (pb_chunk_has_exc(b, c))
			for (int k = 0; k < b->nexc; k++)
				if (b->exc[k] >> 6 == w)
					x &= ~(1ULL << (b->exc[k] & 63));
		return x;
	}
	if (!bm_test(b->any, c))
		return 0;
	return b->bits[w];
}

/* summary word q (chunks 64q..64q+63): chunks whose every page is set */
static inline uint64_t pb_all_word(const pagebits *b, uint64_t q)
{
	return b->full[q] & ~b->exc_chunks[q];
}

/* summary word q: chunks with no page set */
static inline uint64_t pb_none_word(const pagebits *b, uint64_t q)
{
	return ~b->full[q] & ~b->any[q];
}

enum { SMP_CLEAR = 0, SMP_ABSENT = 1 };

typedef struct {
	const pagebits *present;
	pagebits *young, *dirty;	/* dirty: NULL unless writes */
	const uint16_t *chunk_present;	/* SMP_ABSENT: present pages per chunk */
	int mode;		/* SMP_CLEAR: present, not young (or not dirty);
				 * SMP_ABSENT: not present */
	uint64_t lo, hi;	/* pages [lo, hi) */
	uint64_t w;		/* word being drawn from */
	uint64_t m;		/* its candidates not yet passed */
	int started;
	uint64_t chunk;		/* SMP_ABSENT: chunk whose words are in cp, or ~0 */
	uint64_t cp[PB_CHUNK_WORDS], cy[PB_CHUNK_WORDS], cd[PB_CHUNK_WORDS];
	uint64_t cx[PB_CHUNK_WORDS];	/* SMP_CLEAR: the chunk's candidates */
	uint64_t skq, skw;	/* SMP_CLEAR: summary word skq's skippable chunks */
	uint64_t cl, ch;	/* SMP_CLEAR: the chunks of the range's ends */
	int64_t left;		/* SMP_CLEAR: the chunk's pages not young and not
				 * picked yet, when its candidates are just those;
				 * else -1 */
	double lq;		/* log(1 - p); 0: every candidate is picked */
	uint32_t q16;		/* p in 1/65536ths, for whole-chunk draws */
	int bern;		/* the current chunk's picks are drawn word by word */
	uint64_t bmask[PB_CHUNK_WORDS];
	int64_t skip;		/* candidates to pass before the next pick */
	sim_rng *rng;
	int sparse;		/* gaps over every page, not over candidates */
	uint64_t pos;		/* sparse: the next page a gap starts at */
} pb_sampler;

/*
 * ln(u) for u in (0, 1], to about 1e-7 relative: the exponent times ln 2
 * plus a polynomial in the mantissa (a gap only needs to be a geometric
 * draw, not the last bit of libm's log, and it is drawn once per pick).
 */
static inline double smp_fast_ln(double u)
{
	union { double d; uint64_t i; } v = { .d = u };
	int e = (int)((v.i >> 52) & 0x7ff) - 1023;
	double m, t, t2;

	v.i = (v.i & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;	/* [1, 2) */
	m = v.d;
	if (m > 1.4142135623730951) {	/* [sqrt2/2, sqrt2): a smaller argument */
		m *= 0.5;
		e++;
	}
	/* ln m = 2 atanh(t), t = (m - 1) / (m + 1), |t| < 0.1716 */
	t = (m - 1.0) / (m + 1.0);
	t2 = t * t;
	return e * 0.6931471805599453 +
		2.0 * t * (1.0 + t2 * (1.0 / 3 + t2 * (1.0 / 5 + t2 * (1.0 / 7 + t2 * (1.0 / 9)))));
}

static inline int64_t smp_gap(pb_sampler *s)
{
	double g, u;

	if (s->lq == 0)
		return 0;
	/* 1 - u in (0, 1]: u = 0 gives ln 1 = 0 */
	u = 1.0 - sim_rng_double(s->rng);
	g = smp_fast_ln(u) / s->lq;
	return g < 4.0e18 ? (int64_t)g : (int64_t)4e18;
}

/* p: probability that a candidate is picked, 0 < p <= 1 */
static inline void smp_init(pb_sampler *s, const pagebits *present, pagebits *young,
			    pagebits *dirty, const uint16_t *chunk_present, int mode,
			    uint64_t lo, uint64_t hi, double p, sim_rng *rng)
{
	s->present = present;
	s->chunk_present = chunk_present;
	s->young = young;
	s->dirty = dirty;
	s->mode = mode;
	s->lo = lo;
	s->hi = hi;
	s->w = lo >> 6;
	s->m = 0;
	s->started = 0;
	s->chunk = ~0ULL;
	s->skq = ~0ULL;
	s->cl = lo >> PB_CHUNK_SHIFT;
	s->ch = hi ? (hi - 1) >> PB_CHUNK_SHIFT : 0;
	s->left = -1;
	s->rng = rng;
	s->lq = p >= 1.0 ? 0 : log(1.0 - p);
	s->q16 = p >= 1.0 ? 65536 : (uint32_t)(p * 65536.0 + 0.5);
	s->bern = 0;
	s->sparse = 0;
	s->pos = lo;
	s->skip = smp_gap(s);
}

/*
 * Sparse draws, for a range of many chunks where few pages are expected to
 * be picked: the gaps run over every page of the range, and a page picked
 * that is no candidate is passed over.  Each candidate is still picked with
 * probability p, independently of the others (whether a page is picked does
 * not depend on the pages around it), so the draw has the same distribution
 * as gaps over the candidates; it costs the expected picks, p (hi - lo), not
 * a pass over the chunks' words (a random burst over 10 GiB of which a few
 * GiB are present visits every one of its 5,120 chunks otherwise).  The
 * pages drawn differ from gaps over the candidates for the same RNG state.
 */
static inline void smp_set_sparse(pb_sampler *s)
{
	s->sparse = 1;
}

static inline int smp_is_candidate(const pb_sampler *s, uint64_t i)
{
	if (!pb_test(s->present, i))
		return s->mode == SMP_ABSENT;
	if (s->mode == SMP_ABSENT)
		return 0;
	return !(pb_test(s->young, i) && (!s->dirty || pb_test(s->dirty, i)));
}

/* the page bits the candidate test of page i reads, fetched ahead: a sparse
 * draw's picks are random pages of a big range, each a cache miss otherwise
 * (a hint only: nothing is read or changed; always inline, as gcc drops a call
 * to a function it finds pure and whose result is unused) */
static inline __attribute__((always_inline)) void smp_prefetch(const pb_sampler *s, uint64_t i)
{
	if (i >= s->hi)
		return;
	__builtin_prefetch(&s->present->bits[i >> 6]);
	if (s->mode == SMP_CLEAR) {
		__builtin_prefetch(&s->young->bits[i >> 6]);
		if (s->dirty)
			__builtin_prefetch(&s->dirty->bits[i >> 6]);
	}
}

static inline int64_t smp_next_sparse(pb_sampler *s)
{
	uint64_t i;

	for (;;) {
		if (s->pos >= s->hi || (uint64_t)s->skip >= s->hi - s->pos) {
			s->pos = s->hi;
			return -1;
		}
		i = s->pos + (uint64_t)s->skip;
		s->pos = i + 1;
		s->skip = smp_gap(s);
		smp_prefetch(s, s->pos + (uint64_t)s->skip);
		if (smp_is_candidate(s, i))
			return (int64_t)i;
	}
}

/* summary word q: chunks that hold no candidate */
static inline uint64_t smp_skippable(const pb_sampler *s, uint64_t q)
{
	uint64_t done;

	if (s->mode == SMP_ABSENT)
		return pb_all_word(s->present, q);
	done = pb_all_word(s->young, q);
	if (s->dirty)
		done &= pb_all_word(s->dirty, q);
	return done | pb_none_word(s->present, q);
}

/* the 8 words of chunk c, summaries and exceptions resolved (one pass over
 * the exceptions, not one per word) */
static inline void pb_chunk_words(const pagebits *b, uint64_t c, uint64_t *out)
{
	int k;

	if (bm_test(b->full, c)) {
		for (k = 0; k < PB_CHUNK_WORDS; k++)
			out[k] = ~0ULL;
		if (pb_chunk_has_exc(b, c))
			for (k = 0; k < b->nexc; k++)
				if (b->exc[k] >> PB_CHUNK_SHIFT == c)
					out[(b->exc[k] >> 6) & 7] &= ~(1ULL << (b->exc[k] & 63));
	} else if (!bm_test(b->any, c)) {
		for (k = 0; k < PB_CHUNK_WORDS; k++)
			out[k] = 0;
	} else {
		for (k = 0; k < PB_CHUNK_WORDS; k++)
			out[k] = b->bits[c * PB_CHUNK_WORDS + k];
	}
}

/* SMP_ABSENT: the candidates of word w */
static inline uint64_t smp_candidates(pb_sampler *s, uint64_t w)
{
	uint64_t x, c = w >> 3;
	int k = w & 7;

	if (s->chunk != c) {
		s->chunk = c;
		pb_chunk_words(s->present, c, s->cp);
	}
	x = ~s->cp[k];
	if (w == s->lo >> 6)
		x &= ~0ULL << (s->lo & 63);
	if (w == (s->hi - 1) >> 6 && (s->hi & 63))
		x &= ~0ULL >> (64 - (s->hi & 63));
	return x;
}

static const uint64_t smp_ones[PB_CHUNK_WORDS] = {
	~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL
};
static const uint64_t smp_zeros[PB_CHUNK_WORDS];

/* the 8 words of chunk c where they are (the page bits, or all set, or all
 * clear), resolved into tmp only for a summarised chunk with exceptions */
static inline const uint64_t *pb_chunk_view(const pagebits *b, uint64_t c, uint64_t *tmp)
{
	if (bm_test(b->full, c)) {
		if (!pb_chunk_has_exc(b, c))
			return smp_ones;
		pb_chunk_words(b, c, tmp);
		return tmp;
	}
	if (!bm_test(b->any, c))
		return smp_zeros;
	return &b->bits[c * PB_CHUNK_WORDS];
}

/*
 * SMP_CLEAR: the candidates of chunk c's words in the range into cx (the
 * words out of it hold none), and their number.  The draw reads them from
 * there: a pick sets bits only of words already passed, so the copy stays
 * what the page bits say ahead.
 */
static inline int64_t smp_clear_chunk(pb_sampler *s, uint64_t c)
{
	const uint64_t *p = pb_chunk_view(s->present, c, s->cp);
	const uint64_t *y = pb_chunk_view(s->young, c, s->cy);
	const uint64_t *d = s->dirty ? pb_chunk_view(s->dirty, c, s->cd) : smp_ones;
	uint64_t wl, wh, x;
	int64_t n = 0;
	int k;

	if (p == smp_ones && d == smp_ones) {
		/* present, and dirty or reads: the pages not young */
#pragma GCC unroll 8
		for (k = 0; k < PB_CHUNK_WORDS; k++) {
			x = ~y[k];
			s->cx[k] = x;
			n += __builtin_popcountll(x);
		}
		s->left = n;
	} else {
#pragma GCC unroll 8
		for (k = 0; k < PB_CHUNK_WORDS; k++) {
			x = p[k] & ~(y[k] & d[k]);
			s->cx[k] = x;
			n += __builtin_popcountll(x);
		}
		s->left = -1;
	}
	if (c == s->cl || c == s->ch) {
		/* a chunk at an end of the range: cut it */
		wl = s->lo >> 6;
		wh = (s->hi - 1) >> 6;
		s->left = -1;
		for (k = 0; k < PB_CHUNK_WORDS; k++)
			if ((c << 3) + k < wl || (c << 3) + k > wh)
				s->cx[k] = 0;
		if (wl >> 3 == c)
			s->cx[wl & 7] &= ~0ULL << (s->lo & 63);
		if (wh >> 3 == c && (s->hi & 63))
			s->cx[wh & 7] &= ~0ULL >> (64 - (s->hi & 63));
		n = 0;
		for (k = 0; k < PB_CHUNK_WORDS; k++)
			n += __builtin_popcountll(s->cx[k]);
	}
	return n;
}

/* SMP_CLEAR: the draw leaves word w; a chunk whose candidates were drawn
 * gets its summary bits back where its pages all came to be set */
static inline void smp_clear_leave(pb_sampler *s)
{
	uint64_t c = s->w >> 3;

	if ((s->w & 7) == 7) {
		/* pb_resummarize(), its tests here (most chunks fail them);
		 * a page left not young cannot make its chunk all young */
		if (s->left <= 0 && !bm_test(s->young->full, c) && bm_test(s->young->any, c))
			pb_resummarize(s->young, c);
		if (s->dirty && !bm_test(s->dirty->full, c) && bm_test(s->dirty->any, c))
			pb_resummarize(s->dirty, c);
	}
	s->w++;
}

/*
 * SMP_CLEAR: the next picked page, or -1.  A chunk is loaded once (its
 * candidate words and their count, so that a chunk without a pick is passed
 * in one step), the words up to the next pick are passed a popcount at a
 * time, and a chunk left is resummarised on the way out (on the call after
 * its last pick: the caller has set the picked pages' bits by then).
 */
static inline __attribute__((always_inline)) int64_t smp_next_clear(pb_sampler *s)
{
	uint64_t wend = ((s->hi - 1) >> 6) + 1, e, c, q, sk, x;
	int64_t cnt;
	int b;

	if (!s->started) {
		s->started = 1;
		goto entry;
	}
	if (s->m) {
		/* the rest of the word of the last pick */
		cnt = __builtin_popcountll(s->m);
		if (s->skip < cnt)
			goto pick;
		s->skip -= cnt;
		s->m = 0;
	}
	/* the rest of its chunk */
	e = ((s->w >> 3) + 1) << 3;
	if (e > wend)
		e = wend;
	while (s->w + 1 < e) {
		s->w++;
		x = s->cx[s->w & 7];
		cnt = __builtin_popcountll(x);
		if (s->skip < cnt) {
			s->m = x;
			goto pick;
		}
		s->skip -= cnt;
	}
	smp_clear_leave(s);
entry:
	for (;;) {
		if (s->w >= wend)
			return -1;
		/* at a chunk: skip the chunks without candidates (the
		 * summaries of the chunks ahead do not change during the
		 * draw: the caller sets bits of the chunk drawn, and the
		 * resummarising is of the chunk left, so a summary word is
		 * read once) */
		c = s->w >> 3;
		for (;;) {
			q = c >> 6;
			if (q != s->skq) {
				s->skq = q;
				s->skw = smp_skippable(s, q);
			}
			/* the first chunk from c on that is not skippable */
			sk = ~s->skw & (~0ULL << (c & 63));
			c = sk ? (q << 6) + (uint64_t)__builtin_ctzll(sk) : (q + 1) << 6;
			if (c << 3 >= wend) {
				s->w = wend;
				return -1;
			}
			if (sk)
				break;
		}
		if (c != s->w >> 3)
			s->w = c << 3;
		e = ((c + 1) << 3) < wend ? ((c + 1) << 3) : wend;
		cnt = smp_clear_chunk(s, c);
		if (s->skip >= cnt) {
			/* no pick in this chunk: pass its candidates */
			s->skip -= cnt;
			s->w = e - 1;
			smp_clear_leave(s);
			continue;
		}
		/* the word holding the pick */
		for (;; s->w++) {
			x = s->cx[s->w & 7];
			cnt = __builtin_popcountll(x);
			if (s->skip < cnt)
				break;
			s->skip -= cnt;
		}
		s->m = x;
		break;
	}
pick:
	while (s->skip > 0) {
		s->m &= s->m - 1;
		s->skip--;
	}
	if (s->left > 0)
		s->left--;
	b = __builtin_ctzll(s->m);
	s->m &= s->m - 1;
	s->skip = smp_gap(s);
	return (int64_t)(s->w * 64 + b);
}

/* a word whose bits are each set with probability q16 / 65536 */
static inline uint64_t smp_bernoulli_word(pb_sampler *s)
{
	uint64_t m = 0;
	uint32_t q = s->q16;

	if (q >= 65536)
		return ~0ULL;
	q |= 65536;			/* the top bit ends the ladder */
	q >>= __builtin_ctz(q);		/* low zero digits: AND into zero */
	while (q > 1) {
		m = (q & 1) ? (m | sim_rng_next(s->rng)) : (m & sim_rng_next(s->rng));
		q >>= 1;
	}
	return m;
}

/*
 * A chunk wholly in the range where several of its absent pages are
 * expected to be picked: its picks are drawn a word at a time (each page
 * independently, as the gaps would), then the gap is drawn afresh (the
 * trials are independent: restarting at a chunk boundary changes nothing).
 */
static inline int smp_chunk_bernoulli(const pb_sampler *s, uint64_t c)
{
	/* worth it from about 4 picks expected in the chunk */
	return s->mode == SMP_ABSENT && s->chunk_present &&
	       (uint64_t)(PB_CHUNK_PAGES - s->chunk_present[c]) * s->q16 >= 4 * 65536 &&
	       (c << 9) >= s->lo && ((c + 1) << 9) <= s->hi;
}

/* the next picked page, or -1 when the range is done */
static inline int64_t smp_next(pb_sampler *s)
{
	uint64_t wend = ((s->hi - 1) >> 6) + 1, q, sk, c;
	int cnt, b;

	if (s->sparse)
		return smp_next_sparse(s);
	if (s->lo >= s->hi)
		return -1;
	if (s->mode == SMP_CLEAR)
		return smp_next_clear(s);
	for (;;) {
		while (s->m == 0) {
			if (s->started)
				s->w++;
			s->started = 1;
			if (s->w >= wend)
				return -1;
			if ((s->w & 7) == 0 || s->w == s->lo >> 6) {
				/* at a chunk: skip the chunks without candidates */
				c = s->w >> 3;
				for (;;) {
					q = c >> 6;
					sk = smp_skippable(s, q) >> (c & 63);
					if (!(sk & 1))
						break;
					/* the run of skippable chunks from c on */
					c += sk == ~0ULL >> (c & 63) ? 64 - (c & 63)
						: (uint64_t)__builtin_ctzll(~sk);
					if (c << 3 >= wend) {
						s->w = wend;
						return -1;
					}
				}
				if (c != s->w >> 3)
					s->w = c << 3;
				if (s->bern) {
					s->bern = 0;
					s->skip = smp_gap(s);
				}
				if (smp_chunk_bernoulli(s, c)) {
					for (int k = 0; k < PB_CHUNK_WORDS; k++)
						s->bmask[k] = smp_bernoulli_word(s);
					s->bern = 1;
				} else if (s->mode == SMP_ABSENT && s->chunk_present &&
				    (c << 9) >= s->lo && ((c + 1) << 9) <= s->hi &&
				    s->skip >= PB_CHUNK_PAGES - s->chunk_present[c]) {
					/* no pick in this chunk: pass its absent pages */
					s->skip -= PB_CHUNK_PAGES - s->chunk_present[c];
					s->w = (c << 3) + 7;
					s->m = 0;
					continue;
				} else {
					/* pass the chunk's words a popcount at a time
					 * up to the one holding the next pick (nothing
					 * is drawn for the words passed, as below) */
					uint64_t e = ((c + 1) << 3) < wend ? ((c + 1) << 3) : wend, x = 0;

					for (; s->w < e; s->w++) {
						x = smp_candidates(s, s->w);
						cnt = __builtin_popcountll(x);
						if (s->skip < cnt)
							break;
						s->skip -= cnt;
					}
					if (s->w == e) {
						s->w = e - 1;	/* the chunk is done */
						s->m = 0;
						continue;
					}
					s->m = x;
					goto have_word;
				}
			}
			s->m = smp_candidates(s, s->w);
			if (s->bern)
				s->m &= s->bmask[s->w & 7];
have_word:		;
		}
		if (s->bern) {
			/* every remaining bit of the word is a pick */
			b = __builtin_ctzll(s->m);
			s->m &= s->m - 1;
			return (int64_t)(s->w * 64 + b);
		}
		cnt = __builtin_popcountll(s->m);
		if (s->skip >= cnt) {
			s->skip -= cnt;
			s->m = 0;
			continue;
		}
		while (s->skip > 0) {
			s->m &= s->m - 1;
			s->skip--;
		}
		b = __builtin_ctzll(s->m);
		s->m &= s->m - 1;
		s->skip = smp_gap(s);
		return (int64_t)(s->w * 64 + b);
	}
}

/* leave the rest of page i's chunk out (a THP was touched as a whole) */
static inline void smp_skip_chunk(pb_sampler *s, uint64_t i)
{
	uint64_t end = ((i >> 9) + 1) << 3;	/* first word of the next chunk */

	if (s->sparse) {
		if (s->pos < end << 6)
			s->pos = end << 6;
		return;
	}
	s->m = 0;
	if (end - 1 > s->w)
		s->w = end - 1;
}
/*
 * SMP_CLEAR, the pass over the words: draw the picks and set their bits as
 * the accesses would, young (and dirty, for writes), a THP's chunk as a
 * whole (one Accessed bit: the rest of its chunk is left out).  One loop in
 * C, not a call per pick.
 */
static inline void smp_draw_clear(pb_sampler *s, const uint8_t *huge)
{
	int64_t li;
	uint64_t c;

	if (s->lo >= s->hi)
		return;
	while ((li = smp_next_clear(s)) >= 0) {
		c = (uint64_t)li >> PB_CHUNK_SHIFT;
		if (huge[c]) {
			pb_set_chunk(s->young, c);
			if (s->dirty)
				pb_set_chunk(s->dirty, c);
			smp_skip_chunk(s, (uint64_t)li);
			continue;
		}
		pb_set(s->young, (uint64_t)li);
		if (s->dirty)
			pb_set(s->dirty, (uint64_t)li);
	}
}
#endif
