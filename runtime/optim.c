/*
 * optim.c - optimizer update kernels (see optim.h).  Each is one loop the
 * compiler vectorises (-fno-math-errno makes sqrt inline), written once
 * for float and double with the scalars in the parameter's type.
 */
#include "optim.h"
#include "parallel.h"
#include "prof.h"

#include <math.h>

#define SQRT(v) _Generic((v), float: sqrtf, double: sqrt)(v)
#define FABS(v) _Generic((v), float: fabsf, double: fabs)(v)

/* Define the kernels F32 and F64 from one body using type T. */
#define BOTH(F32, F64, PARAMS, ...)                                                                \
    static void F32 PARAMS                                                                         \
    {                                                                                              \
        typedef float T;                                                                           \
        __VA_ARGS__                                                                                \
    }                                                                                              \
    static void F64 PARAMS                                                                         \
    {                                                                                              \
        typedef double T;                                                                          \
        __VA_ARGS__                                                                                \
    }


/* clang-format off */
BOTH(ln_sgd_step_f32, ln_sgd_step_f64, (int64_t n, void *wv, const void *gv, void *mv, double lr, double momentum, int nesterov), {
    T *w = wv, *m = mv;
    const T *g = gv;
    const T tl = (T)lr, tm = (T)momentum;
    if (momentum == 0) {
        for (int64_t i = 0; i < n; i++) w[i] -= tl * g[i];
    } else if (nesterov) {
        for (int64_t i = 0; i < n; i++) {
            m[i] = tm * m[i] - tl * g[i];
            w[i] += tm * m[i] - tl * g[i];
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            m[i] = tm * m[i] - tl * g[i];
            w[i] += m[i];
        }
    }
})

BOTH(ln_rmsprop_step_f32, ln_rmsprop_step_f64, (int64_t n, void *wv, const void *gv, void *vv, void *mgv, void *momv, double lr,
               double rho, double momentum, double eps, int centered), {
    T *w = wv, *v = vv, *mg = mgv, *mom = momv;
    const T *g = gv;
    const T tl = (T)lr, tr = (T)rho, t1r = (T)(1 - rho), te = (T)eps, tm = (T)momentum;
    for (int64_t i = 0; i < n; i++) {
        v[i] = tr * v[i] + t1r * g[i] * g[i];
        T den;
        if (centered) {
            mg[i] = tr * mg[i] + t1r * g[i];
            den = SQRT(v[i] - mg[i] * mg[i] + te);
        } else {
            den = SQRT(v[i] + te);
        }
        if (momentum > 0) {
            mom[i] = tm * mom[i] + tl * g[i] / den;
            w[i] -= mom[i];
        } else {
            w[i] -= tl * g[i] / den;
        }
    }
})

BOTH(ln_adam_step_f32, ln_adam_step_f64, (int64_t n, void *wv, const void *gv, void *mv, void *vv, void *vhv, double lr_t,
            double b1, double b2, double eps), {
    T *w = wv, *m = mv, *v = vv, *vh = vhv;
    const T *g = gv;
    const T tl = (T)lr_t, tb1 = (T)b1, t1b1 = (T)(1 - b1), tb2 = (T)b2, t1b2 = (T)(1 - b2),
            te = (T)eps;
    for (int64_t i = 0; i < n; i++) {
        m[i] = tb1 * m[i] + t1b1 * g[i];
        v[i] = tb2 * v[i] + t1b2 * g[i] * g[i];
        T d = v[i];
        if (vh) {
            vh[i] = vh[i] > v[i] ? vh[i] : v[i];
            d = vh[i];
        }
        w[i] -= tl * m[i] / (SQRT(d) + te);
    }
})

BOTH(ln_adagrad_step_f32, ln_adagrad_step_f64, (int64_t n, void *wv, const void *gv, void *accv, double lr, double eps), {
    T *w = wv, *acc = accv;
    const T *g = gv;
    const T tl = (T)lr, te = (T)eps;
    for (int64_t i = 0; i < n; i++) {
        acc[i] += g[i] * g[i];
        w[i] -= tl * g[i] / SQRT(acc[i] + te);
    }
})

BOTH(ln_adadelta_step_f32, ln_adadelta_step_f64, (int64_t n, void *wv, const void *gv, void *egv, void *edv, double lr, double rho,
                double eps), {
    T *w = wv, *eg = egv, *ed = edv;
    const T *g = gv;
    const T tl = (T)lr, tr = (T)rho, t1r = (T)(1 - rho), te = (T)eps;
    for (int64_t i = 0; i < n; i++) {
        eg[i] = tr * eg[i] + t1r * g[i] * g[i];
        T d = SQRT(ed[i] + te) / SQRT(eg[i] + te) * g[i];
        ed[i] = tr * ed[i] + t1r * d * d;
        w[i] -= tl * d;
    }
})

BOTH(ln_adamax_step_f32, ln_adamax_step_f64, (int64_t n, void *wv, const void *gv, void *mv, void *uv, double lr_t, double b1,
              double b2, double eps), {
    T *w = wv, *m = mv, *u = uv;
    const T *g = gv;
    const T tl = (T)lr_t, tb1 = (T)b1, t1b1 = (T)(1 - b1), tb2 = (T)b2, te = (T)eps;
    for (int64_t i = 0; i < n; i++) {
        m[i] = tb1 * m[i] + t1b1 * g[i];
        T a = tb2 * u[i], b = FABS(g[i]);
        u[i] = a > b ? a : b;
        w[i] -= tl * m[i] / (u[i] + te);
    }
})

BOTH(ln_nadam_step_f32, ln_nadam_step_f64, (int64_t n, void *wv, const void *gv, void *mv, void *vv, double lr, double b1,
             double b2, double eps, double mu_t, double mu_t1, double ms_new, double ms_next,
             double b2_pow_t), {
    T *w = wv, *m = mv, *v = vv;
    const T *g = gv;
    const T tl = (T)lr, tb1 = (T)b1, t1b1 = (T)(1 - b1), tb2 = (T)b2, t1b2 = (T)(1 - b2),
            te = (T)eps, tmu1 = (T)mu_t1, tgs = (T)(1 - ms_new),
            tms = (T)(1 - ms_next), tvs = (T)(1 - b2_pow_t), t1mu = (T)(1 - mu_t);
    for (int64_t i = 0; i < n; i++) {
        T gp = g[i] / tgs;
        m[i] = tb1 * m[i] + t1b1 * g[i];
        T mp = m[i] / tms;
        v[i] = tb2 * v[i] + t1b2 * g[i] * g[i];
        T vp = v[i] / tvs;
        T mbar = t1mu * gp + tmu1 * mp;
        w[i] -= tl * mbar / (SQRT(vp) + te);
    }
})
/* clang-format on */

/* ---- the public steps: each over lunet's threads ----------------------------
 * Every update is elementwise, so a slice of the arrays is updated exactly as
 * the whole would be: the result never depends on the thread count. */

#define MAX_ARRAYS 5

typedef struct step_job step_job;
struct step_job {
    ln_dtype dt;
    char *p[MAX_ARRAYS]; /* the per-element arrays (NULL: not used) */
    double s[10];        /* the scalars */
    int flag[2];
    /* the kernel on n elements starting at p */
    void (*run)(const step_job *j, int64_t n, char *const *p);
};

static void step_range(int64_t lo, int64_t hi, void *ctx)
{
    const step_job *j = ctx;
    const int64_t es = (int64_t)ln_dtype_size(j->dt);
    char *p[MAX_ARRAYS];
    for (int k = 0; k < MAX_ARRAYS; k++) p[k] = j->p[k] ? j->p[k] + lo * es : NULL;
    j->run(j, hi - lo, p);
}

/* slices aligned to 16 elements: whole vectors, and cache lines apart */
static void run_step(step_job *j, int64_t n) { ln_parallel_for(n, 16, LN_PARALLEL_MIN, step_range, j); }

#define ARR(k) ((void *)p[k])

static void sgd_run(const step_job *j, int64_t n, char *const *p)
{
    LN_BY_DTYPE(j->dt, ln_sgd_step_f32(n, ARR(0), ARR(1), ARR(2), j->s[0], j->s[1], j->flag[0]),
                ln_sgd_step_f64(n, ARR(0), ARR(1), ARR(2), j->s[0], j->s[1], j->flag[0]));
}

void ln_sgd_step(ln_dtype dt, int64_t n, void *w, const void *g, void *m, double lr,
                 double momentum, int nesterov)
{
    LN_PROF_SCOPE(LN_PROF_OPTIMIZER);
    step_job j = {dt, {w, (char *)g, m}, {lr, momentum}, {nesterov}, sgd_run};
    run_step(&j, n);
}

static void rmsprop_run(const step_job *j, int64_t n, char *const *p)
{
    LN_BY_DTYPE(j->dt,
                ln_rmsprop_step_f32(n, ARR(0), ARR(1), ARR(2), ARR(3), ARR(4), j->s[0], j->s[1], j->s[2],
                                    j->s[3], j->flag[0]),
                ln_rmsprop_step_f64(n, ARR(0), ARR(1), ARR(2), ARR(3), ARR(4), j->s[0], j->s[1], j->s[2],
                                    j->s[3], j->flag[0]));
}

void ln_rmsprop_step(ln_dtype dt, int64_t n, void *w, const void *g, void *v, void *mg, void *mom,
                     double lr, double rho, double momentum, double eps, int centered)
{
    LN_PROF_SCOPE(LN_PROF_OPTIMIZER);
    step_job j = {dt, {w, (char *)g, v, mg, mom}, {lr, rho, momentum, eps}, {centered}, rmsprop_run};
    run_step(&j, n);
}

static void adam_run(const step_job *j, int64_t n, char *const *p)
{
    LN_BY_DTYPE(j->dt,
                ln_adam_step_f32(n, ARR(0), ARR(1), ARR(2), ARR(3), ARR(4), j->s[0], j->s[1], j->s[2], j->s[3]),
                ln_adam_step_f64(n, ARR(0), ARR(1), ARR(2), ARR(3), ARR(4), j->s[0], j->s[1], j->s[2], j->s[3]));
}

void ln_adam_step(ln_dtype dt, int64_t n, void *w, const void *g, void *m, void *v, void *vhat,
                  double lr_t, double b1, double b2, double eps)
{
    LN_PROF_SCOPE(LN_PROF_OPTIMIZER);
    step_job j = {dt, {w, (char *)g, m, v, vhat}, {lr_t, b1, b2, eps}, {0}, adam_run};
    run_step(&j, n);
}

static void adagrad_run(const step_job *j, int64_t n, char *const *p)
{
    LN_BY_DTYPE(j->dt, ln_adagrad_step_f32(n, ARR(0), ARR(1), ARR(2), j->s[0], j->s[1]),
                ln_adagrad_step_f64(n, ARR(0), ARR(1), ARR(2), j->s[0], j->s[1]));
}

void ln_adagrad_step(ln_dtype dt, int64_t n, void *w, const void *g, void *acc, double lr,
                     double eps)
{
    LN_PROF_SCOPE(LN_PROF_OPTIMIZER);
    step_job j = {dt, {w, (char *)g, acc}, {lr, eps}, {0}, adagrad_run};
    run_step(&j, n);
}

static void adadelta_run(const step_job *j, int64_t n, char *const *p)
{
    LN_BY_DTYPE(j->dt, ln_adadelta_step_f32(n, ARR(0), ARR(1), ARR(2), ARR(3), j->s[0], j->s[1], j->s[2]),
                ln_adadelta_step_f64(n, ARR(0), ARR(1), ARR(2), ARR(3), j->s[0], j->s[1], j->s[2]));
}

void ln_adadelta_step(ln_dtype dt, int64_t n, void *w, const void *g, void *eg, void *ed,
                      double lr, double rho, double eps)
{
    LN_PROF_SCOPE(LN_PROF_OPTIMIZER);
    step_job j = {dt, {w, (char *)g, eg, ed}, {lr, rho, eps}, {0}, adadelta_run};
    run_step(&j, n);
}

static void adamax_run(const step_job *j, int64_t n, char *const *p)
{
    LN_BY_DTYPE(j->dt, ln_adamax_step_f32(n, ARR(0), ARR(1), ARR(2), ARR(3), j->s[0], j->s[1], j->s[2], j->s[3]),
                ln_adamax_step_f64(n, ARR(0), ARR(1), ARR(2), ARR(3), j->s[0], j->s[1], j->s[2], j->s[3]));
}

void ln_adamax_step(ln_dtype dt, int64_t n, void *w, const void *g, void *m, void *u,
                    double lr_t, double b1, double b2, double eps)
{
    LN_PROF_SCOPE(LN_PROF_OPTIMIZER);
    step_job j = {dt, {w, (char *)g, m, u}, {lr_t, b1, b2, eps}, {0}, adamax_run};
    run_step(&j, n);
}

static void nadam_run(const step_job *j, int64_t n, char *const *p)
{
    const double *s = j->s;
    LN_BY_DTYPE(j->dt,
                ln_nadam_step_f32(n, ARR(0), ARR(1), ARR(2), ARR(3), s[0], s[1], s[2], s[3], s[4], s[5], s[6],
                                  s[7], s[8]),
                ln_nadam_step_f64(n, ARR(0), ARR(1), ARR(2), ARR(3), s[0], s[1], s[2], s[3], s[4], s[5], s[6],
                                  s[7], s[8]));
}

void ln_nadam_step(ln_dtype dt, int64_t n, void *w, const void *g, void *m, void *v, double lr,
                   double b1, double b2, double eps, double mu_t, double mu_t1, double ms_new,
                   double ms_next, double b2_pow_t)
{
    LN_PROF_SCOPE(LN_PROF_OPTIMIZER);
    step_job j = {dt, {w, (char *)g, m, v}, {lr, b1, b2, eps, mu_t, mu_t1, ms_new, ms_next, b2_pow_t}, {0},
                  nadam_run};
    run_step(&j, n);
}
