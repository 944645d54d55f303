/* Measuring this host's memory, from compiled code: the loops behind
 * `damo calibrate` and bench/validate.py.  Each loop makes one kind of
 * access (a dependent load chain, page-stride or random or streaming
 * accesses, reads or writes, first touches) over a buffer and returns the
 * elapsed time; the caller divides by the accesses made. */
#ifndef DAMO_HOSTPERF_H
#define DAMO_HOSTPERF_H

#include <stdint.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>

#ifndef MADV_HUGEPAGE
#define MADV_HUGEPAGE 14
#endif
#ifndef MADV_NOHUGEPAGE
#define MADV_NOHUGEPAGE 15
#endif

/* The thread's CPU time: other processes sharing the CPUs do not count
   (memory contention from them does), page faults the thread takes do. */
static inline double hp_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static inline uint64_t hp_rng(uint64_t *s)
{
    /* xorshift64*: cheap and good enough to defeat prefetchers */
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* A pool of random offsets, filled once, read in order: what a masim-like
 * random pattern costs per access besides the memory (a load from a small
 * table, a multiply-shift), the same in calibration and validation. */
#define HP_POOL 4096

static void hp_fill_pool(uint32_t *pool, uint64_t seed)
{
    uint64_t s = seed | 1;
    for (int i = 0; i < HP_POOL; i++)
        pool[i] = (uint32_t)(hp_rng(&s) >> 32);
}

/* random offset in [0, n) from pool entry k (Lemire's multiply-shift) */
static inline uint64_t hp_pick(const uint32_t *pool, uint64_t k, uint64_t salt, uint64_t n)
{
    uint32_t r = pool[k & (HP_POOL - 1)] ^ (uint32_t)(salt * 0x9E3779B1u);
    return (uint64_t)(((unsigned __int128)r * n) >> 32);
}

/* Build a random cyclic chain through `nlines` 64-byte lines of buf (one
 * pointer per line, the next line's offset), using `perm` (nlines u32) as
 * scratch. */
static void hp_build_chain(unsigned char *buf, uint64_t nlines, uint32_t *perm, uint64_t seed)
{
    uint64_t s = seed | 1, i, j;
    uint32_t t;
    for (i = 0; i < nlines; i++)
        perm[i] = (uint32_t)i;
    for (i = nlines - 1; i > 0; i--) {
        j = hp_rng(&s) % (i + 1);
        t = perm[i]; perm[i] = perm[j]; perm[j] = t;
    }
    for (i = 0; i + 1 < nlines; i++)
        *(uint64_t *)(buf + (uint64_t)perm[i] * 64) = (uint64_t)perm[i + 1] * 64;
    *(uint64_t *)(buf + (uint64_t)perm[nlines - 1] * 64) = (uint64_t)perm[0] * 64;
}

/* Follow the chain for `steps` dependent loads; returns seconds. */
static double hp_chase(const unsigned char *buf, uint64_t steps, uint64_t *sink)
{
    uint64_t c = 0;
    double t = hp_now();
    for (uint64_t i = 0; i < steps; i++)
        c = *(const volatile uint64_t *)(buf + c);
    t = hp_now() - t;
    *sink += c;
    return t;
}

enum { HP_PAGE = 0, HP_RANDOM = 1, HP_STREAM = 2 };

/* `n` accesses of one byte each over buf[0, size): sequential from *offset
 * with `stride` (wrapping to 0 past the end, as masim does) or random;
 * writes store 1, reads are summed into *sink.  Returns seconds. */
static double hp_access(unsigned char *buf, uint64_t size, int kind, uint64_t stride,
                        int write, uint64_t n, uint64_t *offset, const uint32_t *pool,
                        uint64_t *k, uint64_t *sink)
{
    uint64_t off = *offset, s = 0, kk = *k, i;
    double t = hp_now();
    if (kind == HP_RANDOM) {
        if (write)
            for (i = 0; i < n; i++, kk++)
                *(volatile unsigned char *)(buf + hp_pick(pool, kk, kk >> 12, size)) = 1;
        else
            for (i = 0; i < n; i++, kk++)
                s += *(volatile unsigned char *)(buf + hp_pick(pool, kk, kk >> 12, size));
    } else {
        if (write)
            for (i = 0; i < n; i++) {
                off += stride;
                if (off >= size)
                    off = 0;
                *(volatile unsigned char *)(buf + off) = 1;
            }
        else
            for (i = 0; i < n; i++) {
                off += stride;
                if (off >= size)
                    off = 0;
                s += *(volatile unsigned char *)(buf + off);
            }
    }
    t = hp_now() - t;
    *offset = off;
    *k = kk;
    *sink += s;
    return t;
}

/* First touch of `npages` pages of a fresh anonymous mapping (a write to
 * each; `huge`: one write per 2 MiB of a MADV_HUGEPAGE mapping).  Returns
 * seconds, or -1 if the mapping failed. */
static double hp_first_touch(uint64_t bytes, int huge)
{
    uint64_t step = huge ? (2u << 20) : 4096, len = bytes + (huge ? (2u << 20) : 0);
    unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), *a;
    double t;
    if (p == MAP_FAILED)
        return -1;
    a = huge ? (unsigned char *)(((uintptr_t)p + (2u << 20) - 1) & ~(uintptr_t)((2u << 20) - 1)) : p;
    madvise(a, bytes, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    t = hp_now();
    for (uint64_t o = 0; o < bytes; o += step)
        *(volatile unsigned char *)(a + o) = 1;
    t = hp_now() - t;
    munmap(p, len);
    return t;
}

#endif
