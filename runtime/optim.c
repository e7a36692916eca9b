/*
 * optim.c - optimizer update kernels (see optim.h).  Each is one loop the
 * compiler vectorises (-fno-math-errno makes sqrt inline), written once
 * for float and double with the scalars in the parameter's type.
 */
#include "optim.h"
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

void ln_sgd_step(ln_dtype dt, int64_t n, void *w, const void *g, void *m, double lr,
                 double momentum, int nesterov)
{
    LN_PROF_SCOPE(LN_PROF_OPTIMIZER);
    LN_BY_DTYPE(dt, ln_sgd_step_f32(n, w, g, m, lr, momentum, nesterov), ln_sgd_step_f64(n, w, g, m, lr, momentum, nesterov));
}

void ln_rmsprop_step(ln_dtype dt, int64_t n, void *w, const void *g, void *v, void *mg, void *mom,
                     double lr, double rho, double momentum, double eps, int centered)
{
    LN_PROF_SCOPE(LN_PROF_OPTIMIZER);
    LN_BY_DTYPE(dt, ln_rmsprop_step_f32(n, w, g, v, mg, mom, lr, rho, momentum, eps, centered), ln_rmsprop_step_f64(n, w, g, v, mg, mom, lr, rho, momentum, eps, centered));
}

void ln_adam_step(ln_dtype dt, int64_t n, void *w, const void *g, void *m, void *v, void *vhat,
                  double lr_t, double b1, double b2, double eps)
{
    LN_PROF_SCOPE(LN_PROF_OPTIMIZER);
    LN_BY_DTYPE(dt, ln_adam_step_f32(n, w, g, m, v, vhat, lr_t, b1, b2, eps), ln_adam_step_f64(n, w, g, m, v, vhat, lr_t, b1, b2, eps));
}

void ln_adagrad_step(ln_dtype dt, int64_t n, void *w, const void *g, void *acc, double lr,
                     double eps)
{
    LN_PROF_SCOPE(LN_PROF_OPTIMIZER);
    LN_BY_DTYPE(dt, ln_adagrad_step_f32(n, w, g, acc, lr, eps), ln_adagrad_step_f64(n, w, g, acc, lr, eps));
}

void ln_adadelta_step(ln_dtype dt, int64_t n, void *w, const void *g, void *eg, void *ed,
                      double lr, double rho, double eps)
{
    LN_PROF_SCOPE(LN_PROF_OPTIMIZER);
    LN_BY_DTYPE(dt, ln_adadelta_step_f32(n, w, g, eg, ed, lr, rho, eps), ln_adadelta_step_f64(n, w, g, eg, ed, lr, rho, eps));
}

void ln_adamax_step(ln_dtype dt, int64_t n, void *w, const void *g, void *m, void *u,
                    double lr_t, double b1, double b2, double eps)
{
    LN_PROF_SCOPE(LN_PROF_OPTIMIZER);
    LN_BY_DTYPE(dt, ln_adamax_step_f32(n, w, g, m, u, lr_t, b1, b2, eps), ln_adamax_step_f64(n, w, g, m, u, lr_t, b1, b2, eps));
}

void ln_nadam_step(ln_dtype dt, int64_t n, void *w, const void *g, void *m, void *v, double lr,
                   double b1, double b2, double eps, double mu_t, double mu_t1, double ms_new,
                   double ms_next, double b2_pow_t)
{
    LN_PROF_SCOPE(LN_PROF_OPTIMIZER);
    LN_BY_DTYPE(dt, ln_nadam_step_f32(n, w, g, m, v, lr, b1, b2, eps, mu_t, mu_t1, ms_new, ms_next, b2_pow_t), ln_nadam_step_f64(n, w, g, m, v, lr, b1, b2, eps, mu_t, mu_t1, ms_new, ms_next, b2_pow_t));
}
