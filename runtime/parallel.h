/*
 * parallel.h - split a job over threads.
 *
 * A job runs one slice on its caller and the others on a kept pool of
 * workers, started at first use.  Between jobs a worker spins for 0.2 ms
 * (LUNET_SPIN_US overrides it), so the next job of a chain starts at once,
 * then sleeps on a condition variable.  Before anything runs on OpenBLAS's
 * own threads, ln_parallel_park sends the spinning workers to sleep, so
 * they never compete with those (DESIGN.md, "Threads").
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

/* As ln_parallel_for, with min_parallel 2 and align 1, over n tasks, each
 * slice told its slot in [0, ln_threads()) so it can use a workspace of
 * its own.  The slots run at once; a caller that needs results independent
 * of the thread count makes each task's work independent of its slot. */
typedef void (*ln_slot_fn)(int64_t lo, int64_t hi, int slot, void *ctx);
void ln_parallel_slots(int64_t n, ln_slot_fn fn, void *ctx);

/* Elements from which an elementwise pass (an activation, a fused Dense
 * pass, an optimizer update, row reductions, a dropout mask) is split over
 * the threads: a spinning worker starts at once, but a slice under 16k
 * elements gains little. */
#define LN_PARALLEL_MIN ((int64_t)1 << 15)

/* Send spinning workers to sleep now (the next job wakes them). */
void ln_parallel_park(void);

#endif
