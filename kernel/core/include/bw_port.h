/*
 * The port contract: everything the portable kernel core needs from a board.
 *
 * The core (kernel/core) never touches a register; it calls these. A port is a
 * folder under port/ that implements every function here (port/template/ is a
 * commented skeleton to copy). Unless a contract says otherwise a function may
 * be called from thread mode and from secure handlers, must not block, and
 * must not fail in a way the core cannot see.
 */
#ifndef BW_PORT_H
#define BW_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bw_err.h"
#include "bw_flash.h"

/* ---- time and clocks ---- */

/* Microseconds since the kernel started; monotonic, never wraps in practice. ISR-safe. */
uint64_t port_time_us(void);

typedef enum bw_clock {
    BW_CLOCK_SYSCLK,
    BW_CLOCK_HCLK,
    BW_CLOCK_PCLK1,
    BW_CLOCK_PCLK2,
} bw_clock;

/* Frequency of a clock in Hz as the app should see it (0 if the board has no such clock). */
uint32_t port_clock_hz(bw_clock clock);

/* ---- entropy ---- */

/* Fills buf with len bytes from the board's entropy source. BW_E_IO if it failed. */
bw_err port_entropy(void *buf, size_t len);

/* ---- critical sections ---- */

/* Masks every interrupt (secure and non-secure); returns the state to restore. */
uint32_t port_irq_lock(void);
/* Restores the state returned by the matching port_irq_lock. */
void port_irq_unlock(uint32_t state);

/* ---- the app's memory ---- */

typedef enum bw_access {
    BW_ACCESS_READ,       /* the kernel will only read the range */
    BW_ACCESS_READWRITE,  /* the kernel will write the range */
} bw_access;

/*
 * True when [addr, addr+len) (len > 0, no wrap; the core checked both) lies
 * wholly in memory the app owns and may access as asked, as the hardware sees
 * it for the calling app right now (TrustZone TT/cmse on target). Memory that
 * the kernel may touch on the app's behalf is only app RAM for writes and app
 * RAM or app flash for reads: never peripherals, never secure memory.
 */
bool port_app_range_ok(uintptr_t addr, size_t len, bw_access access);

/* ---- the app's interrupts ---- */

/* Number of interrupt lines the NVIC has for the app (IRQn 0 .. count-1). */
uint32_t port_irq_count(void);
/* True when IRQn is routed to the app (not owned by the kernel). */
bool port_irq_is_app(uint32_t irqn);
/* Pends an app-owned interrupt. ISR-safe. */
void port_irq_pend(uint32_t irqn);
/* True when the app called the kernel from one of its interrupt handlers. */
bool port_app_in_interrupt(void);

/* ---- mediated peripheral registers (mvPeriphPeek32/Poke32) ---- */

typedef struct bw_mediated_reg {
    uint32_t app_address;   /* the address the app names (its own, non-secure view) */
    uint32_t read_mask;     /* bits the app may read; others read as 0 */
    uint32_t write_mask;    /* bits the app may change; others are kept */
} bw_mediated_reg;

/* The board's table of mediated registers; *count receives its length. */
const bw_mediated_reg *port_mediated_regs(size_t *count);
/* Reads / writes one mediated register (address from the table). */
uint32_t port_mediated_read(uint32_t app_address);
void port_mediated_write(uint32_t app_address, uint32_t value);

/* ---- persistent storage ---- */

/* Where the board keeps a partition, or NULL if it has none (the kernel then
 * runs without that feature and says so in its log). */
const bw_flash_partition *port_flash_partition(bw_partition_id id);

/* RAM that keeps its contents across a chip reset (watchdog, SYSRESETREQ,
 * reset pin) but not across a power loss, and that nothing but the caller
 * writes (no start-up code clears it): crash supervision keeps its reset
 * marker there (bw_reset_marker.h). Returns the words and their number in
 * *words, or NULL and 0 if the board has none (a reset while the app runs
 * is then not counted as its crash). The same storage on every call. */
uint32_t *port_reset_surviving_ram(size_t *words);

/* ---- crash classification ---- */

/* What an address is on this board, as far as an app fault is concerned. */
typedef enum bw_address_kind {
    BW_ADDRESS_UNKNOWN = 0,         /* nothing the board names: unmapped, or the app's own */
    BW_ADDRESS_KERNEL_PERIPHERAL,   /* a peripheral the kernel keeps (any alias) */
    BW_ADDRESS_PROTECTED,           /* behind a memory/peripheral protection controller the
                                     * app is not granted, and not a kernel peripheral */
} bw_address_kind;

/* Classifies a fault address from the board's map. Any address; ISR-safe. */
bw_address_kind port_address_kind(uint32_t address);

/* ---- console, identity, restart ---- */

/* Writes bytes to the kernel console. Blocking but bounded; ISR-safe. */
void port_console_write(const char *text, size_t len);

/* Reads len bytes of the provisioning sector (identity record at 0, trusted
 * keys at BW_KEYS_RECORD_OFFSET; bw_identity.h) from secure storage.
 * BW_E_SIZE past its end. */
bw_err port_provisioning_read(uint32_t offset, void *buf, uint32_t len);

/* Asks for the app to be torn down and started again from its reset vector.
 * Takes effect when the current system call returns; never returns an error. */
void port_app_restart_request(void);

#endif
