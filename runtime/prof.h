/*
 * prof.h - where a training step's time goes: exclusive time per category
 * of runtime kernel, on the thread that turned profiling on.
 *
 * A kernel entry point opens its category with LN_PROF_SCOPE(cat); the scope
 * ends with the function.  Scopes nest: an inner one (the GEMM inside Dense,
 * an allocation inside a binding) pauses the outer, so every nanosecond is
 * charged to exactly one category and the categories sum to the time spent
 * inside them.  What no scope covers is the caller's (Lua, argument checks,
 * the tape).  Off, a scope costs one load and a branch; lunet's helper
 * threads are never counted (their work is inside the caller's scope).
 */
#ifndef LN_PROF_H
#define LN_PROF_H

#include <stdint.h>

typedef enum ln_prof_cat {
    LN_PROF_GEMM = 0,      /* ln_gemm */
    LN_PROF_ELEMENTWISE,   /* arithmetic, activations, dropout, reductions, copies */
    LN_PROF_LOSS,          /* the fused softmax cross-entropy */
    LN_PROF_OPTIMIZER,     /* the update steps */
    LN_PROF_CONV,          /* the convolution kernels, im2col and col2im (their GEMMs included) */
    LN_PROF_POOL,          /* the pooling kernels */
    LN_PROF_ALLOC,         /* new tensors: the allocation and the collector's step */
    LN_PROF_NCAT
} ln_prof_cat;

extern int ln_prof_on;

/* Start counting on the calling thread, from zero (on), or stop, keeping the counts. */
void ln_prof_enable(int on);

/* Seconds and scopes opened per category since ln_prof_enable(1). */
void ln_prof_read(double seconds[LN_PROF_NCAT], int64_t calls[LN_PROF_NCAT]);
const char *ln_prof_name(int cat);

/* the scope machinery (LN_PROF_SCOPE uses these) */
int ln_prof_push(ln_prof_cat cat); /* 1 when counted */
void ln_prof_pop(int *counted);

#define LN_PROF_CAT2(a, b) a##b
#define LN_PROF_CAT(a, b) LN_PROF_CAT2(a, b)
#define LN_PROF_SCOPE(cat)                                                                         \
    int LN_PROF_CAT(ln_prof_scope_, __LINE__) __attribute__((cleanup(ln_prof_pop), unused)) =      \
        ln_prof_on ? ln_prof_push(cat) : 0

#endif
