/*
 * Seedable PRNG for the simulator (xoshiro256**, seeded by splitmix64) and the
 * kernel's random helpers built on it.  Every context, workload and machine
 * owns its own stream, so that one --seed gives one result.
 */
#ifndef DAMO_SIM_RNG_H
#define DAMO_SIM_RNG_H
#include <stdint.h>

typedef struct { uint64_t s[4]; } sim_rng;

static inline uint64_t sim_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline void sim_rng_seed(sim_rng *r, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		r->s[i] = sim_splitmix64(&x);
}

static inline uint64_t sim_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t sim_rng_next(sim_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = sim_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
	s[2] ^= t; s[3] = sim_rotl(s[3], 45);
	return result;
}

static inline uint32_t sim_rng_u32(sim_rng *r) { return (uint32_t)(sim_rng_next(r) >> 32); }

/*
 * The kernel's get_random_u32_below(): uniform in [0, ceil) by reciprocal
 * multiplication with rejection; ceil == 0 yields 0 (as the kernel's
 * variable-ceil path does).
 */
static inline uint32_t sim_rng_u32_below(sim_rng *r, uint32_t ceil)
{
	uint32_t rnd = sim_rng_u32(r);
	uint64_t mult = (uint64_t)ceil * rnd;
	if ((uint32_t)mult < ceil) {
		uint32_t bound = -ceil % ceil;
		while ((uint32_t)mult < bound)
			mult = (uint64_t)ceil * sim_rng_u32(r);
	}
	return (uint32_t)(mult >> 32);
}

/*
 * damon_rand(l, r): l + get_random_u32_below(r - l).  Kernel quirk kept on
 * purpose: r - l is truncated to 32 bits, so a region of 4 GiB or more is
 * sampled only in its first (size mod 4 GiB) bytes.
 */
static inline uint64_t sim_damon_rand(sim_rng *r, uint64_t l, uint64_t h)
{
	return l + sim_rng_u32_below(r, (uint32_t)(h - l));
}

/* Uniform 64-bit integer in [0, n), n > 0 (Lemire's method). */
static inline uint64_t sim_rng_below(sim_rng *r, uint64_t n)
{
	__uint128_t m = (__uint128_t)sim_rng_next(r) * n;
	uint64_t low = (uint64_t)m;
	if (low < n) {
		uint64_t t = -n % n;
		while (low < t) {
			m = (__uint128_t)sim_rng_next(r) * n;
			low = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

/* Uniform double in [0, 1). */
static inline double sim_rng_double(sim_rng *r)
{
	return (double)(sim_rng_next(r) >> 11) * 0x1.0p-53;
}
#endif
