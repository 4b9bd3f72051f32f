#include "ar_kernels.h"
#include "ar_dispatch.h"
#include <string.h>

// Fuse a·b + c into one FMA where the clone has it (the same as -ffp-contract=fast, in the file).
#if defined(__clang__)
#pragma clang fp contract(fast)
#endif


// Sixteen independent partial sums let the compiler vectorise the reduction without
// reassociating floating-point math globally (results stay deterministic).
static inline float dot(const float *a, const float *b, size_t n) {
    float acc[16] = {0};
    size_t k = 0;
    for (; k + 16 <= n; k += 16)
        for (int j = 0; j < 16; j++) acc[j] += a[k + j] * b[k + j];
    float s = 0;
    for (; k < n; k++) s += a[k] * b[k];
    for (int j = 0; j < 16; j++) s += acc[j];
    return s;
}

// Both passes walk the pixels in the outer loop and the images in the inner one, so each
// row of W, V and their gradients is loaded once per batch instead of once per image
// (the weights are megabytes; the per-image states [B, H] stay in cache).

AR_HOT void ar_nade_forward(const float *x, const float *W, const float *V, const float *b,
                     const float *c, float *logits, float *scratch, size_t B, size_t D, size_t H) {
    float *A = scratch, *h = scratch + B * H;  // A[n] = running pre-activation of image n
    for (size_t n = 0; n < B; n++) memcpy(A + n * H, c, H * sizeof(float));
    for (size_t i = 0; i < D; i++) {
        const float *Vi = V + i * H, *Wi = W + i * H;
        for (size_t n = 0; n < B; n++) {
            float *a = A + n * H;
            ar_sigmoid(a, h, H);
            logits[n * D + i] = b[i] + dot(Vi, h, H);
            float xi = x[n * D + i];
            if (xi != 0)
                for (size_t k = 0; k < H; k++) a[k] += xi * Wi[k];
        }
    }
}

AR_HOT void ar_nade_backward(const float *x, const float *W, const float *V, const float *c,
                      const float *g, float *dx, float *dW, float *dV, float *db, float *dc,
                      float *scratch, size_t B, size_t D, size_t H) {
    // A[n] = a_i of image n, walked back from a_D by subtracting x_i W_i;
    // S[n] = sum over k > i of dL/da_k for image n.
    float *A = scratch, *S = scratch + B * H, *h = scratch + 2 * B * H;
    for (size_t n = 0; n < B; n++) memcpy(A + n * H, c, H * sizeof(float));
    memset(S, 0, B * H * sizeof(float));
    for (size_t i = 0; i < D; i++) {
        const float *Wi = W + i * H;
        for (size_t n = 0; n < B; n++) {
            float xi = x[n * D + i];
            if (xi != 0) {
                float *a = A + n * H;
                for (size_t k = 0; k < H; k++) a[k] += xi * Wi[k];
            }
        }
    }
    for (size_t i = D; i-- > 0;) {
        const float *Wi = W + i * H, *Vi = V + i * H;
        float *dWi = dW ? dW + i * H : NULL, *dVi = dV ? dV + i * H : NULL;
        for (size_t n = 0; n < B; n++) {
            float *a = A + n * H, *s = S + n * H;
            float xi = x[n * D + i];
            if (xi != 0) {
                for (size_t k = 0; k < H; k++) a[k] -= xi * Wi[k];
                if (dWi)
                    for (size_t k = 0; k < H; k++) dWi[k] += xi * s[k];
            }
            if (dx) dx[n * D + i] += dot(Wi, s, H);
            float gi = g[n * D + i];
            if (gi == 0) continue;
            ar_sigmoid(a, h, H);
            if (db) db[i] += gi;
            if (dVi)
                for (size_t k = 0; k < H; k++) dVi[k] += gi * h[k];
            for (size_t k = 0; k < H; k++) s[k] += gi * Vi[k] * h[k] * (1.0f - h[k]);
        }
    }
    if (dc)
        for (size_t n = 0; n < B; n++)
            for (size_t k = 0; k < H; k++) dc[k] += S[n * H + k];
}
