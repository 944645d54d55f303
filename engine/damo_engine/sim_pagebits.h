/*
 * Per-page bits with a per-2 MiB-chunk "all set" summary bit.
 *
 * Accesses that sweep whole chunks set one summary bit per chunk instead of
 * 512 page bits, so touching memory costs the same whatever its size.  When
 * one page of a summarised chunk is cleared (DAMON's mkold of its sampled
 * page, a page freed), the page is kept as an exception in a small list
 * instead of materialising the chunk's 512 bits: DAMON's per-sample work then
 * stays on the small summary arrays, which fit in the cache however large the
 * simulated memory is.  When the list is full, every chunk with exceptions is
 * materialised at once (so each clear costs O(1) amortised).  For a THP the
 * summary bit is its PMD bit.  A third summary, "any", says a chunk may have
 * page bits set at all, so tests in empty chunks (DAMON sampling memory that
 * was never touched) stay on the small arrays too.
 */
#ifndef DAMO_SIM_PAGEBITS_H
#define DAMO_SIM_PAGEBITS_H
#include <stdint.h>
#include <string.h>
#include "sim_bitmap.h"

#define PB_CHUNK_SHIFT 9
#define PB_CHUNK_PAGES 512
#define PB_CHUNK_WORDS 8
#define PB_MAX_EXC 8

typedef struct {
	uint64_t *bits;		/* one bit per page */
	uint64_t *full;		/* one bit per chunk: every page is set but exceptions */
	uint64_t *exc_chunks;	/* one bit per chunk: it has exceptions */
	uint64_t *any;		/* one bit per chunk: its page bits may be set */
	uint64_t exc[PB_MAX_EXC];	/* cleared pages of summarised chunks, oldest first */
	int nexc;
} pagebits;

static inline int pb_is_exc(const pagebits *b, uint64_t i)
{
	for (int k = 0; k < b->nexc; k++)
		if (b->exc[k] == i)
			return 1;
	return 0;
}

/* drop the exceptions in [lo, hi) (their pages become set again) */
static inline void pb_drop_exc(pagebits *b, uint64_t lo, uint64_t hi)
{
	int k, j = 0;

	for (k = 0; k < b->nexc; k++) {
		if (b->exc[k] >= lo && b->exc[k] < hi)
			continue;
		b->exc[j++] = b->exc[k];
	}
	if (j == b->nexc)
		return;
	b->nexc = j;
	bm_clear_range(b->exc_chunks, lo >> PB_CHUNK_SHIFT,
		       ((hi - 1) >> PB_CHUNK_SHIFT) + 1);
	for (k = 0; k < b->nexc; k++)	/* chunks partly in range keep theirs */
		bm_set(b->exc_chunks, b->exc[k] >> PB_CHUNK_SHIFT);
}

static inline int pb_chunk_has_exc(const pagebits *b, uint64_t c)
{
	return bm_test(b->exc_chunks, c);
}

/* turn a summarised chunk back into 512 page bits */
static inline void pb_expand(pagebits *b, uint64_t c)
{
	uint64_t lo = c << PB_CHUNK_SHIFT;

	if (!bm_test(b->full, c))
		return;
	memset(&b->bits[c * PB_CHUNK_WORDS], 0xFF, PB_CHUNK_WORDS * sizeof(uint64_t));
	bm_set(b->any, c);
	if (pb_chunk_has_exc(b, c)) {
		for (int k = 0; k < b->nexc; k++)
			if (b->exc[k] >> PB_CHUNK_SHIFT == c)
				bm_clear(b->bits, b->exc[k]);
		pb_drop_exc(b, lo, lo + PB_CHUNK_PAGES);
	}
	bm_clear(b->full, c);
}

/* materialise every chunk that has exceptions; the list becomes empty */
static inline void pb_spill(pagebits *b)
{
	uint64_t c;

	for (int k = 0; k < b->nexc; k++) {
		c = b->exc[k] >> PB_CHUNK_SHIFT;
		if (bm_test(b->full, c)) {
			memset(&b->bits[c * PB_CHUNK_WORDS], 0xFF,
			       PB_CHUNK_WORDS * sizeof(uint64_t));
			bm_set(b->any, c);
			bm_clear(b->full, c);
		}
		bm_clear(b->exc_chunks, c);
	}
	for (int k = 0; k < b->nexc; k++)
		bm_clear(b->bits, b->exc[k]);
	b->nexc = 0;
}

static inline __attribute__((always_inline)) int pb_test(const pagebits *b, uint64_t i)
{
	uint64_t c = i >> PB_CHUNK_SHIFT;

	if (bm_test(b->full, c))
		return !(b->nexc && pb_chunk_has_exc(b, c) && pb_is_exc(b, i));
	return bm_test(b->any, c) && bm_test(b->bits, i);
}

/* pb_set(), pb_clear(): always inline, as gcc left them out of line in the
 * fault and swap-out paths, where they run for every page */
static inline __attribute__((always_inline)) void pb_set(pagebits *b, uint64_t i)
{
	uint64_t c = i >> PB_CHUNK_SHIFT;

	if (bm_test(b->full, c)) {
		if (pb_chunk_has_exc(b, c))
			pb_drop_exc(b, i, i + 1);
		return;
	}
	bm_set(b->any, c);
	bm_set(b->bits, i);
}

static inline __attribute__((always_inline)) void pb_clear(pagebits *b, uint64_t i)
{
	uint64_t c = i >> PB_CHUNK_SHIFT;

	if (!bm_test(b->full, c)) {
		if (bm_test(b->any, c))
			bm_clear(b->bits, i);
		return;
	}
	if (pb_chunk_has_exc(b, c) && pb_is_exc(b, i))
		return;
	if (b->nexc == PB_MAX_EXC) {
		pb_spill(b);
		if (!bm_test(b->full, c)) {	/* this very chunk was materialised */
			bm_clear(b->bits, i);
			return;
		}
	}
	b->exc[b->nexc++] = i;
	bm_set(b->exc_chunks, c);
}

/* the summarised-chunk half of pb_test_clear(), out of the hot path */
static __attribute__((noinline)) int pb_test_clear_full(pagebits *b, uint64_t i)
{
	uint64_t c = i >> PB_CHUNK_SHIFT;

	if (b->nexc && pb_chunk_has_exc(b, c) && pb_is_exc(b, i))
		return 0;
	if (b->nexc == PB_MAX_EXC) {
		pb_spill(b);
		if (!bm_test(b->full, c)) {	/* this very chunk was materialised */
			bm_clear(b->bits, i);
			return 1;
		}
	}
	b->exc[b->nexc++] = i;
	bm_set(b->exc_chunks, c);
	return 1;
}

/* pb_test() then pb_clear() if it was set, in one walk of the summaries
 * (DAMON's mkold of a sampled page) */
static inline __attribute__((always_inline)) int pb_test_clear(pagebits *b, uint64_t i)
{
	uint64_t c = i >> PB_CHUNK_SHIFT;
	uint64_t *w, m;

	if (bm_test(b->full, c))
		return pb_test_clear_full(b, i);
	if (!bm_test(b->any, c))
		return 0;
	w = &b->bits[i >> 6];
	m = 1ULL << (i & 63);
	if (!(*w & m))
		return 0;
	*w &= ~m;
	return 1;
}

static inline void pb_set_chunk(pagebits *b, uint64_t c)
{
	bm_set(b->full, c);
	if (pb_chunk_has_exc(b, c))
		pb_drop_exc(b, c << PB_CHUNK_SHIFT, (c + 1) << PB_CHUNK_SHIFT);
}

static inline void pb_clear_chunk(pagebits *b, uint64_t c)
{
	if (pb_chunk_has_exc(b, c))
		pb_drop_exc(b, c << PB_CHUNK_SHIFT, (c + 1) << PB_CHUNK_SHIFT);
	bm_clear(b->full, c);
	if (bm_test(b->any, c)) {
		memset(&b->bits[c * PB_CHUNK_WORDS], 0, PB_CHUNK_WORDS * sizeof(uint64_t));
		bm_clear(b->any, c);
	}
}

/* a chunk whose 512 page bits all came to be set one by one gets its
 * summary bit back, so that range walks skip it on the summary */
static inline void pb_resummarize(pagebits *b, uint64_t c)
{
	const uint64_t *w = &b->bits[c * PB_CHUNK_WORDS];

	if (bm_test(b->full, c) || !bm_test(b->any, c))
		return;
	if ((w[0] & w[1] & w[2] & w[3] & w[4] & w[5] & w[6] & w[7]) == ~0ULL)
		bm_set(b->full, c);
}

/* set [lo, hi) within one chunk */
static inline void pb_set_part(pagebits *b, uint64_t lo, uint64_t hi)
{
	uint64_t c = lo >> PB_CHUNK_SHIFT;

	if (lo >= hi)
		return;
	if (bm_test(b->full, c)) {
		if (pb_chunk_has_exc(b, c))
			pb_drop_exc(b, lo, hi);
		return;
	}
	if (hi - lo == PB_CHUNK_PAGES) {
		pb_set_chunk(b, c);
		return;
	}
	bm_set(b->any, c);
	bm_set_range(b->bits, lo, hi);
}

static inline void pb_set_range_pages(pagebits *b, uint64_t lo, uint64_t hi)
{
	uint64_t c0 = (lo + PB_CHUNK_PAGES - 1) >> PB_CHUNK_SHIFT;	/* whole chunks [c0, c1) */
	uint64_t c1 = hi >> PB_CHUNK_SHIFT;

	if (c0 >= c1) {
		uint64_t mid = (lo | (PB_CHUNK_PAGES - 1)) + 1;

		if (mid >= hi) {
			pb_set_part(b, lo, hi);
		} else {
			pb_set_part(b, lo, mid);
			pb_set_part(b, mid, hi);
		}
		return;
	}
	pb_set_part(b, lo, c0 << PB_CHUNK_SHIFT);
	bm_set_range(b->full, c0, c1);
	if (b->nexc && bm_count_range(b->exc_chunks, c0, c1))
		pb_drop_exc(b, c0 << PB_CHUNK_SHIFT, c1 << PB_CHUNK_SHIFT);
	pb_set_part(b, c1 << PB_CHUNK_SHIFT, hi);
}

static inline __attribute__((always_inline)) void pb_set_range(pagebits *b, uint64_t lo,
								 uint64_t hi)
{
	if (lo >= hi)
		return;
	if (hi == lo + 1) {	/* one page (a fault, a swap-in): what pb_set_part does */
		pb_set(b, lo);
		return;
	}
	pb_set_range_pages(b, lo, hi);
}

static inline void pb_clear_range(pagebits *b, uint64_t lo, uint64_t hi)
{
	uint64_t c;

	if (lo >= hi)
		return;
	for (c = lo >> PB_CHUNK_SHIFT; c <= (hi - 1) >> PB_CHUNK_SHIFT; c++)
		pb_expand(b, c);
	bm_clear_range(b->bits, lo, hi);
}

static inline uint64_t pb_count_range(const pagebits *b, uint64_t lo, uint64_t hi)
{
	uint64_t n = 0, c, s, e;
	int k;

	while (lo < hi) {
		c = lo >> PB_CHUNK_SHIFT;
		s = lo;
		e = (c + 1) << PB_CHUNK_SHIFT;
		if (e > hi)
			e = hi;
		if (bm_test(b->full, c)) {
			n += e - s;
			if (pb_chunk_has_exc(b, c))
				for (k = 0; k < b->nexc; k++)
					if (b->exc[k] >= s && b->exc[k] < e)
						n--;
		} else if (bm_test(b->any, c)) {
			n += bm_count_range(b->bits, s, e);
		}
		lo = e;
	}
	return n;
}
#endif
