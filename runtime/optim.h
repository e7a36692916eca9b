/*
 * optim.h - optimizer update kernels, one fused pass per parameter
 * (SEMANTICS.md, "Optimizers").  All arrays hold n elements of dtype dt
 * (float32 or float64) and are updated in place; scalars that depend only
 * on the step count (bias corrections) are computed by the caller.
 */
#ifndef LN_OPTIM_H
#define LN_OPTIM_H

#include "tensor.h"

/* m = momentum*m - lr*g; nesterov: w += momentum*m - lr*g; else w += m.
 * momentum == 0: w -= lr*g (m unused, may be NULL). */
void ln_sgd_step(ln_dtype dt, int64_t n, void *w, const void *g, void *m, double lr,
                 double momentum, int nesterov);

/* v = rho*v + (1-rho)*g^2; centered: mg = rho*mg + (1-rho)*g, den =
 * sqrt(v - mg^2 + eps), else den = sqrt(v + eps); momentum > 0:
 * mom = momentum*mom + lr*g/den, w -= mom; else w -= lr*g/den. */
void ln_rmsprop_step(ln_dtype dt, int64_t n, void *w, const void *g, void *v, void *mg, void *mom,
                     double lr, double rho, double momentum, double eps, int centered);

/* m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; amsgrad (vhat given):
 * vhat = max(vhat, v) and vhat replaces v below; w -= lr_t*m/(sqrt(v) + eps). */
void ln_adam_step(ln_dtype dt, int64_t n, void *w, const void *g, void *m, void *v, void *vhat,
                  double lr_t, double b1, double b2, double eps);

/* acc += g^2; w -= lr*g/sqrt(acc + eps) */
void ln_adagrad_step(ln_dtype dt, int64_t n, void *w, const void *g, void *acc, double lr,
                     double eps);

/* Eg = rho*Eg + (1-rho)*g^2; d = sqrt(Ed + eps)/sqrt(Eg + eps)*g;
 * Ed = rho*Ed + (1-rho)*d^2; w -= lr*d */
void ln_adadelta_step(ln_dtype dt, int64_t n, void *w, const void *g, void *eg, void *ed,
                      double lr, double rho, double eps);

/* m = b1*m + (1-b1)*g; u = max(b2*u, |g|); w -= lr_t*m/(u + eps) with
 * lr_t = lr/(1-b1^t) */
void ln_adamax_step(ln_dtype dt, int64_t n, void *w, const void *g, void *m, void *u,
                    double lr_t, double b1, double b2, double eps);

/* Keras' Nadam: g' = g/(1-ms_new); m = b1*m + (1-b1)*g; m' = m/(1-ms_next);
 * v = b2*v + (1-b2)*g^2; v' = v/(1-b2^t); mbar = (1-mu_t)*g' + mu_t1*m';
 * w -= lr*mbar/(sqrt(v') + eps). */
void ln_nadam_step(ln_dtype dt, int64_t n, void *w, const void *g, void *m, void *v, double lr,
                   double b1, double b2, double eps, double mu_t, double mu_t1, double ms_new,
                   double ms_next, double b2_pow_t);

#endif
