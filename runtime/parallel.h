/*
 * parallel.h - split an elementwise job over threads.
 *
 * No pool and no spinning: a job large enough to be worth it (milliseconds)
 * starts its helper threads, runs one slice itself and joins them; the
 * ~30 us of thread creation is noise at that size, and nothing competes
 * with OpenBLAS's own threads between jobs (DESIGN.md, "Threads").
 */
#ifndef LN_PARALLEL_H
#define LN_PARALLEL_H

#include <stdint.h>

#define LN_MAX_THREADS 64

/* Threads for elementwise kernels (lunet.set_num_threads sets it with
 * OpenBLAS's); 1 = serial. */
void ln_set_threads(int n);
int ln_threads(void);

/* fn(lo, hi, ctx) over [0, n) in slices whose bounds are multiples of
 * `align`; serial when n < min_parallel or one thread is set (or a thread
 * cannot be started).  fn must not fail. */
typedef void (*ln_range_fn)(int64_t lo, int64_t hi, void *ctx);
void ln_parallel_for(int64_t n, int64_t align, int64_t min_parallel, ln_range_fn fn, void *ctx);

#endif
