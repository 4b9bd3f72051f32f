#include "ar_kernels.h"
#include <string.h>

void ar_sigmoid(const float *x, float *y, size_t n);

void ar_nade_forward(const float *x, const float *W, const float *V, const float *b,
                     const float *c, float *logits, size_t B, size_t D, size_t H) {
    float a[H], h[H];
    for (size_t n = 0; n < B; n++) {
        const float *xn = x + n * D;
        memcpy(a, c, H * sizeof(float));
        for (size_t i = 0; i < D; i++) {
            ar_sigmoid(a, h, H);
            const float *Vi = V + i * H;
            float s = 0;
            for (size_t k = 0; k < H; k++) s += Vi[k] * h[k];
            logits[n * D + i] = b[i] + s;
            float xi = xn[i];
            if (xi != 0) {
                const float *Wi = W + i * H;
                for (size_t k = 0; k < H; k++) a[k] += xi * Wi[k];
            }
        }
    }
}

void ar_nade_backward(const float *x, const float *W, const float *V, const float *c,
                      const float *g, float *dx, float *dW, float *dV, float *db, float *dc,
                      float *scratch, size_t B, size_t D, size_t H) {
    float *a = scratch, *h = scratch + H, *S = scratch + 2 * H;
    for (size_t n = 0; n < B; n++) {
        const float *xn = x + n * D;
        const float *gn = g + n * D;
        // a = a_D = c + sum_j x_j W_j; walk back to a_i by subtracting x_i W_i.
        memcpy(a, c, H * sizeof(float));
        for (size_t i = 0; i < D; i++) {
            float xi = xn[i];
            if (xi != 0) {
                const float *Wi = W + i * H;
                for (size_t k = 0; k < H; k++) a[k] += xi * Wi[k];
            }
        }
        memset(S, 0, H * sizeof(float));  // S = sum over k > i of dL/da_k
        for (size_t i = D; i-- > 0;) {
            float xi = xn[i];
            const float *Wi = W + i * H;
            if (xi != 0)
                for (size_t k = 0; k < H; k++) a[k] -= xi * Wi[k];
            if (dW && xi != 0) {
                float *dWi = dW + i * H;
                for (size_t k = 0; k < H; k++) dWi[k] += xi * S[k];
            }
            if (dx) {
                float s = 0;
                for (size_t k = 0; k < H; k++) s += Wi[k] * S[k];
                dx[n * D + i] += s;
            }
            float gi = gn[i];
            if (gi == 0) continue;
            ar_sigmoid(a, h, H);
            const float *Vi = V + i * H;
            if (db) db[i] += gi;
            if (dV) {
                float *dVi = dV + i * H;
                for (size_t k = 0; k < H; k++) dVi[k] += gi * h[k];
            }
            for (size_t k = 0; k < H; k++) S[k] += gi * Vi[k] * h[k] * (1.0f - h[k]);
        }
        if (dc)
            for (size_t k = 0; k < H; k++) dc[k] += S[k];
    }
}
