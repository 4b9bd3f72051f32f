// Per-image convolution products two ways, on the shapes of the models: through a column
// matrix (copy Cin·taps shifted planes, then one product with K = Cin·taps), or one product
// per tap read in place from the shifted input (K = Cin each; what ShiftedTaps does). For the
// output, the weight gradient and the input gradient. The copies here are plain memcpy, so the
// column side is measured at its best (the engine's gather also zeroes the padding).
//
//   cc -O2 benchmarks/shifted_taps_gemm.c -ldnnl -o /tmp/shifted_taps_gemm
//   OMP_NUM_THREADS=1 /tmp/shifted_taps_gemm [repeats]
//
// Prints GFLOP/s (best of 5 rounds) per shape: Cout, Cin, kept taps, pixels.
#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void fill(float *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = (float)rand() / RAND_MAX - 0.5f;
}

static void shape(int cout, int cin, int taps, int pixels, int reps) {
    int k = cin * taps, ka = cout * taps, rows = k > ka ? k : ka;
    float *w = malloc(sizeof(float) * cout * k), *cols = malloc(sizeof(float) * rows * pixels);
    float *gy = malloc(sizeof(float) * cout * pixels), *y = malloc(sizeof(float) * cout * pixels);
    float *x = malloc(sizeof(float) * cin * (pixels + 64)), *dx = malloc(sizeof(float) * cin * (pixels + 64));
    float *dw = malloc(sizeof(float) * cout * k);
    fill(w, (size_t)cout * k); fill(gy, (size_t)cout * pixels); fill(y, (size_t)cout * pixels);
    fill(x, (size_t)cin * (pixels + 64)); fill(dx, (size_t)cin * (pixels + 64)); fill(dw, (size_t)cout * k);
    double best[6] = {1e9, 1e9, 1e9, 1e9, 1e9, 1e9};
    for (int round = 0; round < 5; round++) {
        double t[7];
        t[0] = now();
        for (int r = 0; r < reps; r++) {  // output: columns, then [Cout, K]·[K, P]
            for (int ci = 0; ci < cin; ci++)
                for (int j = 0; j < taps; j++) memcpy(cols + (size_t)(ci * taps + j) * pixels, x + ci * pixels + j, sizeof(float) * pixels);
            dnnl_sgemm('N', 'N', cout, pixels, k, 1, w, k, cols, pixels, 1, y, pixels);
        }
        t[1] = now();
        for (int r = 0; r < reps; r++)  // output: per tap [Cout, Cin]·shifted x
            for (int j = 0; j < taps; j++) dnnl_sgemm('N', 'N', cout, pixels, cin, 1, w + j * cin, k, x + j, pixels, 1, y, pixels);
        t[2] = now();
        for (int r = 0; r < reps; r++) {  // weight gradient: columns, then dOut·colsᵀ
            for (int ci = 0; ci < cin; ci++)
                for (int j = 0; j < taps; j++) memcpy(cols + (size_t)(ci * taps + j) * pixels, x + ci * pixels + j, sizeof(float) * pixels);
            dnnl_sgemm('N', 'T', cout, k, pixels, 1, gy, pixels, cols, pixels, 1, dw, k);
        }
        t[3] = now();
        for (int r = 0; r < reps; r++)  // weight gradient: per tap dOut·shifted xᵀ
            for (int j = 0; j < taps; j++) dnnl_sgemm('N', 'T', cout, cin, pixels, 1, gy, pixels, x + j, pixels, 1, dw + j * cin, k);
        t[4] = now();
        for (int r = 0; r < reps; r++) {  // input gradient: the output gradient's columns (flipped taps), [Cin, Cout·taps]·cols
            for (int co = 0; co < cout; co++)
                for (int j = 0; j < taps; j++) memcpy(cols + (size_t)(co * taps + j) * pixels, gy + co * pixels, sizeof(float) * pixels);
            dnnl_sgemm('N', 'N', cin, pixels, ka, 1, w, ka, cols, pixels, 1, dx, pixels);
        }
        t[5] = now();
        for (int r = 0; r < reps; r++)  // input gradient: per tap W_tᵀ·dOut into the shifted planes
            for (int j = 0; j < taps; j++) dnnl_sgemm('T', 'N', cin, pixels, cout, 1, w + j * cin, k, gy, pixels, 1, dx + j, pixels);
        t[6] = now();
        for (int i = 0; i < 6; i++)
            if (t[i + 1] - t[i] < best[i]) best[i] = t[i + 1] - t[i];
    }
    double gf = 2.0 * cout * pixels * k * reps / 1e9;
    printf("| %3d | %3d | %2d | %4d | %5.1f | %5.1f | %5.1f | %5.1f | %5.1f | %5.1f |\n", cout, cin, taps, pixels,
           gf / best[0], gf / best[1], gf / best[2], gf / best[3], gf / best[4], gf / best[5]);
    free(w); free(cols); free(gy); free(y); free(x); free(dx); free(dw);
}

int main(int argc, char **argv) {
    int reps = argc > 1 ? atoi(argv[1]) : 300;
    static const int shapes[][4] = {
        {32, 64, 6, 784}, {64, 64, 6, 784}, {32, 64, 4, 784}, {64, 64, 4, 784},  // PixelCNN++ blocks, 28×28
        {32, 64, 6, 196}, {64, 64, 6, 196}, {32, 64, 6, 49},                      // 14×14, 7×7
        {128, 64, 6, 784}, {128, 64, 2, 784}, {64, 64, 5, 784},                   // Gated PixelCNN, PixelCNN
        {128, 1, 24, 784}, {32, 32, 6, 784}, {16, 16, 2, 784},                    // few channels
    };
    printf("| Cout | Cin | taps | pixels | output: columns | per tap | dW: columns | per tap | dIn: columns | per tap |\n");
    printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        shape(shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3], reps);
    return 0;
}
