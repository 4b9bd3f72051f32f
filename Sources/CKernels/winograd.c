// Winograd's minimal filtering along image rows (Lavin & Gray 2016), for the convolutions
// whose kept taps form rows of 3 (dx = -d, 0, d: F(2,3), 4 products per 2 outputs instead
// of 6) or of 2 (dx = -d, 0: F(2,2), 3 instead of 4). The products themselves are GEMMs in
// the caller; these are the transforms around them.
//
// Tiling of a row of width w at dilation d: the row is cut into blocks of 2d columns; tile
// tau = b·d + r (r < d) holds the outputs x0 = 2d·b + r and x0 + d, so a tile's neighbours
// in the row (x0 - d, x0 + 2d) are the tiles tau - d and tau + d. Each transform splits a
// plane into its tiles' first values e[tau] = x[x0] and second values o[tau] = x[x0 + d]
// (zeros past a row's end), works on e and o with unit strides over the whole plane (rows of
// a few tiles are too short for vector loops; the first and last d tiles of each row are
// mended after), and merges back. ar_wino_tiles(w, d) = ceil(w / 2d)·d tiles per row.
#include "ar_kernels.h"
#include "ar_dispatch.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__clang__)
#pragma clang fp contract(fast)
#endif

int ar_wino_tiles(int w, int d) { return (w + 2 * d - 1) / (2 * d) * d; }

typedef struct { float v[4]; } quad;

// The helpers are inlined into each instruction-set clone of the transforms (on their own
// they would be compiled for the x86-64 baseline only).
#define AR_INLINE static inline __attribute__((always_inline))

// Splits `blocks` consecutive blocks of 2d values: e gets the first d of each, o the second d.
AR_INLINE void split_blocks(const float *restrict x, size_t blocks, int d, float *restrict e, float *restrict o) {
    if (d == 1) {
        for (size_t b = 0; b < blocks; b++) { e[b] = x[2 * b]; o[b] = x[2 * b + 1]; }
    } else if (d == 2) {
        for (size_t b = 0; b < blocks; b++) {
            memcpy(e + 2 * b, x + 4 * b, 8);
            memcpy(o + 2 * b, x + 4 * b + 2, 8);
        }
    } else if (d == 4) {
        for (size_t b = 0; b < blocks; b++) {
            memcpy(e + 4 * b, x + 8 * b, sizeof(quad));
            memcpy(o + 4 * b, x + 8 * b + 4, sizeof(quad));
        }
    } else {
        for (size_t b = 0; b < blocks; b++) {
            memcpy(e + b * d, x + 2 * d * b, sizeof(float) * d);
            memcpy(o + b * d, x + 2 * d * b + d, sizeof(float) * d);
        }
    }
}

// The inverse of split_blocks, adding into x when `add`.
AR_INLINE void merge_blocks(const float *restrict e, const float *restrict o, size_t blocks, int d,
                                float *restrict x, int add) {
    if (d == 1 && add) {
        for (size_t b = 0; b < blocks; b++) { x[2 * b] += e[b]; x[2 * b + 1] += o[b]; }
    } else if (d == 1) {
        for (size_t b = 0; b < blocks; b++) { x[2 * b] = e[b]; x[2 * b + 1] = o[b]; }
    } else if (add) {
        for (size_t b = 0; b < blocks; b++) {
            for (int r = 0; r < d; r++) { x[2 * d * b + r] += e[b * d + r]; x[2 * d * b + d + r] += o[b * d + r]; }
        }
    } else {
        for (size_t b = 0; b < blocks; b++) {
            memcpy(x + 2 * d * b, e + b * d, sizeof(float) * d);
            memcpy(x + 2 * d * b + d, o + b * d, sizeof(float) * d);
        }
    }
}

// e and o [h·tiles] of the plane x [h][w]; pad: 2·tiles floats of scratch for rows that do
// not fill their last block.
AR_INLINE void split(const float *restrict x, int h, int w, int d, int tiles, float *restrict pad,
                  float *restrict e, float *restrict o) {
    if (w == 2 * tiles) {  // rows of whole blocks: the plane is one run of blocks
        split_blocks(x, (size_t)h * tiles / d, d, e, o);
        return;
    }
    memset(pad + w, 0, sizeof(float) * (2 * tiles - w));
    for (int y = 0; y < h; y++) {
        memcpy(pad, x + (size_t)y * w, sizeof(float) * w);
        split_blocks(pad, tiles / d, d, e + (size_t)y * tiles, o + (size_t)y * tiles);
    }
}

// x [h][w] (+)= the plane merged from e and o (values past a row's end dropped).
AR_INLINE void merge(const float *restrict e, const float *restrict o, int h, int w, int d, int tiles,
                  float *restrict pad, float *restrict x, int add) {
    if (w == 2 * tiles) {
        merge_blocks(e, o, (size_t)h * tiles / d, d, x, add);
        return;
    }
    for (int y = 0; y < h; y++) {
        merge_blocks(e + (size_t)y * tiles, o + (size_t)y * tiles, tiles / d, d, pad, 0);
        float *restrict row = x + (size_t)y * w;
        if (add) {
            for (int i = 0; i < w; i++) row[i] += pad[i];
        } else {
            memcpy(row, pad, sizeof(float) * w);
        }
    }
}

// Scratch for one plane's e and o and a padded row.
typedef struct { float *e, *o, *pad; } planes;

static planes planes_alloc(int h, int tiles) {
    float *p = malloc(sizeof(float) * ((size_t)2 * h * tiles + 2 * (size_t)tiles));
    if (!p) abort();
    return (planes){p, p + (size_t)h * tiles, p + (size_t)2 * h * tiles};
}

// Input transform Bᵀ·(d0..d3) (F(2,3)) or Bᵀ·(d0..d2) (F(2,2)), d_j = x[x0 + (j − 1)·d]:
// d0 = o[tau − d], d1 = e[tau], d2 = o[tau], d3 = e[tau + d] (zero outside the row).
AR_HOT void ar_wino_rows_input(int taps, const float *restrict x, size_t channels, int h, int w, int d,
                               int pad_top, int rows, float *restrict v) {
    const int tiles = ar_wino_tiles(w, d), points = taps + 1;
    const size_t plane = (size_t)rows * tiles, ps = channels * plane, n = (size_t)h * tiles;
    planes s = planes_alloc(h, tiles);
    // Not restrict: split writes the planes through s.e and s.o (the outputs are restrict).
    const float *e = s.e, *o = s.o;
    for (size_t c = 0; c < channels; c++) {
        float *restrict v0 = v + c * plane;
        // Rows above and below the image.
        for (int p = 0; p < points; p++) {
            memset(v0 + p * ps, 0, sizeof(float) * pad_top * tiles);
            memset(v0 + p * ps + (size_t)(pad_top + h) * tiles, 0, sizeof(float) * (rows - pad_top - h) * tiles);
        }
        split(x + c * (size_t)h * w, h, w, d, tiles, s.pad, s.e, s.o);
        float *restrict o0 = v0 + (size_t)pad_top * tiles, *restrict o1 = o0 + ps;
        float *restrict o2 = o0 + 2 * ps, *restrict o3 = o0 + 3 * ps;
        if (taps == 3) {
            for (size_t t = 0; t < n; t++) {
                o1[t] = e[t] + o[t];
                o2[t] = o[t] - e[t];
            }
            for (size_t t = d; t < n; t++) o0[t] = o[t - d] - o[t];
            for (size_t t = 0; t + d < n; t++) o3[t] = e[t] - e[t + d];
            for (size_t y = 0; y < (size_t)h; y++) {  // no neighbours past the row's ends
                for (int t = 0; t < d; t++) {
                    o0[y * tiles + t] = -o[y * tiles + t];
                    o3[(y + 1) * tiles - d + t] = e[(y + 1) * tiles - d + t];
                }
            }
        } else {
            for (size_t t = 0; t < n; t++) {
                o1[t] = e[t];
                o2[t] = o[t] - e[t];
            }
            for (size_t t = d; t < n; t++) o0[t] = o[t - d] - e[t];
            for (size_t y = 0; y < (size_t)h; y++) {
                for (int t = 0; t < d; t++) o0[y * tiles + t] = -e[y * tiles + t];
            }
        }
    }
    free(s.e);
}

// y += Aᵀ·m: (m0 + m1 + m2, m1 − m2 − m3) (F(2,3)) or (m0 + m1, m1 + m2) (F(2,2)).
AR_HOT void ar_wino_rows_output(int taps, const float *restrict m, size_t channels, int h, int w, int d,
                                float *restrict y) {
    const int tiles = ar_wino_tiles(w, d);
    const size_t n = (size_t)h * tiles, ps = channels * n;
    planes s = planes_alloc(h, tiles);
    float *restrict e = s.e, *restrict o = s.o;
    for (size_t c = 0; c < channels; c++) {
        const float *restrict m0 = m + c * n, *restrict m1 = m0 + ps, *restrict m2 = m0 + 2 * ps, *restrict m3 = m0 + 3 * ps;
        if (taps == 3) {
            for (size_t t = 0; t < n; t++) {
                e[t] = m0[t] + m1[t] + m2[t];
                o[t] = m1[t] - m2[t] - m3[t];
            }
        } else {
            for (size_t t = 0; t < n; t++) {
                e[t] = m0[t] + m1[t];
                o[t] = m1[t] + m2[t];
            }
        }
        merge(e, o, h, w, d, tiles, s.pad, y + c * (size_t)h * w, 1);
    }
    free(s.e);
}

// dm = A·gy: (g0, g0 + g1, g0 − g1, −g1) (F(2,3)) or (g0, g0 + g1, g1) (F(2,2)), with g0 and
// g1 the tile's two output gradients (0 past the row's end).
AR_HOT void ar_wino_rows_output_adjoint(int taps, const float *restrict gy, size_t channels, int h, int w, int d,
                                        float *restrict dm) {
    const int tiles = ar_wino_tiles(w, d);
    const size_t n = (size_t)h * tiles, ps = channels * n;
    planes s = planes_alloc(h, tiles);
    // Not restrict: split writes the planes through s.e and s.o (the outputs are restrict).
    const float *e = s.e, *o = s.o;
    for (size_t c = 0; c < channels; c++) {
        split(gy + c * (size_t)h * w, h, w, d, tiles, s.pad, s.e, s.o);
        float *restrict o0 = dm + c * n, *restrict o1 = o0 + ps, *restrict o2 = o0 + 2 * ps, *restrict o3 = o0 + 3 * ps;
        if (taps == 3) {
            for (size_t t = 0; t < n; t++) {
                o0[t] = e[t];
                o1[t] = e[t] + o[t];
                o2[t] = e[t] - o[t];
                o3[t] = -o[t];
            }
        } else {
            for (size_t t = 0; t < n; t++) {
                o0[t] = e[t];
                o1[t] = e[t] + o[t];
                o2[t] = o[t];
            }
        }
    }
    free(s.e);
}

// dx (+)= B·dv over the tap rows: input row iy gathers tap row i's dv at output row iy − dys[i].
// B·dv puts (dv0, dv1 − dv2 + dv3, −dv0 + dv1 + dv2, −dv3) at x0 − d .. x0 + 2d (F(2,3)) or
// (dv0, −dv0 + dv1 − dv2, dv2) at x0 − d .. x0 + d (F(2,2)); gathered per tile, x0 receives
// j = 1 of its tile and j = 3 of tile tau − d, x0 + d receives j = 2 of its tile and j = 0 of
// tile tau + d (neighbours in the same row only).
AR_HOT void ar_wino_rows_input_adjoint(int taps, const float *restrict dv, int tap_rows, const int *restrict dys,
                                       size_t channels, int h, int w, int d, float *restrict dx, int accumulate) {
    const int tiles = ar_wino_tiles(w, d);
    const size_t n = (size_t)h * tiles, ps = (size_t)tap_rows * channels * n;
    planes s = planes_alloc(h, tiles);
    float *restrict e = s.e, *restrict o = s.o;
    for (size_t c = 0; c < channels; c++) {
        memset(e, 0, sizeof(float) * n);
        memset(o, 0, sizeof(float) * n);
        for (int i = 0; i < tap_rows; i++) {
            // Input rows [y0, y1) read output rows y − dys[i] inside the image.
            const int y0 = dys[i] > 0 ? dys[i] : 0, y1 = h + dys[i] < h ? h + dys[i] : h;
            if (y1 <= y0) continue;
            const size_t count = (size_t)(y1 - y0) * tiles;
            float *restrict ei = e + (size_t)y0 * tiles, *restrict oi = o + (size_t)y0 * tiles;
            const float *restrict v0 = dv + ((size_t)i * channels + c) * n + (size_t)(y0 - dys[i]) * tiles;
            const float *restrict v1 = v0 + ps, *restrict v2 = v0 + 2 * ps, *restrict v3 = v0 + 3 * ps;
            if (taps == 3) {
                for (size_t t = 0; t < count; t++) {
                    ei[t] += v1[t] - v2[t] + v3[t];
                    oi[t] += v1[t] + v2[t] - v0[t];
                }
                for (size_t t = d; t < count; t++) ei[t] -= v3[t - d];
            } else {
                for (size_t t = 0; t < count; t++) {
                    ei[t] += v1[t] - v0[t] - v2[t];
                    oi[t] += v2[t];
                }
            }
            for (size_t t = 0; t + d < count; t++) oi[t] += v0[t + d];
            for (size_t y = 1; y < (size_t)(y1 - y0); y++) {  // take back what crossed a row's end
                for (int t = 0; t < d; t++) {
                    const size_t first = y * tiles + t, last = y * tiles - d + t;
                    if (taps == 3) ei[first] += v3[last];
                    oi[last] -= v0[first];
                }
            }
        }
        merge(e, o, h, w, d, tiles, s.pad, dx + c * (size_t)h * w, accumulate);
    }
    free(s.e);
}
