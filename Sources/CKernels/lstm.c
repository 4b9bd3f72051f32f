// The LSTM cell of PixelRNN's Row LSTM and Diagonal BiLSTM (van den Oord et al. 2016, eq. 3):
// the gate nonlinearities come from ar_sigmoid and ar_tanh (elementwise.c) over tiles that
// stay in L1, and the combining loops here are inlined into each AR_HOT clone and vectorise
// there (restrict pointers).
#include "ar_kernels.h"
#include "ar_dispatch.h"

// Fuse a·b + c into one FMA where the clone has it (the same as -ffp-contract=fast, in the file).
#if defined(__clang__)
#pragma clang fp contract(fast)
#endif

// Elements per tile: the tiles of activations and gradients (at most ten, 20 KiB) stay in L1.
enum { AR_LSTM_TILE = 512 };

// c = sf·cp + si·tg (cp may be NULL: zero previous state).
static inline void lstm_cell_state(const float *restrict sf, const float *restrict si, const float *restrict tg,
                                   const float *restrict cp, float *restrict c, size_t m) {
    if (cp) {
        for (size_t j = 0; j < m; j++) c[j] = sf[j] * cp[j] + si[j] * tg[j];
    } else {
        for (size_t j = 0; j < m; j++) c[j] = si[j] * tg[j];
    }
}

static inline void lstm_hidden(const float *restrict so, const float *restrict tc, float *restrict h, size_t m) {
    for (size_t j = 0; j < m; j++) h[j] = so[j] * tc[j];
}

AR_HOT void ar_lstm_forward(const float *gates, const float *c_prev, float *h, float *c, size_t groups, size_t inner) {
    float so[AR_LSTM_TILE], sf[AR_LSTM_TILE], si[AR_LSTM_TILE], tg[AR_LSTM_TILE], tc[AR_LSTM_TILE];
    for (size_t b = 0; b < groups; b++) {
        const float *o = gates + 4 * b * inner, *f = o + inner, *i = f + inner, *g = i + inner;
        const float *cp = c_prev ? c_prev + b * inner : 0;
        float *hb = h + b * inner, *cb = c + b * inner;
        for (size_t j0 = 0; j0 < inner; j0 += AR_LSTM_TILE) {
            size_t m = inner - j0 < AR_LSTM_TILE ? inner - j0 : AR_LSTM_TILE;
            ar_sigmoid(o + j0, so, m);
            ar_sigmoid(f + j0, sf, m);
            ar_sigmoid(i + j0, si, m);
            ar_tanh(g + j0, tg, m);
            lstm_cell_state(sf, si, tg, cp ? cp + j0 : 0, cb + j0, m);
            ar_tanh(cb + j0, tc, m);
            lstm_hidden(so, tc, hb + j0, m);
        }
    }
}

// The vector-Jacobian product of one tile into tiles of gradients; see ar_lstm_backward.
// Pointers that may be NULL are replaced by the caller (a tile of zeros for dh, dc, cp).
static inline void lstm_tile_backward(const float *restrict so, const float *restrict sf, const float *restrict si,
                                      const float *restrict tg, const float *restrict tc, const float *restrict cp,
                                      const float *restrict dh, const float *restrict dc,
                                      float *restrict go, float *restrict gf, float *restrict gi, float *restrict gg,
                                      float *restrict gp, size_t m) {
    for (size_t j = 0; j < m; j++) {
        float dct = dc[j] + dh[j] * so[j] * (1.0f - tc[j] * tc[j]);  // dL/dc, through h and directly
        go[j] = dh[j] * tc[j] * so[j] * (1.0f - so[j]);
        gf[j] = dct * cp[j] * sf[j] * (1.0f - sf[j]);
        gi[j] = dct * tg[j] * si[j] * (1.0f - si[j]);
        gg[j] = dct * si[j] * (1.0f - tg[j] * tg[j]);
        gp[j] = dct * sf[j];
    }
}

// dst = src, or dst += src: the choice outside the loop, so that both forms vectorise.
static inline void lstm_store(float *restrict dst, const float *restrict src, size_t m, int accumulate) {
    if (accumulate) {
        for (size_t j = 0; j < m; j++) dst[j] += src[j];
    } else {
        for (size_t j = 0; j < m; j++) dst[j] = src[j];
    }
}

AR_HOT void ar_lstm_backward(const float *gates, const float *c_prev, const float *c, const float *dh, const float *dc,
                      float *dgates, float *dc_prev, size_t groups, size_t inner, int accumulate_gates,
                      int accumulate_prev) {
    float so[AR_LSTM_TILE], sf[AR_LSTM_TILE], si[AR_LSTM_TILE], tg[AR_LSTM_TILE], tc[AR_LSTM_TILE];
    float go[AR_LSTM_TILE], gf[AR_LSTM_TILE], gi[AR_LSTM_TILE], gg[AR_LSTM_TILE], gp[AR_LSTM_TILE];
    static const float zeros[AR_LSTM_TILE];  // stands in for a NULL dh, dc or c_prev
    for (size_t b = 0; b < groups; b++) {
        const float *o = gates + 4 * b * inner, *f = o + inner, *i = f + inner, *g = i + inner;
        for (size_t j0 = 0; j0 < inner; j0 += AR_LSTM_TILE) {
            size_t m = inner - j0 < AR_LSTM_TILE ? inner - j0 : AR_LSTM_TILE;
            size_t at = b * inner + j0;
            ar_sigmoid(o + j0, so, m);
            ar_sigmoid(f + j0, sf, m);
            ar_sigmoid(i + j0, si, m);
            ar_tanh(g + j0, tg, m);
            ar_tanh(c + at, tc, m);
            lstm_tile_backward(so, sf, si, tg, tc, c_prev ? c_prev + at : zeros, dh ? dh + at : zeros,
                               dc ? dc + at : zeros, go, gf, gi, gg, gp, m);
            if (dgates) {
                float *d = dgates + 4 * b * inner + j0;
                lstm_store(d, go, m, accumulate_gates);
                lstm_store(d + inner, gf, m, accumulate_gates);
                lstm_store(d + 2 * inner, gi, m, accumulate_gates);
                lstm_store(d + 3 * inner, gg, m, accumulate_gates);
            }
            if (dc_prev) lstm_store(dc_prev + at, gp, m, accumulate_prev);
        }
    }
}
