/*
 * The host port: a fake board implementing every function of bw_port.h in
 * plain memory, for unit tests and host tools. Tests steer it through the
 * port_host_* controls below and read back what the kernel did.
 *
 * "App memory" is whatever host memory a test registers as app regions; a
 * range is app memory only if it lies wholly inside one region, as
 * cmse_check_address_range demands on the target (a range spanning two
 * regions is refused even when they touch). Single-threaded: the IRQ lock is
 * a depth counter that also records misuse (nesting, unbalanced unlocks).
 */
#ifndef PORT_HOST_H
#define PORT_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bw_port.h"

#define PORT_HOST_MAX_APP_REGIONS 8
#define PORT_HOST_MAX_IRQS 512
#define PORT_HOST_CONSOLE_CAPACITY 65536
#define PORT_HOST_DEFAULT_IRQ_COUNT 96
#define PORT_HOST_RESET_RAM_WORDS 16   /* what port_reset_surviving_ram gives by default */

/* The mediated registers of the fake board: addresses and masks. */
#define PORT_HOST_REG_FULL 0x40021000u          /* read all, write all */
#define PORT_HOST_REG_FULL_READ_MASK 0xFFFFFFFFu
#define PORT_HOST_REG_FULL_WRITE_MASK 0xFFFFFFFFu
#define PORT_HOST_REG_PARTIAL 0x40021004u       /* some bits readable, fewer writable */
#define PORT_HOST_REG_PARTIAL_READ_MASK 0x00FF00FFu
#define PORT_HOST_REG_PARTIAL_WRITE_MASK 0x000000F0u
#define PORT_HOST_REG_LOCKED 0x40021008u        /* readable, not writable */
#define PORT_HOST_REG_LOCKED_READ_MASK 0xFFFFFFFFu
#define PORT_HOST_REG_LOCKED_WRITE_MASK 0x00000000u

/* Puts the whole fake board back to its defaults: no app regions, time 0 with
 * no auto-step, clocks 160/160/80/80 MHz, PORT_HOST_DEFAULT_IRQ_COUNT irqs all
 * the app's, no pends, entropy working from counter 0, empty console, thread
 * mode, no restart requests, identity 00 01 .. 0f, registers 0, lock free,
 * no flash partitions, PORT_HOST_RESET_RAM_WORDS words of reset-surviving
 * RAM, all 0 (a power-on: QEMU's RAM starts zeroed too). */
void port_host_reset(void);

/* A chip reset (watchdog, reset pin): port_host_reset, except that the
 * reset-surviving RAM (port_reset_surviving_ram) and its size are kept. */
void port_host_chip_reset(void);

/* How many words port_reset_surviving_ram offers (0: none, it returns NULL;
 * at most PORT_HOST_RESET_RAM_WORDS). */
void port_host_set_reset_ram_words(size_t words);
/* The reset-surviving RAM itself, for a test to inspect or spoil. */
uint32_t *port_host_reset_ram(void);

/* Registers [base, base+len) as app memory (writable or read-only). False if
 * the region table is full. */
bool port_host_add_app_region(const void *base, size_t len, bool writable);
/* Forgets every app region. */
void port_host_clear_app_regions(void);

/* Sets the time port_time_us returns; `step` is added after every read (0: frozen). */
void port_host_set_time_us(uint64_t now);
void port_host_set_time_step_us(uint64_t step);

/* Sets the frequency port_clock_hz reports for a clock. */
void port_host_set_clock_hz(bw_clock clock, uint32_t hz);

/* Sets how many app IRQ lines exist (at most PORT_HOST_MAX_IRQS). */
void port_host_set_irq_count(uint32_t count);
/* Marks an IRQ as owned by the kernel (not the app's) or gives it back. */
void port_host_set_kernel_irq(uint32_t irqn, bool kernel_owned);
/* How often port_irq_pend pended irqn (0 for out-of-range irqn). */
uint32_t port_host_pend_count(uint32_t irqn);
/* All pends, any irq, and pends of irqs the port refused (out of range). */
uint32_t port_host_pend_total(void);
uint32_t port_host_bad_pends(void);

/* Makes port_entropy fail (BW_E_IO) or work again. */
void port_host_set_entropy_failing(bool failing);

/* Everything written to the console since the last clear, NUL-terminated. */
const char *port_host_console(void);
size_t port_host_console_len(void);
void port_host_console_clear(void);

/* What port_app_in_interrupt reports. */
void port_host_set_in_interrupt(bool in_interrupt);

/* Calls of port_app_restart_request so far. */
uint32_t port_host_restart_requests(void);

/* Provisions the 16-byte identity (writes an identity record into the fake
 * provisioning sector), or erases it (bw_device_identity: BW_E_IO). */
void port_host_set_identity(const uint8_t identity[16]);
void port_host_clear_identity(void);
/* Writes bytes into the fake provisioning sector (erased, 0xFF, after reset). */
void port_host_set_provisioning(uint32_t offset, const void *data, uint32_t len);

/* The value behind a mediated register (0 for an unknown address). */
uint32_t port_host_mediated_value(uint32_t app_address);
void port_host_set_mediated_value(uint32_t app_address, uint32_t value);

/* IRQ lock bookkeeping: current depth, deepest nesting seen, lock calls, and
 * whether an unlock ever restored a state other than the matching lock's. */
uint32_t port_host_lock_depth(void);
uint32_t port_host_lock_max_depth(void);
uint32_t port_host_lock_count(void);
bool port_host_lock_misused(void);

/* Calls that broke a port contract's precondition (port_app_range_ok with
 * len 0 or a wrapping range). */
uint32_t port_host_contract_violations(void);

/* Simulates an app interrupt arriving in the middle of a kernel call: the
 * port_app_range_ok call made while the lock is free, after `skip` such calls
 * have gone by, first runs hook(context) with port_app_in_interrupt() true,
 * once (the hook may make system calls). A NULL hook cancels. */
void port_host_set_preempt_hook(void (*hook)(void *context), void *context, uint32_t skip);

/* Runs hook(context) inside every port_time_us call, before it returns (to
 * observe what the kernel has and has not written yet). NULL cancels. */
void port_host_set_time_hook(void (*hook)(void *context), void *context);

/* The next port_console_write stores half its bytes, calls fn (once: a
 * context that preempts the write), then stores the rest. */
void port_host_console_preempt(void (*fn)(void));

/* Number of port_console_write calls since the last console clear. */
uint32_t port_host_console_writes(void);

/* What port_flash_partition(id) returns: a partition the test owns (e.g. over
 * a nor_sim device; it must outlive its use), or NULL (the default after
 * port_host_reset: the board has no such partition). Unknown ids are ignored. */
void port_host_set_partition(bw_partition_id id, const bw_flash_partition *partition);

/* Makes port_address_kind return `kind` for [base, base + size) (one range;
 * size 0 removes it). Other addresses are BW_ADDRESS_UNKNOWN. */
void port_host_set_address_kind(uint32_t base, uint32_t size, bw_address_kind kind);

#endif
