/*
 * http-demo's steps (http_demo.c) and the two hooks each variant provides:
 * the bare-metal app (main.c) and the FreeRTOS one (main_freertos.c).
 */
#ifndef HTTP_DEMO_H
#define HTTP_DEMO_H

/* Sets up notifications and the network, runs every step in order, prints
 * "http-demo: done". Called from main (bare metal) or from one task. */
void http_demo_run(void);

/* Blocks until the notification ISR has run since the last call, or returns
 * at once if it has (a wake-up may be spurious; callers re-check). */
void http_demo_wait(void);

/* Called by the notification ISR after it has taken its events; must not
 * call the kernel. */
void http_demo_woken(void);

#endif
