// Discretised logistic mixture likelihood (PixelCNN++, Salimans et al. 2017, section 2.1-2.2)
// and its vector-Jacobian product. Layout and meaning: include/ar_logistic_mixture.h.
//
// Pixel value v in 0…255 is x = (2v − 255)/255 in [−1, 1]; its bin is [x − 1/255, x + 1/255],
// with bin 0 reaching down to −∞ and bin 255 up to +∞. With a = (upper − m)/σ, b = (lower − m)/σ,
// σ = e^s, the bin has probability sigmoid(a) − sigmoid(b), and
//   log(sigmoid(a) − sigmoid(b)) = −softplus(−a) − softplus(b) + log(1 − e^−d),   d = a − b = (2/255)/σ
// (sigmoid(a) − sigmoid(b) = sigmoid(a) · sigmoid(−b) · (1 − e^(b−a))). Every term is computed
// stably, with log d = log(2/255) − s taken exactly, so no mid-bin density fallback is needed at
// any scale. The edge bins are log sigmoid(a) = −softplus(−a) and log(1 − sigmoid(b)) = −softplus(b).
//
// The code is scalar (libm's expf/log1pf do not vectorise); the loops run once per pixel and
// component, against convolutions that run hundreds of multiply-adds per output.
#include "ar_logistic_mixture.h"
#include "ar_dispatch.h"
#include <math.h>

#if defined(__clang__)
#pragma clang fp contract(fast)
#endif

// Upper bound for the per-pixel scratch arrays on the stack; the Swift side refuses more.
enum { DLM_MAX_COMPONENTS = 256, DLM_MAX_CHANNELS = 3 };

// log(1 − e^−d) for d > 0, from d and log d (log d stays exact where d underflows).
static inline float dlm_log1mexp(float d, float log_d) {
    if (d < 1e-3f) return log_d - 0.5f * d + d * d * (1.0f / 24);
    if (d < 0.6931472f) return logf(-expm1f(-d));
    return log1pf(-expf(-d));
}

// d / (e^d − 1), which is 1 at d = 0.
static inline float dlm_d_over_expm1(float d) {
    if (d < 1e-3f) return 1.0f - 0.5f * d + d * d * (1.0f / 12);
    return d / expm1f(d);
}

// log P(bin v | mean m, log-scale s) and, when dm is non-null, its derivatives d/dm and d/ds.
// With a = (upper − m)/σ and b = (lower − m)/σ: −softplus(−a) unless v is the top bin,
// −softplus(b) unless v is the bottom bin, and log(1 − e^−d) for a middle bin. Each softplus
// and its sigmoid come from one exponential, and the forward pass computes no sigmoid.
static inline float dlm_log_bin(int v, float m, float s, float *dm, float *ds) {
    float inv = expf(-s);
    float lower = (float)(2 * v - 256) / 255.0f, upper = (float)(2 * v - 254) / 255.0f;
    float a = (upper - m) * inv, b = (lower - m) * inv;
    float logp = 0, dc = 0, dsv = 0;  // dc: derivative with respect to the centred value x − m
    if (v > 0) {
        float e = expf(-fabsf(b));
        logp -= (b > 0 ? b : 0) + log1pf(e);
        if (dm) {
            float sb = (b >= 0 ? 1.0f : e) / (1.0f + e);  // sigmoid(b)
            dc -= inv * sb;
            dsv += b * sb;
        }
    }
    if (v < 255) {
        float e = expf(-fabsf(a));
        logp -= (a < 0 ? -a : 0) + log1pf(e);
        if (dm) {
            float sa = (a <= 0 ? 1.0f : e) / (1.0f + e);  // sigmoid(−a)
            dc += inv * sa;
            dsv -= a * sa;
        }
    }
    if (v > 0 && v < 255) {
        float d = (2.0f / 255.0f) * inv;
        logp += dlm_log1mexp(d, -4.84811638f - s);  // log d = log(2/255) − s
        if (dm) dsv -= dlm_d_over_expm1(d);
    }
    if (dm) {
        *dm = -dc;
        *ds = dsv;
    }
    return logp;
}

static inline float dlm_logsumexp(const float *u, size_t k) {
    float m = u[0];
    for (size_t j = 1; j < k; j++) m = u[j] > m ? u[j] : m;
    if (isinf(m)) return m;
    float s = 0;
    for (size_t j = 0; j < k; j++) s += expf(u[j] - m);
    return m + logf(s);
}

// The parameters of one pixel, read through their stride.
typedef struct {
    const float *p;
    size_t stride, K, C;
    float min_log_scale;
    int tanh_coefficients;
} dlm_pixel;

static inline float dlm_param(const dlm_pixel *px, size_t index) { return px->p[index * px->stride]; }

static inline float dlm_coefficient(const dlm_pixel *px, size_t j, size_t k) {
    float raw = dlm_param(px, px->K + 2 * px->C * px->K + j * px->K + k);
    return px->tanh_coefficients ? tanhf(raw) : raw;
}

// Mean of channel c in component k, given the scaled values x of the channels before it.
static inline float dlm_mean(const dlm_pixel *px, size_t c, size_t k, const float *x) {
    float m = dlm_param(px, px->K + c * px->K + k);
    if (c == 1) m += dlm_coefficient(px, 0, k) * x[0];
    if (c == 2) m += dlm_coefficient(px, 1, k) * x[0] + dlm_coefficient(px, 2, k) * x[1];
    return m;
}

static inline float dlm_raw_log_scale(const dlm_pixel *px, size_t c, size_t k) {
    return dlm_param(px, px->K + px->C * px->K + c * px->K + k);
}

AR_HOT void ar_dlm_forward(const ar_dlm_shape *sh, const float *params, const float *values, float *out) {
    const size_t K = sh->components, C = sh->channels;
    if (K == 0 || K > DLM_MAX_COMPONENTS || C == 0 || C > DLM_MAX_CHANNELS) return;
    float u[DLM_MAX_COMPONENTS];
    for (size_t i = 0; i < sh->images; i++) {
        for (size_t q = 0; q < sh->positions; q++) {
            dlm_pixel px = {params + i * sh->param_image_stride + q * sh->param_position_stride, sh->param_stride,
                            K, C, sh->min_log_scale, sh->tanh_coefficients};
            const float *vals = values + i * sh->value_image_stride + q * sh->value_position_stride;
            float *o = out + i * sh->value_image_stride + q * sh->value_position_stride;
            int v[DLM_MAX_CHANNELS];
            float x[DLM_MAX_CHANNELS];
            for (size_t c = 0; c < C; c++) {
                v[c] = (int)vals[c * sh->value_channel_stride];
                x[c] = (float)(2 * v[c] - 255) / 255.0f;
            }
            // u_k accumulates logit_k + Σ_{c' ≤ c} log p(x_c' | x_<c', k); the term of channel c
            // is logsumexp(u before c) − logsumexp(u after c).
            for (size_t k = 0; k < K; k++) u[k] = dlm_param(&px, k);
            float before = dlm_logsumexp(u, K);
            for (size_t c = 0; c < C; c++) {
                for (size_t k = 0; k < K; k++) {
                    float s = dlm_raw_log_scale(&px, c, k);
                    s = s < px.min_log_scale ? px.min_log_scale : s;
                    u[k] += dlm_log_bin(v[c], dlm_mean(&px, c, k, x), s, 0, 0);
                }
                float after = dlm_logsumexp(u, K);
                o[c * sh->value_channel_stride] = before - after;
                before = after;
            }
        }
    }
}

AR_HOT void ar_dlm_backward(const ar_dlm_shape *sh, const float *params, const float *values, const float *g,
                            float *grad, int accumulate) {
    const size_t K = sh->components, C = sh->channels;
    if (K == 0 || K > DLM_MAX_COMPONENTS || C == 0 || C > DLM_MAX_CHANNELS) return;
    // u[j][k] for j = 0 … C (u[0] = logits, u[c + 1] after channel c), their logsumexps,
    // and per (channel, component) the derivatives of the log bin probability.
    float u[DLM_MAX_CHANNELS + 1][DLM_MAX_COMPONENTS], lse[DLM_MAX_CHANNELS + 1];
    float dm[DLM_MAX_CHANNELS][DLM_MAX_COMPONENTS], ds[DLM_MAX_CHANNELS][DLM_MAX_COMPONENTS];
    float acc[DLM_MAX_COMPONENTS];
    for (size_t i = 0; i < sh->images; i++) {
        for (size_t q = 0; q < sh->positions; q++) {
            const size_t pbase = i * sh->param_image_stride + q * sh->param_position_stride;
            const size_t vbase = i * sh->value_image_stride + q * sh->value_position_stride;
            dlm_pixel px = {params + pbase, sh->param_stride, K, C, sh->min_log_scale, sh->tanh_coefficients};
            float *gp = grad + pbase;
            const float *gv = g + vbase;
            int v[DLM_MAX_CHANNELS];
            float x[DLM_MAX_CHANNELS];
            for (size_t c = 0; c < C; c++) {
                v[c] = (int)values[vbase + c * sh->value_channel_stride];
                x[c] = (float)(2 * v[c] - 255) / 255.0f;
            }
            for (size_t k = 0; k < K; k++) u[0][k] = dlm_param(&px, k);
            lse[0] = dlm_logsumexp(u[0], K);
            for (size_t c = 0; c < C; c++) {
                for (size_t k = 0; k < K; k++) {
                    float raw = dlm_raw_log_scale(&px, c, k);
                    float s = raw < px.min_log_scale ? px.min_log_scale : raw;
                    u[c + 1][k] = u[c][k] + dlm_log_bin(v[c], dlm_mean(&px, c, k, x), s, &dm[c][k], &ds[c][k]);
                    if (raw < px.min_log_scale) ds[c][k] = 0;  // the clamp passes no gradient
                }
                lse[c + 1] = dlm_logsumexp(u[c + 1], K);
            }
            // Σ_c g_c (lse[c] − lse[c + 1]) = Σ_j e_j lse[j] with e_j = g_j − g_(j−1) (g_(−1) = g_C = 0),
            // and d lse[j] / d u[j][k] = softmax(u[j])_k. u[j] holds the log-terms of channels < j,
            // so d/d(log term of channel c, component k) = Σ_{j > c} e_j softmax(u[j])_k, and
            // d/d(logit k) = Σ_{j ≥ 0} e_j softmax(u[j])_k.
            float total[DLM_MAX_CHANNELS][DLM_MAX_COMPONENTS];
            for (size_t k = 0; k < K; k++) acc[k] = 0;
            for (size_t j = C; j >= 1; j--) {
                float e = (j < C ? gv[j * sh->value_channel_stride] : 0.0f) - gv[(j - 1) * sh->value_channel_stride];
                for (size_t k = 0; k < K; k++) acc[k] += e * expf(u[j][k] - lse[j]);
                for (size_t k = 0; k < K; k++) total[j - 1][k] = acc[k];
            }
            {
                float e = gv[0];  // e_0 = g_0
                for (size_t k = 0; k < K; k++) {
                    float d = acc[k] + e * expf(u[0][k] - lse[0]);
                    gp[k * sh->param_stride] = accumulate ? gp[k * sh->param_stride] + d : d;
                }
            }
            float gm[DLM_MAX_CHANNELS][DLM_MAX_COMPONENTS];
            for (size_t c = 0; c < C; c++) {
                for (size_t k = 0; k < K; k++) {
                    gm[c][k] = total[c][k] * dm[c][k];
                    size_t im = (K + c * K + k) * sh->param_stride, is = (K + C * K + c * K + k) * sh->param_stride;
                    float dsv = total[c][k] * ds[c][k];
                    gp[im] = accumulate ? gp[im] + gm[c][k] : gm[c][k];
                    gp[is] = accumulate ? gp[is] + dsv : dsv;
                }
            }
            if (C == 3) {
                for (size_t k = 0; k < K; k++) {
                    float dj[3] = {gm[1][k] * x[0], gm[2][k] * x[0], gm[2][k] * x[1]};
                    for (size_t j = 0; j < 3; j++) {
                        size_t ic = (K + 2 * C * K + j * K + k) * sh->param_stride;
                        float d = dj[j];
                        if (px.tanh_coefficients) {
                            float t = tanhf(params[pbase + ic]);
                            d *= 1.0f - t * t;
                        }
                        gp[ic] = accumulate ? gp[ic] + d : d;
                    }
                }
            }
        }
    }
}
