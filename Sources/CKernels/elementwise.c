#include "ar_kernels.h"
#include "ar_dispatch.h"
#include <math.h>
#include <stdint.h>
#include <string.h>

// Fuse a·b + c into one FMA where the clone has it (the same as -ffp-contract=fast, in the file).
#if defined(__clang__)
#pragma clang fp contract(fast)
#endif

// exp(x) = 2^k * exp(r), r = x - k ln2 in [-ln2/2, ln2/2], exp(r) by a degree-6 polynomial.
static inline float ar_expf(float x) {
    x = x < -87.3f ? -87.3f : (x > 88.3f ? 88.3f : x);
    float k = __builtin_roundf(x * 1.44269504088896341f);
    float r = x - k * 0.693145751953125f;
    r = r - k * 1.428606765330187045e-06f;
    float p = 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)k + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

AR_HOT void ar_exp(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = ar_expf(x[i]);
}

AR_HOT void ar_sigmoid(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = 1.0f / (1.0f + ar_expf(-x[i]));
}

// tanh(v) = sign(v) (1 − e^{−2|v|}) / (1 + e^{−2|v|}).
static inline float ar_tanhf(float v) {
    float a = fabsf(v);
    float e = ar_expf(-2.0f * a);
    float t = (1.0f - e) / (1.0f + e);
    // Near zero the quotient cancels; the odd Taylor series is exact to float there.
    float a2 = a * a;
    float s = a * (1.0f + a2 * (-0.333333333f + a2 * (0.133333333f + a2 * -0.053968254f)));
    t = a < 0.125f ? s : t;
    return copysignf(t, v);
}

AR_HOT void ar_tanh(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = ar_tanhf(x[i]);
}

AR_HOT void ar_gate_forward(const float *x, float *y, size_t groups, size_t inner) {
    for (size_t g = 0; g < groups; g++) {
        const float *a = x + 2 * g * inner, *b = a + inner;
        float *out = y + g * inner;
        for (size_t j = 0; j < inner; j++) out[j] = ar_tanhf(a[j]) / (1.0f + ar_expf(-b[j]));
    }
}

AR_HOT void ar_gate_backward(const float *x, const float *gy, float *dx, size_t groups, size_t inner,
                      int accumulate) {
    for (size_t g = 0; g < groups; g++) {
        const float *a = x + 2 * g * inner, *b = a + inner, *dy = gy + g * inner;
        float *da = dx + 2 * g * inner, *db = da + inner;
        for (size_t j = 0; j < inner; j++) {
            float t = ar_tanhf(a[j]), s = 1.0f / (1.0f + ar_expf(-b[j]));
            float ga = dy[j] * s * (1.0f - t * t), gb = dy[j] * t * s * (1.0f - s);
            da[j] = accumulate ? da[j] + ga : ga;
            db[j] = accumulate ? db[j] + gb : gb;
        }
    }
}

// PixelCNN++'s gate: y = a · sigmoid(b) (a gated linear unit).
AR_HOT void ar_glu_forward(const float *x, float *y, size_t groups, size_t inner) {
    for (size_t g = 0; g < groups; g++) {
        const float *a = x + 2 * g * inner, *b = a + inner;
        float *out = y + g * inner;
        for (size_t j = 0; j < inner; j++) out[j] = a[j] / (1.0f + ar_expf(-b[j]));
    }
}

AR_HOT void ar_glu_backward(const float *x, const float *gy, float *dx, size_t groups, size_t inner,
                     int accumulate) {
    for (size_t g = 0; g < groups; g++) {
        const float *a = x + 2 * g * inner, *b = a + inner, *dy = gy + g * inner;
        float *da = dx + 2 * g * inner, *db = da + inner;
        for (size_t j = 0; j < inner; j++) {
            // 1 − σ(b) = e^−b · σ(b), without the cancellation of 1 − σ(b) for large b.
            float e = ar_expf(-b[j]), s = 1.0f / (1.0f + e);
            float ga = dy[j] * s, gb = dy[j] * a[j] * s * (e * s);
            da[j] = accumulate ? da[j] + ga : ga;
            db[j] = accumulate ? db[j] + gb : gb;
        }
    }
}

// PixelCNN++'s concat_elu: [elu(x), elu(−x)] per group, elu(v) = v for v > 0, e^v − 1 otherwise.
AR_HOT void ar_concat_elu_forward(const float *x, float *y, size_t groups, size_t inner) {
    for (size_t g = 0; g < groups; g++) {
        const float *in = x + g * inner;
        float *pos = y + 2 * g * inner, *neg = pos + inner;
        for (size_t j = 0; j < inner; j++) {
            float v = in[j], e = ar_expf(-fabsf(v)) - 1.0f;
            pos[j] = v > 0 ? v : e;
            neg[j] = v > 0 ? e : -v;
        }
    }
}

AR_HOT void ar_concat_elu_backward(const float *x, const float *gy, float *dx, size_t groups, size_t inner,
                            int accumulate) {
    for (size_t g = 0; g < groups; g++) {
        const float *in = x + g * inner, *gpos = gy + 2 * g * inner, *gneg = gpos + inner;
        float *out = dx + g * inner;
        for (size_t j = 0; j < inner; j++) {
            // d elu(x)/dx = 1 or e^x; d elu(−x)/dx = −(e^−x or 1).
            float v = in[j], e = ar_expf(-fabsf(v));
            float d = v > 0 ? gpos[j] - gneg[j] * e : gpos[j] * e - gneg[j];
            out[j] = accumulate ? out[j] + d : d;
        }
    }
}

AR_HOT void ar_softplus(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        y[i] = (v > 0 ? v : 0) + log1pf(ar_expf(-fabsf(v)));
    }
}

// log(1 + e) for e in [0, 1], as 2·atanh(s) with s = e / (2 + e) in [0, 1/3]: an odd series
// in s that stays accurate for tiny e (result ≈ e) and, unlike libm's log1pf, vectorises.
// Truncated after s¹⁵: the next term is below 2e-9 relative.
static inline float ar_log1p_unit(float e) {
    float s = e / (2.0f + e), s2 = s * s;
    float p = 1.0f / 15;
    p = p * s2 + 1.0f / 13;
    p = p * s2 + 1.0f / 11;
    p = p * s2 + 1.0f / 9;
    p = p * s2 + 1.0f / 7;
    p = p * s2 + 1.0f / 5;
    p = p * s2 + 1.0f / 3;
    p = p * s2 + 1.0f;
    return 2.0f * s * p;
}

AR_HOT void ar_bernoulli_nll(const float *logits, const float *targets, float *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float l = logits[i];
        out[i] = (l > 0 ? l : 0) - targets[i] * l + ar_log1p_unit(ar_expf(-fabsf(l)));
    }
}

AR_HOT void ar_categorical_nll(const float *logits, const int *targets, float *out, float *probs,
                        size_t rows, size_t classes) {
    for (size_t r = 0; r < rows; r++) {
        const float *row = logits + r * classes;
        size_t top = 0;
        for (size_t k = 1; k < classes; k++) top = row[k] > row[top] ? k : top;
        // logsumexp = m + log(1 + rest), rest = sum over k != top of e^(l_k - m): writing it
        // with log1p keeps small losses (confident, correct predictions) accurate.
        float m = row[top], rest = 0;
        if (probs) {
            float *p = probs + r * classes;
            for (size_t k = 0; k < classes; k++) p[k] = ar_expf(row[k] - m);
            p[top] = 0;
            for (size_t k = 0; k < classes; k++) rest += p[k];
            p[top] = 1;
            float inv = 1.0f / (1.0f + rest);
            for (size_t k = 0; k < classes; k++) p[k] *= inv;
        } else {
            for (size_t k = 0; k < classes; k++) rest += k == top ? 0.0f : ar_expf(row[k] - m);
        }
        out[r] = (m - row[targets[r]]) + log1pf(rest);
    }
}

AR_HOT void ar_categorical_nll_planes(const float *logits, const int *targets, size_t target_stride,
                                      float *out, size_t out_stride, float *probs, size_t classes,
                                      size_t n, float *top, float *rest, int *first) {
    // Class k of position p is logits[k * n + p]: every loop below runs along p, contiguous,
    // and touches only contiguous arrays, so that it vectorises (the strided `out` is written
    // once, at the end). `top` holds the largest logit and `first` the first class that has
    // it; e^(l_k - top) summed over the other classes goes into `rest`, as in
    // ar_categorical_nll (log1p keeps confident, correct predictions accurate).
    for (size_t p = 0; p < n; p++) { top[p] = logits[p]; first[p] = 0; rest[p] = 0; }
    for (size_t k = 1; k < classes; k++) {
        const float *plane = logits + k * n;
        for (size_t p = 0; p < n; p++) {
            int above = plane[p] > top[p];
            top[p] = above ? plane[p] : top[p];
            first[p] = above ? (int)k : first[p];
        }
    }
    // The first class equal to the top is left out of `rest`: its term is exactly 1.
    for (size_t k = 0; k < classes; k++) {
        const float *plane = logits + k * n;
        if (probs) {
            float *pk = probs + k * n;
            for (size_t p = 0; p < n; p++) {
                float e = ar_expf(plane[p] - top[p]);
                int is_top = first[p] == (int)k;
                rest[p] += is_top ? 0.0f : e;
                pk[p] = is_top ? 1.0f : e;
            }
        } else {
            for (size_t p = 0; p < n; p++) {
                float e = ar_expf(plane[p] - top[p]);
                rest[p] += first[p] == (int)k ? 0.0f : e;
            }
        }
    }
    if (probs) {
        for (size_t k = 0; k < classes; k++) {
            float *pk = probs + k * n;
            for (size_t p = 0; p < n; p++) pk[p] /= 1.0f + rest[p];
        }
    }
    for (size_t p = 0; p < n; p++) {
        int t = targets[p * target_stride];
        out[p * out_stride] = (top[p] - logits[(size_t)t * n + p]) + log1pf(rest[p]);
    }
}

AR_HOT void ar_categorical_nll_planes_backward(const float *probs, const int *targets, size_t target_stride,
                                               const float *g, size_t g_stride, float *grad, int initialized,
                                               size_t classes, size_t n) {
    for (size_t k = 0; k < classes; k++) {
        const float *pk = probs + k * n;
        float *gk = grad + k * n;
        if (initialized) {
            for (size_t p = 0; p < n; p++) gk[p] += g[p * g_stride] * pk[p];
        } else {
            for (size_t p = 0; p < n; p++) gk[p] = g[p * g_stride] * pk[p];
        }
    }
    for (size_t p = 0; p < n; p++) grad[(size_t)targets[p * target_stride] * n + p] -= g[p * g_stride];
}

AR_HOT void ar_adam(float *w, const float *g, float *m, float *v, size_t n, float step, float b1,
             float b2, float eps, float wd, float c2) {
    float inv_c2 = 1.0f / c2;
    for (size_t j = 0; j < n; j++) {
        float gj = g[j] + wd * w[j];
        float mj = b1 * m[j] + (1.0f - b1) * gj;
        float vj = b2 * v[j] + (1.0f - b2) * gj * gj;
        m[j] = mj;
        v[j] = vj;
        w[j] -= step * mj / (AR_SQRT(vj * inv_c2) + eps);
    }
}

// oneDNN's CPU runtime is OpenMP (libgomp); bind weakly so this file links without it.
extern void omp_set_num_threads(int) __attribute__((weak));
extern int omp_get_max_threads(void) __attribute__((weak));

int ar_set_threads(int n) {
    if (!omp_set_num_threads) return 0;
    omp_set_num_threads(n);
    return 1;
}

int ar_serial_begin(void) {
    if (!omp_get_max_threads || !omp_set_num_threads) return 1;
    int previous = omp_get_max_threads();
    if (previous > 1) omp_set_num_threads(1);
    return previous;
}

void ar_serial_end(int previous) {
    if (previous > 1 && omp_set_num_threads) omp_set_num_threads(previous);
}

AR_HOT float ar_sum(const float *x, size_t n) {
    // Eight independent partial sums: the loop vectorises without reassociation flags.
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) acc[k] += x[i + k];
    float s = 0;
    for (; i < n; i++) s += x[i];
    for (int k = 0; k < 8; k++) s += acc[k];
    return s;
}
