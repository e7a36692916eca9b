/*
 * prof.c - exclusive time per kernel category (see prof.h).
 */
#include "prof.h"

#include <pthread.h>
#include <time.h>

int ln_prof_on = 0;

#define MAX_DEPTH 16

static pthread_t owner;
static int64_t total_ns[LN_PROF_NCAT], opened[LN_PROF_NCAT];
static ln_prof_cat stack[MAX_DEPTH];
static int depth;        /* open scopes (those past MAX_DEPTH are not counted) */
static int64_t since;    /* when the innermost open scope last resumed */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void ln_prof_enable(int on)
{
    ln_prof_on = 0;
    if (on) {
        for (int c = 0; c < LN_PROF_NCAT; c++) total_ns[c] = opened[c] = 0;
        depth = 0;
        owner = pthread_self();
    }
    ln_prof_on = on;
}

int ln_prof_push(ln_prof_cat cat)
{
    if (!pthread_equal(pthread_self(), owner) || depth >= MAX_DEPTH) return 0;
    /* a convolution's own GEMMs and passes are its time (those on the helper
     * threads could not be told apart anyway) */
    if (depth > 0 && stack[depth - 1] == LN_PROF_CONV) return 0;
    int64_t t = now_ns();
    if (depth > 0) total_ns[stack[depth - 1]] += t - since; /* pause the outer scope */
    stack[depth++] = cat;
    opened[cat]++;
    since = t;
    return 1;
}

void ln_prof_pop(int *counted)
{
    /* a scope opened before profiling was turned on (or off) is not counted */
    if (!*counted || depth == 0 || !pthread_equal(pthread_self(), owner)) return;
    int64_t t = now_ns();
    total_ns[stack[--depth]] += t - since;
    since = t; /* the outer scope resumes */
}

void ln_prof_read(double seconds[LN_PROF_NCAT], int64_t calls[LN_PROF_NCAT])
{
    for (int c = 0; c < LN_PROF_NCAT; c++) {
        seconds[c] = (double)total_ns[c] * 1e-9;
        calls[c] = opened[c];
    }
}

const char *ln_prof_name(int cat)
{
    static const char *names[LN_PROF_NCAT] = {"gemm", "elementwise", "loss", "optimizer", "conv",
                                              "pool", "alloc"};
    return cat >= 0 && cat < LN_PROF_NCAT ? names[cat] : "?";
}
