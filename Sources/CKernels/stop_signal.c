// A stop request from SIGINT or SIGTERM, so that a training run can finish its step,
// write a checkpoint and exit instead of losing the work since the last one.
#include "ar_kernels.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t ar_stop_signal_number = 0;

static void ar_stop_handler(int sig) { ar_stop_signal_number = sig; }

void ar_stop_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = ar_stop_handler;
    sigemptyset(&sa.sa_mask);
    // A second signal of the same kind takes the default action: Ctrl-C twice still kills.
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int ar_stop_requested(void) { return ar_stop_signal_number; }

void ar_stop_clear(void) { ar_stop_signal_number = 0; }
