/*
 * Shared by the test kernel bulwark-kernel-busyloop (busy_loop.c) and its
 * app (tests/qemu/apps/masked_idle): how long the kernel loop stays busy,
 * how long it then waits, and the app interrupt it pends at the end.
 */
#ifndef BUSY_LOOP_H
#define BUSY_LOOP_H

#define BUSY_LOOP_MS 1000u        /* two hang timeouts (BW_CRASH_HANG_MS 500) */
#define BUSY_LOOP_QUIET_MS 200u   /* then the app sleeps on, the kernel idle */
#define BUSY_LOOP_APP_IRQ 65u     /* an app interrupt: its wake-up */

#endif
