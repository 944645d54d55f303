/*
 * Bit ranges over uint64_t words: the per-page Accessed/present/dirty/... bits
 * of the simulated page tables.  Range operations work a word at a time so
 * that touching a large range costs size/64, not size.
 */
#ifndef DAMO_SIM_BITMAP_H
#define DAMO_SIM_BITMAP_H
#include <stdint.h>

static inline int bm_test(const uint64_t *bm, uint64_t i)
{
	return (bm[i >> 6] >> (i & 63)) & 1;
}

static inline void bm_set(uint64_t *bm, uint64_t i) { bm[i >> 6] |= 1ULL << (i & 63); }
static inline void bm_clear(uint64_t *bm, uint64_t i) { bm[i >> 6] &= ~(1ULL << (i & 63)); }

/* mask of bits [lo, hi) within one word, 0 <= lo < hi <= 64 */
static inline uint64_t bm_mask(unsigned lo, unsigned hi)
{
	uint64_t upper = hi == 64 ? ~0ULL : ((1ULL << hi) - 1);
	return upper & ~((1ULL << lo) - 1);
}

static inline void bm_set_range(uint64_t *bm, uint64_t start, uint64_t end)
{
	if (start >= end)
		return;
	uint64_t ws = start >> 6, we = (end - 1) >> 6;
	if (ws == we) {
		bm[ws] |= bm_mask(start & 63, ((end - 1) & 63) + 1);
		return;
	}
	bm[ws] |= bm_mask(start & 63, 64);
	for (uint64_t w = ws + 1; w < we; w++)
		bm[w] = ~0ULL;
	bm[we] |= bm_mask(0, ((end - 1) & 63) + 1);
}

static inline void bm_clear_range(uint64_t *bm, uint64_t start, uint64_t end)
{
	if (start >= end)
		return;
	uint64_t ws = start >> 6, we = (end - 1) >> 6;
	if (ws == we) {
		bm[ws] &= ~bm_mask(start & 63, ((end - 1) & 63) + 1);
		return;
	}
	bm[ws] &= ~bm_mask(start & 63, 64);
	for (uint64_t w = ws + 1; w < we; w++)
		bm[w] = 0;
	bm[we] &= ~bm_mask(0, ((end - 1) & 63) + 1);
}

/* number of set bits in [start, end) */
static inline uint64_t bm_count_range(const uint64_t *bm, uint64_t start, uint64_t end)
{
	if (start >= end)
		return 0;
	uint64_t ws = start >> 6, we = (end - 1) >> 6, n;
	if (ws == we)
		return __builtin_popcountll(bm[ws] & bm_mask(start & 63, ((end - 1) & 63) + 1));
	n = __builtin_popcountll(bm[ws] & bm_mask(start & 63, 64));
	for (uint64_t w = ws + 1; w < we; w++)
		n += __builtin_popcountll(bm[w]);
	n += __builtin_popcountll(bm[we] & bm_mask(0, ((end - 1) & 63) + 1));
	return n;
}

/* index of the first set bit in [start, end), or end if none */
static inline uint64_t bm_find_set(const uint64_t *bm, uint64_t start, uint64_t end)
{
	while (start < end) {
		uint64_t w = bm[start >> 6] >> (start & 63);
		if (w) {
			uint64_t i = start + __builtin_ctzll(w);
			return i < end ? i : end;
		}
		start = (start | 63) + 1;
	}
	return end;
}

/* index of the first i in [start, end) set in a and clear in b, or end if none */
static inline uint64_t bm_find_set_andnot(const uint64_t *a, const uint64_t *b,
					  uint64_t start, uint64_t end)
{
	while (start < end) {
		uint64_t w = (a[start >> 6] & ~b[start >> 6]) >> (start & 63);
		if (w) {
			uint64_t i = start + __builtin_ctzll(w);
			return i < end ? i : end;
		}
		start = (start | 63) + 1;
	}
	return end;
}

/* index of the first clear bit in [start, end), or end if none */
static inline uint64_t bm_find_clear(const uint64_t *bm, uint64_t start, uint64_t end)
{
	while (start < end) {
		uint64_t w = ~bm[start >> 6] >> (start & 63);
		if (w) {
			uint64_t i = start + __builtin_ctzll(w);
			return i < end ? i : end;
		}
		start = (start | 63) + 1;
	}
	return end;
}
#endif
