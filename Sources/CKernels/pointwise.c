// Elementwise loops on non-aliasing arrays (restrict), so that they vectorise: Swift cannot
// prove its pointers distinct and keeps such loops scalar.
#include "ar_kernels.h"
#include "ar_dispatch.h"

// Fuse a·b + c into one FMA where the clone has it (the same as -ffp-contract=fast, in the file).
#if defined(__clang__)
#pragma clang fp contract(fast)
#endif

AR_HOT void ar_relu(const float *restrict x, float *restrict y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : 0;
}

AR_HOT void ar_relu_backward(const float *restrict x, const float *restrict g, float *restrict gx, size_t n,
                      int accumulate) {
    if (accumulate) {
        for (size_t i = 0; i < n; i++) gx[i] += x[i] > 0 ? g[i] : 0;
    } else {
        for (size_t i = 0; i < n; i++) gx[i] = x[i] > 0 ? g[i] : 0;
    }
}

AR_HOT void ar_elu_backward(const float *restrict x, const float *restrict y, const float *restrict g,
                     float *restrict gx, float alpha, size_t n, int accumulate) {
    for (size_t i = 0; i < n; i++) {
        float d = g[i] * (x[i] > 0 ? 1.0f : y[i] + alpha);
        gx[i] = accumulate ? gx[i] + d : d;
    }
}

AR_HOT void ar_add(const float *restrict a, const float *restrict b, float *restrict y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}

AR_HOT void ar_sub(const float *restrict a, const float *restrict b, float *restrict y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = a[i] - b[i];
}

AR_HOT void ar_mul(const float *restrict a, const float *restrict b, float *restrict y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = a[i] * b[i];
}

AR_HOT void ar_accumulate(const float *restrict g, float *restrict gx, size_t n) {
    for (size_t i = 0; i < n; i++) gx[i] += g[i];
}

AR_HOT void ar_accumulate_product(const float *restrict g, const float *restrict b, float *restrict gx, size_t n) {
    for (size_t i = 0; i < n; i++) gx[i] += g[i] * b[i];
}

AR_HOT void ar_relu_inplace(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = x[i] > 0 ? x[i] : 0;
}

// Blocked so that both the reads (stride cols) and the writes (stride rows) stay within a
// few cache lines per block: a plain loop writes a new line for every element once rows
// exceeds 16.
AR_HOT void ar_transpose(const float *restrict x, float *restrict y, size_t rows, size_t cols, int accumulate) {
    enum { block = 16 };
    for (size_t r0 = 0; r0 < rows; r0 += block) {
        size_t r1 = r0 + block < rows ? r0 + block : rows;
        for (size_t c0 = 0; c0 < cols; c0 += block) {
            size_t c1 = c0 + block < cols ? c0 + block : cols;
            if (accumulate) {
                for (size_t c = c0; c < c1; c++)
                    for (size_t r = r0; r < r1; r++) y[c * rows + r] += x[r * cols + c];
            } else {
                for (size_t c = c0; c < c1; c++)
                    for (size_t r = r0; r < r1; r++) y[c * rows + r] = x[r * cols + c];
            }
        }
    }
}
