/*
 * DAMON's per-sample work on one sampled page of a VMA (vaddr's mkold and
 * access check), on the VMA's page-bit arrays held in a local struct: the
 * per-region loops load them once per VMA, not once per region, and the
 * chunk's summary word and bit are computed once for every summary tested.
 * Same results as memory.pxd's vma_mkold() and vma_young().
 */
#ifndef DAMO_SIM_VADDR_H
#define DAMO_SIM_VADDR_H
#include <stdint.h>
#include "sim_pagebits.h"

typedef struct {
	pagebits *present, *young;
	const uint8_t *huge;		/* chunk mapped by a THP */
	uint64_t *lru_ref;		/* PG_young */
	const uint64_t *damon_ref_chunks;
	uint64_t *damon_ref;		/* !PG_idle */
} sim_va_pages;

/* pb_test() with the chunk's summary word cw and bit cm given */
static inline __attribute__((always_inline)) int
sim_pb_test_cm(const pagebits *b, uint64_t i, uint64_t cw, uint64_t cm)
{
	if (b->full[cw] & cm)
		return !(b->nexc && (b->exc_chunks[cw] & cm) && pb_is_exc(b, i));
	return (b->any[cw] & cm) && bm_test(b->bits, i);
}

/* vma_mkold(): clear the Accessed bit keeping the reference for reclaim
 * (PG_young), and mark the folio idle */
static inline __attribute__((always_inline)) void
sim_va_mkold(const sim_va_pages *p, int64_t li)
{
	uint64_t c = (uint64_t)li >> 9, cw = c >> 6, cm = 1ULL << (c & 63);
	uint64_t h = li;

	if (!sim_pb_test_cm(p->present, li, cw, cm))
		return;
	if (p->huge[c]) {
		h = c << 9;
		if (sim_pb_test_cm(p->young, li, cw, cm)) {
			bm_set(p->lru_ref, h);
			pb_clear_chunk(p->young, c);
		}
	} else if (pb_test_clear(p->young, li)) {
		bm_set(p->lru_ref, li);
	}
	if (p->damon_ref_chunks[cw] & cm)
		bm_clear(p->damon_ref, h);
}

/* vma_young(): the page's Accessed bit (a THP's PMD bit) or a reference
 * reclaim took since the last mkold; the folio size only for present pages */
static inline __attribute__((always_inline)) int
sim_va_young(const sim_va_pages *p, int64_t li, uint64_t *folio_sz)
{
	uint64_t c = (uint64_t)li >> 9, cw = c >> 6, cm = 1ULL << (c & 63);
	int huge;

	if (!sim_pb_test_cm(p->present, li, cw, cm))
		return 0;
	huge = p->huge[c];
	*folio_sz = huge ? 2097152 : 4096;
	if (sim_pb_test_cm(p->young, li, cw, cm))
		return 1;
	return (p->damon_ref_chunks[cw] & cm) &&
		bm_test(p->damon_ref, huge ? c << 9 : (uint64_t)li);
}
#endif
