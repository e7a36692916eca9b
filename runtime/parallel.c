/*
 * parallel.c - ln_parallel_for with pthreads created per job (see parallel.h).
 */
#include "parallel.h"

#include <pthread.h>

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

static void *run_slice(void *p)
{
    run(p);
    return NULL;
}

/* [0, n) over nt slices (bounds multiples of align): slice 0 here, the
 * others on threads of their own (or here, when one cannot start) */
static void split(int64_t n, int64_t align, int nt, ln_range_fn fn, ln_slot_fn sfn, void *ctx)
{
    slice s[LN_MAX_THREADS];
    pthread_t tid[LN_MAX_THREADS];
    int started[LN_MAX_THREADS] = {0};
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
    for (int k = 1; k < nt; k++)
        started[k] = s[k].lo < s[k].hi && pthread_create(&tid[k], NULL, run_slice, &s[k]) == 0;
    run(&s[0]);
    for (int k = 1; k < nt; k++) {
        if (started[k])
            pthread_join(tid[k], NULL);
        else if (s[k].lo < s[k].hi)
            run(&s[k]); /* could not start: run it here */
    }
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
