// Discretised logistic mixture likelihood of PixelCNN++ (Salimans, Karpathy, Chen and Kingma
// 2017, sections 2.1-2.2), in its own header so that it stays apart from ar_kernels.h.
// The Swift side (Sources/AutoregTensor/LogisticMixture.swift) documents the parameter layout
// and checks every size and value before calling these.
#ifndef AR_LOGISTIC_MIXTURE_H
#define AR_LOGISTIC_MIXTURE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Where things are. Pixel n = (image i, position q) has its parameter p at
/// params[i·param_image_stride + q·param_position_stride + p·param_stride] and its channel c at
/// values[i·value_image_stride + q·value_position_stride + c·value_channel_stride]; the
/// outputs (−log-likelihood terms, one per sub-pixel) are laid out like the values.
/// Parameter p, for K components and C channels (C = 1 or 3):
///   p = k                  mixture logit of component k
///   p = K + c·K + k        mean μ of channel c, component k (pixel scale [−1, 1])
///   p = K + C·K + c·K + k  log-scale s of channel c, component k (clamped below at min_log_scale)
///   p = K + 2·C·K + j·K + k   (C = 3 only) coefficient j of component k: α (j = 0), β, γ
typedef struct {
    size_t images, positions, components, channels;
    size_t param_image_stride, param_position_stride, param_stride;
    size_t value_image_stride, value_position_stride, value_channel_stride;
    /// log-scales below this are replaced by it (and get no gradient).
    float min_log_scale;
    /// non-zero: the coefficients used are tanh of the parameters (as the reference code does).
    int tanh_coefficients;
} ar_dlm_shape;

/// out[c] = −log p(x_c | x_<c) for every channel c of every pixel, where
/// p(x) = Σ_k π_k Π_c p(x_c | x_<c, k); the C terms of a pixel add up to −log p(x).
/// `values` holds integers 0…255 as floats (not checked here).
void ar_dlm_forward(const ar_dlm_shape *shape, const float *params, const float *values, float *out);

/// Vector-Jacobian product of ar_dlm_forward with respect to the parameters: given
/// g = dL/dout (laid out like the values), writes dL/dparams into grad (laid out like the
/// parameters), or adds it when `accumulate` is non-zero. Every parameter gets a value.
void ar_dlm_backward(const ar_dlm_shape *shape, const float *params, const float *values, const float *g,
                     float *grad, int accumulate);

#ifdef __cplusplus
}
#endif
#endif
