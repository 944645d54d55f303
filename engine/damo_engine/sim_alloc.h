/*
 * Zeroed allocations for the simulator's page tables.  Big arrays (a bitmap
 * for a 100 GiB VMA is 3 MiB) come from 2 MiB-aligned anonymous mappings with
 * MADV_HUGEPAGE, so that touching them costs one host fault per 2 MiB rather
 * than per 4 KiB; small ones from calloc.
 */
#ifndef DAMO_SIM_ALLOC_H
#define DAMO_SIM_ALLOC_H
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define SIM_BIG_ALLOC (2UL << 20)

static inline size_t sim_alloc_len(size_t n)
{
	return (n + SIM_BIG_ALLOC - 1) & ~(SIM_BIG_ALLOC - 1);
}

static inline void *sim_zalloc(size_t n)
{
	size_t len, slack;
	uintptr_t p, aligned;
	void *m;

	if (n < SIM_BIG_ALLOC)
		return calloc(1, n ? n : 1);
	len = sim_alloc_len(n);
	m = mmap(NULL, len + SIM_BIG_ALLOC, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	p = (uintptr_t)m;
	aligned = (p + SIM_BIG_ALLOC - 1) & ~(SIM_BIG_ALLOC - 1);
	if (aligned > p)
		munmap(m, aligned - p);
	slack = (p + len + SIM_BIG_ALLOC) - (aligned + len);
	if (slack)
		munmap((void *)(aligned + len), slack);
#ifdef MADV_HUGEPAGE
	madvise((void *)aligned, len, MADV_HUGEPAGE);
#endif
	return (void *)aligned;
}

static inline void sim_zfree(void *p, size_t n)
{
	if (!p)
		return;
	if (n < SIM_BIG_ALLOC)
		free(p);
	else
		munmap(p, sim_alloc_len(n));
}
#endif
