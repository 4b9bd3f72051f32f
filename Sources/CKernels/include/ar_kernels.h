// Hot loops of the Autoreg tensor engine, in plain C so the compiler vectorises them
// for the build machine. Every function works on contiguous float32 arrays.
#ifndef AR_KERNELS_H
#define AR_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The instruction-set level the hot loops run at on this CPU: 4 (x86-64-v4, AVX-512),
/// 3 (x86-64-v3, AVX2 and FMA), 1 (the x86-64 baseline), or 0 where the loops are compiled
/// once for the target (no run-time dispatch: arm64, musl, other compilers).
int ar_kernel_level(void);

/// Winograd's minimal filtering along rows (winograd.c; `WinogradRows` in Swift). `taps` is 3
/// (F(2,3): kept taps at dx = -d, 0, d; 4 points) or 2 (F(2,2): dx = -d, 0; 3 points). A row
/// of width w at dilation d has ar_wino_tiles(w, d) = ceil(w / 2d)·d tiles of two outputs (x0, x0 + d).
int ar_wino_tiles(int w, int d);
/// Transformed input v [points][channels][rows·tiles] of x [channels][h][w]: transformed row
/// pr is image row pr − pad_top (zeros outside the image).
void ar_wino_rows_input(int taps, const float *x, size_t channels, int h, int w, int d,
                        int pad_top, int rows, float *v);
/// y [channels][h][w] += the output transform of the products m [points][channels][h·tiles].
void ar_wino_rows_output(int taps, const float *m, size_t channels, int h, int w, int d, float *y);
/// dm [points][channels][h·tiles] = the adjoint of the output transform applied to gy [channels][h][w].
void ar_wino_rows_output_adjoint(int taps, const float *gy, size_t channels, int h, int w, int d, float *dm);
/// dx [channels][h][w] (+)= the adjoint of the input transform of dv [points][tap_rows][channels][h·tiles]:
/// tap row i (offset dys[i]) reads input row iy at output row iy − dys[i].
void ar_wino_rows_input_adjoint(int taps, const float *dv, int tap_rows, const int *dys, size_t channels,
                                int h, int w, int d, float *dx, int accumulate);

/// y = exp(x), vectorised polynomial (relative error about 2e-7; saturates outside [-87, 88]).
void ar_exp(const float *x, float *y, size_t n);
/// y = 1 / (1 + exp(-x)).
void ar_sigmoid(const float *x, float *y, size_t n);
/// y = tanh(x).
void ar_tanh(const float *x, float *y, size_t n);
/// Gated activation over `groups` consecutive blocks of 2·inner values [a | b]:
/// y[g·inner + j] = tanh(a_j) · sigmoid(b_j) (van den Oord et al. 2016).
void ar_gate_forward(const float *x, float *y, size_t groups, size_t inner);
/// Vector-Jacobian product of ar_gate_forward (tanh and sigmoid recomputed from x):
/// da = gy · σ(b) · (1 − tanh²(a)), db = gy · tanh(a) · σ(b) · (1 − σ(b)); written into dx
/// (same layout as x), or added to it when `accumulate` is non-zero.
void ar_gate_backward(const float *x, const float *gy, float *dx, size_t groups, size_t inner,
                      int accumulate);

/// LSTM cell (PixelRNN, van den Oord et al. 2016, eq. 3) over `groups` images: gates holds
/// [groups, 4, inner] pre-activations as blocks [o | f | i | g], c_prev [groups, inner] (NULL:
/// a zero state). Writes c = σ(f)·c_prev + σ(i)·tanh(g) and h = σ(o)·tanh(c), both [groups, inner].
void ar_lstm_forward(const float *gates, const float *c_prev, float *h, float *c, size_t groups, size_t inner);
/// Vector-Jacobian product of ar_lstm_forward for both outputs at once (gate activations and
/// tanh(c) recomputed from gates and c): with dL/dc = dc + dh·σ(o)·(1 − tanh²c),
/// writes dgates [groups, 4, inner] and dc_prev = dL/dc · σ(f), or adds to them when
/// `accumulate_gates` / `accumulate_prev` is non-zero. dh, dc and c_prev may be NULL (zeros);
/// dgates and dc_prev may be NULL (not wanted).
void ar_lstm_backward(const float *gates, const float *c_prev, const float *c, const float *dh, const float *dc,
                      float *dgates, float *dc_prev, size_t groups, size_t inner, int accumulate_gates,
                      int accumulate_prev);

/// PixelCNN++'s gated linear unit over `groups` blocks of 2·inner values [a | b]:
/// y[g·inner + j] = a_j · sigmoid(b_j).
void ar_glu_forward(const float *x, float *y, size_t groups, size_t inner);
/// Vector-Jacobian product of ar_glu_forward (sigmoid recomputed from x): da = gy · σ(b),
/// db = gy · a · σ(b) · (1 − σ(b)); written into dx, or added when `accumulate` is non-zero.
void ar_glu_backward(const float *x, const float *gy, float *dx, size_t groups, size_t inner, int accumulate);
/// PixelCNN++'s concat_elu over `groups` blocks of `inner` values: y holds, per group,
/// [elu(x) | elu(−x)] (2·inner values), elu(v) = v for v > 0 and e^v − 1 otherwise.
void ar_concat_elu_forward(const float *x, float *y, size_t groups, size_t inner);
/// Vector-Jacobian product of ar_concat_elu_forward (exponentials recomputed from x):
/// dx = g⁺ · elu'(x) − g⁻ · elu'(−x), written, or added when `accumulate` is non-zero.
void ar_concat_elu_backward(const float *x, const float *gy, float *dx, size_t groups, size_t inner,
                            int accumulate);

/// y = log(1 + exp(x)), stable for large |x|.
void ar_softplus(const float *x, float *y, size_t n);

/// y = max(x, 0).
void ar_relu(const float *x, float *y, size_t n);
/// x = max(x, 0) in place.
void ar_relu_inplace(float *x, size_t n);
/// gx (+)= g where x > 0 (added when `accumulate` is non-zero, else written).
void ar_relu_backward(const float *x, const float *g, float *gx, size_t n, int accumulate);
/// gx (+)= g · (1 if x > 0 else y + alpha), the ELU derivative from its input x and output y.
void ar_elu_backward(const float *x, const float *y, const float *g, float *gx, float alpha, size_t n,
                     int accumulate);
/// y = a + b, a − b, a · b elementwise (y may not alias a or b).
void ar_add(const float *a, const float *b, float *y, size_t n);
void ar_sub(const float *a, const float *b, float *y, size_t n);
void ar_mul(const float *a, const float *b, float *y, size_t n);
/// y [cols, rows] (+)= xᵀ for x [rows, cols] (added when `accumulate` is non-zero, else
/// written); y may not alias x.
void ar_transpose(const float *x, float *y, size_t rows, size_t cols, int accumulate);
/// gx += g, and gx += g · b.
void ar_accumulate(const float *g, float *gx, size_t n);
void ar_accumulate_product(const float *g, const float *b, float *gx, size_t n);

/// Σ x[i], with eight interleaved partial sums.
float ar_sum(const float *x, size_t n);

/// Bernoulli negative log-likelihood from logits, elementwise:
/// out = max(l, 0) - t * l + log(1 + exp(-|l|)).
void ar_bernoulli_nll(const float *logits, const float *targets, float *out, size_t n);

/// Row-wise categorical negative log-likelihood: for each of `rows` rows of `classes` logits,
/// out[r] = logsumexp(row) - row[target[r]]; also writes softmax(row) into `probs` when non-null.
void ar_categorical_nll(const float *logits, const int *targets, float *out, float *probs,
                        size_t rows, size_t classes);
/// Categorical NLL with the classes of n positions laid out as planes (class k of position p
/// at logits[k·n + p]): targets[p·target_stride], out[p·out_stride]; probs (k·n + p) or NULL;
/// top and rest: n floats of scratch, first: n ints of scratch. Same results as
/// ar_categorical_nll on the transpose.
void ar_categorical_nll_planes(const float *logits, const int *targets, size_t target_stride,
                               float *out, size_t out_stride, float *probs, size_t classes,
                               size_t n, float *top, float *rest, int *first);
/// Its gradient: grad[k·n + p] (+)= g[p·g_stride] · (probs[k·n + p] − [k = target]).
void ar_categorical_nll_planes_backward(const float *probs, const int *targets, size_t target_stride,
                                        const float *g, size_t g_stride, float *grad, int initialized,
                                        size_t classes, size_t n);

/// NADE conditionals for a batch, in O(B·D·H) with running sums (Larochelle & Murray 2011):
/// a_0 = c, a_{i+1} = a_i + x_i W_i, logit_i = b_i + V_i · sigmoid(a_i).
/// x: [B, D], W and V: [D, H], b: [D], c: [H], logits: [B, D]. `scratch` holds (B+1)·H floats.
void ar_nade_forward(const float *x, const float *W, const float *V, const float *b,
                     const float *c, float *logits, float *scratch, size_t B, size_t D, size_t H);

/// Vector-Jacobian product of ar_nade_forward. Given g = dL/dlogits [B, D], accumulates
/// (adds) into dW, dV [D, H], db [D], dc [H] and, when dx is non-null, dx [B, D].
/// Any of dW, dV, db, dc may be null when that gradient is not needed.
/// `scratch` must hold (2B+1)·H floats.
void ar_nade_backward(const float *x, const float *W, const float *V, const float *c,
                      const float *g, float *dx, float *dW, float *dV, float *db, float *dc,
                      float *scratch, size_t B, size_t D, size_t H);

/// One Adam step over n parameters, in place: with g' = g + wd·w,
/// m = b1·m + (1−b1)·g', v = b2·v + (1−b2)·g'², w −= step · m / (sqrt(v / c2) + eps),
/// where step = lr / (1 − b1^t) and c2 = 1 − b2^t are the bias corrections.
void ar_adam(float *w, const float *g, float *m, float *v, size_t n, float step, float b1,
             float b2, float eps, float wd, float c2);

/// Keeps freed memory in the process for reuse: large blocks come from the heap instead of
/// fresh mmap'd pages (which the kernel must zero on first touch) and the heap is not trimmed.
/// Training allocates and frees the same large activation buffers every step.
void ar_tune_allocator(void);

/// A process-wide counter of floating-point operations issued to matrix products, safe to
/// update from several threads.
void ar_add_flops(long long n);
long long ar_flops(void);

/// Sets the number of OpenMP threads used by oneDNN; returns 0 if the runtime is absent.
int ar_set_threads(int n);
/// Makes the calling thread's next OpenMP regions (oneDNN's products) single-threaded and
/// returns the team size to restore with `ar_serial_end`.
int ar_serial_begin(void);
void ar_serial_end(int previous);

/// Installs SIGINT and SIGTERM handlers that only record the signal (one shot each:
/// a second signal takes the default action).
void ar_stop_install(void);
/// The signal that asked to stop, or 0.
int ar_stop_requested(void);
/// Forgets a recorded stop request.
void ar_stop_clear(void);

#ifdef __cplusplus
}
#endif
#endif
