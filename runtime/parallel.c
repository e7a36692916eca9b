/*
 * parallel.c - ln_parallel_for and ln_parallel_slots over a kept pool of
 * worker threads (see parallel.h).
 */
#include "parallel.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static int n_threads = 1;

void ln_set_threads(int n)
{
    n_threads = n < 1 ? 1 : (n > LN_MAX_THREADS ? LN_MAX_THREADS : n);
}

int ln_threads(void) { return n_threads; }

typedef struct slice {
    int64_t lo, hi;
    int slot;
    ln_range_fn fn;    /* one of the two is set */
    ln_slot_fn sfn;
    void *ctx;
} slice;

static void run(const slice *s)
{
    if (s->fn)
        s->fn(s->lo, s->hi, s->ctx);
    else
        s->sfn(s->lo, s->hi, s->slot, s->ctx);
}

/* ---- the pool ---------------------------------------------------------------
 * Workers are started on first use and kept: a new thread starts on its
 * parent's core and moves only at the scheduler's next balance, so a
 * thread created per job joins in late on jobs under a millisecond (a
 * convolution's chunks, measured: 2 threads were 8% faster than 1 instead
 * of ~1.8x).
 *
 * After a slice a worker spins for a while (SPIN_NS) watching for the next
 * job, then sleeps on a condition variable.  A training step or a layer of
 * the propagation demo is a chain of jobs tens of microseconds long with a
 * few microseconds of Lua between them: waking a sleeping worker costs
 * 20-50 us (futex, then the scheduler), waking a spinning one well under
 * one.  The caller likewise spins briefly for the slices to finish.  Work
 * that runs on OpenBLAS's own threads parks the pool first
 * (ln_parallel_park), so no lunet worker spins beside them.
 *
 * One job runs at a time: a job started while another runs (from a slice,
 * or from a second thread of the program) runs serially on its caller.
 *
 * Handshakes: the caller writes the slices, then bumps job_gen (seq_cst)
 * and reads `sleepers`; a worker going to sleep counts itself in
 * `sleepers`, then reads job_gen again under the mutex.  One of the two
 * sees the other's write, so a job never waits for a worker that missed
 * it.  The caller's wait for `pending` to reach 0 is the same pattern
 * with `caller_waits`. */

#define SPIN_NS 200000L /* 0.2 ms */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER, finished = PTHREAD_COND_INITIALIZER;
static slice jobs[LN_MAX_THREADS];
static int workers;                    /* started so far (slots 1..workers) */
static atomic_ulong job_gen;           /* bumped for each job */
static atomic_int pending;             /* slices of the current job not yet done */
static atomic_int sleepers;            /* workers in (or going into) the wait on `wake` */
static atomic_int caller_waits;        /* the caller is in (or going into) the wait on `finished` */
static atomic_int parked;              /* set: workers sleep now instead of spinning */
static atomic_flag busy = ATOMIC_FLAG_INIT;
/* the job a worker was started after: it takes only later ones (a worker
 * that took an earlier job's slice would decrement `pending` twice for one
 * job, and the caller would return while it still ran) */
static unsigned long start_gen[LN_MAX_THREADS];

/* the spin in ns: read from the environment by the first job's caller,
 * before it starts any worker (so the workers see it set) */
static long spin = -1;

static void read_spin(void)
{
    if (spin >= 0) return;
    const char *e = getenv("LUNET_SPIN_US");
    long v = e ? atol(e) * 1000L : SPIN_NS;
    spin = v < 0 ? 0 : v;
}

static long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* the two things a thread spins for */
static int gen_moved(unsigned long old) { return atomic_load_explicit(&job_gen, memory_order_acquire) != old; }
static int slices_done(unsigned long unused)
{
    (void)unused;
    return atomic_load_explicit(&pending, memory_order_acquire) == 0;
}

/* spin until ready(arg) holds, the spin time is up or (when parkable) the
 * pool is parked, reading the clock every 64 pauses; returns ready(arg) */
static int spin_until(int (*ready)(unsigned long), unsigned long arg, int parkable)
{
    if (spin <= 0) return ready(arg);
    long end = now_ns() + spin;
    for (unsigned i = 1;; i++) {
        if (ready(arg)) return 1;
        cpu_relax();
        if ((i & 63) == 0 && ((parkable && atomic_load_explicit(&parked, memory_order_relaxed)) || now_ns() > end))
            return ready(arg);
    }
}

static void *worker(void *p)
{
    int k = (int)(intptr_t)p;
    pthread_mutex_lock(&mu);
    unsigned long seen = start_gen[k];
    pthread_mutex_unlock(&mu);
    for (;;) {
        if (!spin_until(gen_moved, seen, 1)) {
            pthread_mutex_lock(&mu);
            atomic_fetch_add(&sleepers, 1);
            while (atomic_load(&job_gen) == seen) pthread_cond_wait(&wake, &mu);
            atomic_fetch_sub(&sleepers, 1);
            pthread_mutex_unlock(&mu);
        }
        seen = atomic_load(&job_gen);
        slice s = jobs[k];
        if (s.lo < s.hi) run(&s);
        if (atomic_fetch_sub(&pending, 1) == 1 && atomic_load(&caller_waits)) {
            pthread_mutex_lock(&mu);
            pthread_cond_signal(&finished);
            pthread_mutex_unlock(&mu);
        }
    }
    return NULL;
}

void ln_parallel_park(void) { atomic_store(&parked, 1); }

/* after fork the child has no workers */
static void forget_workers(void)
{
    workers = 0;
    atomic_store(&sleepers, 0);
    atomic_store(&caller_waits, 0);
}

/* start workers up to slot nt-1; returns how many there are */
static int ensure_workers(int nt)
{
    static int registered = 0;
    if (!registered) {
        read_spin();
        pthread_atfork(NULL, NULL, forget_workers);
        registered = 1;
    }
    while (workers < nt - 1) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_mutex_lock(&mu);
        start_gen[workers + 1] = atomic_load(&job_gen); /* no job runs now: the caller holds `busy` */
        pthread_mutex_unlock(&mu);
        int ok = pthread_create(&t, &attr, worker, (void *)(intptr_t)(workers + 1)) == 0;
        pthread_attr_destroy(&attr);
        if (!ok) break;
        workers++;
    }
    return workers;
}

/* the caller's wait for the workers' slices: a spin, then the condition
 * variable */
static void wait_pending(void)
{
    if (spin_until(slices_done, 0, 0)) return;
    pthread_mutex_lock(&mu);
    atomic_store(&caller_waits, 1);
    while (atomic_load(&pending) > 0) pthread_cond_wait(&finished, &mu);
    atomic_store(&caller_waits, 0);
    pthread_mutex_unlock(&mu);
}

/* [0, n) over nt slices (bounds multiples of align): slice 0 here, the
 * others on the pool's workers (or here, when the pool is busy or a worker
 * cannot be started) */
static void split(int64_t n, int64_t align, int nt, ln_range_fn fn, ln_slot_fn sfn, void *ctx)
{
    slice s[LN_MAX_THREADS];
    int64_t per = (n + nt - 1) / nt;
    per = (per + align - 1) / align * align;
    for (int k = 0; k < nt; k++) {
        s[k].lo = k * per < n ? k * per : n;
        s[k].hi = (k + 1) * per < n ? (k + 1) * per : n;
        s[k].slot = k;
        s[k].fn = fn;
        s[k].sfn = sfn;
        s[k].ctx = ctx;
    }
    if (atomic_flag_test_and_set(&busy)) { /* a job is running: this one runs here */
        for (int k = 0; k < nt; k++)
            if (s[k].lo < s[k].hi) run(&s[k]);
        return;
    }
    int have = ensure_workers(nt), helpers = have < nt - 1 ? have : nt - 1;
    for (int k = 1; k <= workers; k++) jobs[k] = k <= helpers ? s[k] : (slice){0, 0, k, fn, sfn, ctx};
    atomic_store(&parked, 0);
    atomic_store(&pending, workers);
    atomic_fetch_add(&job_gen, 1);
    if (atomic_load(&sleepers) > 0) {
        pthread_mutex_lock(&mu);
        pthread_cond_broadcast(&wake);
        pthread_mutex_unlock(&mu);
    }
    run(&s[0]);
    for (int k = helpers + 1; k < nt; k++) /* slots no worker could take */
        if (s[k].lo < s[k].hi) run(&s[k]);
    wait_pending();
    atomic_flag_clear(&busy);
}

void ln_parallel_for(int64_t n, int64_t align, int64_t min_parallel, ln_range_fn fn, void *ctx)
{
    int nt = n_threads;
    if (align < 1) align = 1;
    if (nt > 1 && n / nt < min_parallel / 2) nt = (int)(n / (min_parallel / 2 > 0 ? min_parallel / 2 : 1));
    if (nt <= 1 || n < min_parallel) {
        fn(0, n, ctx);
        return;
    }
    split(n, align, nt, fn, NULL, ctx);
}

void ln_parallel_slots(int64_t n, ln_slot_fn fn, void *ctx)
{
    int nt = n_threads < n ? n_threads : (int)n;
    if (nt <= 1) {
        if (n > 0) fn(0, n, 0, ctx);
        return;
    }
    split(n, 1, nt, NULL, fn, ctx);
}
