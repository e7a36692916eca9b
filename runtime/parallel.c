/*
 * parallel.c - ln_parallel_for and ln_parallel_slots over a kept pool of
 * worker threads (see parallel.h).
 */
#include "parallel.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

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
 * of ~1.8x).  A kept worker sleeps on a condition variable between jobs and
 * wakes on its own core.  One job runs at a time: a job started while
 * another runs (from a slice, or from a second thread of the program) runs
 * serially on its caller. */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER, finished = PTHREAD_COND_INITIALIZER;
static slice jobs[LN_MAX_THREADS];
static int workers;            /* started so far (slots 1..workers) */
static unsigned long job_gen;  /* bumped for each job */
static int pending;            /* slices of the current job not yet done */
static atomic_flag busy = ATOMIC_FLAG_INIT;
/* the job a worker was started after: it takes only later ones (a worker
 * that took an earlier job's slice would decrement `pending` twice for one
 * job, and the caller would return while it still ran) */
static unsigned long start_gen[LN_MAX_THREADS];

static void *worker(void *p)
{
    int k = (int)(intptr_t)p;
    pthread_mutex_lock(&mu);
    unsigned long seen = start_gen[k];
    for (;;) {
        while (job_gen == seen) pthread_cond_wait(&wake, &mu);
        seen = job_gen;
        slice s = jobs[k];
        pthread_mutex_unlock(&mu);
        if (s.lo < s.hi) run(&s);
        pthread_mutex_lock(&mu);
        if (--pending == 0) pthread_cond_signal(&finished);
    }
    return NULL;
}

/* after fork the child has no workers */
static void forget_workers(void) { workers = 0; }

/* start workers up to slot nt-1; returns how many there are */
static int ensure_workers(int nt)
{
    static int registered = 0;
    if (!registered) {
        pthread_atfork(NULL, NULL, forget_workers);
        registered = 1;
    }
    while (workers < nt - 1) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_mutex_lock(&mu);
        start_gen[workers + 1] = job_gen; /* no job runs now: the caller holds `busy` */
        pthread_mutex_unlock(&mu);
        int ok = pthread_create(&t, &attr, worker, (void *)(intptr_t)(workers + 1)) == 0;
        pthread_attr_destroy(&attr);
        if (!ok) break;
        workers++;
    }
    return workers;
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
    pthread_mutex_lock(&mu);
    for (int k = 1; k <= workers; k++) jobs[k] = k <= helpers ? s[k] : (slice){0, 0, k, fn, sfn, ctx};
    pending = workers;
    job_gen++;
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&mu);
    run(&s[0]);
    for (int k = helpers + 1; k < nt; k++) /* slots no worker could take */
        if (s[k].lo < s[k].hi) run(&s[k]);
    pthread_mutex_lock(&mu);
    while (pending > 0) pthread_cond_wait(&finished, &mu);
    pthread_mutex_unlock(&mu);
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
