#include "ar_kernels.h"
#include <stdlib.h>  // defines __GLIBC__ on glibc systems

#if defined(__GLIBC__)
#include <malloc.h>

void ar_tune_allocator(void) {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);   // glibc's maximum: blocks below 32 MiB from the heap
    mallopt(M_TRIM_THRESHOLD, 1 << 30);    // return memory to the system only above 1 GiB free
    mallopt(M_TOP_PAD, 64 << 20);          // grow the heap in 64 MiB steps
}
#else
void ar_tune_allocator(void) {}
#endif

static long long ar_flop_counter;

void ar_add_flops(long long n) { __atomic_fetch_add(&ar_flop_counter, n, __ATOMIC_RELAXED); }

long long ar_flops(void) { return __atomic_load_n(&ar_flop_counter, __ATOMIC_RELAXED); }
