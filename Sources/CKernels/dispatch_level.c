// Which of the AR_HOT clones (ar_dispatch.h) glibc's resolver picks on this CPU, for reports.
#include "ar_dispatch.h"
#include "ar_kernels.h"

int ar_kernel_level(void) {
#if defined(__x86_64__) && defined(__GLIBC__) && defined(__has_attribute)
#if __has_attribute(target_clones)
    // The resolver tests the same feature bits in the same order: v4 first, then v3.
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4")) return 4;
    if (__builtin_cpu_supports("x86-64-v3")) return 3;
    return 1;
#endif
#endif
    return 0;
}
