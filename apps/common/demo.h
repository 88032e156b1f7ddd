/*
 * The frame the channel demos share (http-demo, mqtt-demo, config-demo):
 * each demo provides demo_name and demo_run; the variant it is linked with
 * provides demo_wait and demo_woken and calls demo_run: demo_main.c (bare
 * metal, the core asleep in WFI) or demo_main_freertos.c (one task among
 * others, woken through a semaphore).
 */
#ifndef DEMO_H
#define DEMO_H

/* The demo's name, the prefix of its console lines ("http-demo"). */
extern const char demo_name[];

/* Sets up notifications and the network, runs every step in order, prints
 * "<name>: done". Called from main (bare metal) or from one task. */
void demo_run(void);

/* Blocks until the notification ISR has run since the last call, or returns
 * at once if it has (a wake-up may be spurious; callers re-check). */
void demo_wait(void);

/* Called by the notification ISR after it has taken its events; must not
 * call the kernel. */
void demo_woken(void);

#endif
