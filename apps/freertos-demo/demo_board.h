/*
 * What the FreeRTOS demo needs from the board it runs on: an LED the app may
 * drive (through the kernel where the board mediates it) and an interrupt
 * line no device uses, for the demo's notification center.
 */
#ifndef DEMO_BOARD_H
#define DEMO_BOARD_H

#include <stdbool.h>
#include <stdint.h>

#include "mv_syscalls.h"

/* The interrupt line of the demo's notification center; the board file's
 * handler for it (the vendor's CMSIS name) calls demo_notify_isr (main.c). */
extern const uint32_t demo_notify_irq;
void demo_notify_isr(void);

/* Makes the LED usable (clocks, pin mode); OKAY or the failing call's status. */
enum MvStatus demo_led_init(void);

/* Switches the LED on or off and reads it back into *lit_out. Thread mode. */
enum MvStatus demo_led_set(bool on, bool *lit_out);

#endif
