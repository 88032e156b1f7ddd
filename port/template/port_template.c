/*
 * TEMPLATE port contract (kernel/core/include/bw_port.h): everything the
 * portable kernel core needs from a board. Copy, rename (port_<board>.c), and
 * fill in every TODO. Unless a contract says otherwise a function may be
 * called from thread mode and from secure handlers, must not block, and must
 * not fail in a way the core cannot see.
 *
 * Bodies without a TODO are generic Armv8-M code, correct for any chip with
 * TrustZone. The TODO bodies do the least that is still correct: entropy
 * reports BW_E_IO, there are no mediated registers, the console drops output,
 * so an unfinished port fails visibly instead of faking results.
 *
 * port_app_restart_request is not here: kernel/arch/armv8m/app_world.c
 * provides it for every Armv8-M board.
 */
#include <stdint.h>

#include "armv8m.h"
#include "armv8m_port.h"
#include "board.h"
#include "bw_port.h"

bool board_irq_is_kernel(uint32_t irqn);   /* board_template.c */
uint64_t board_time_us(void);              /* board_template.c */

/* ---- time and clocks ---- */

/* Microseconds since the kernel started; monotonic, never wraps in practice. ISR-safe. */
uint64_t port_time_us(void)
{
    return board_time_us();   /* TODO: in board_template.c */
}

/* Frequency of a clock in Hz as the app should see it (0 if the board has no such clock). */
uint32_t port_clock_hz(bw_clock clock)
{
    /* TODO: one case per clock when the buses run at different rates. */
    switch (clock) {
    case BW_CLOCK_SYSCLK:
    case BW_CLOCK_HCLK:
    case BW_CLOCK_PCLK1:
    case BW_CLOCK_PCLK2:
        return BOARD_SYSCLK_HZ;
    }
    return 0u;
}

/* ---- entropy ---- */

/* Fills buf with len bytes from the board's entropy source. BW_E_IO if it failed. */
bw_err port_entropy(void *buf, size_t len)
{
    /* TODO: read the chip's true random number generator (check its error
     * flags, bound every wait). Never fill buf from a counter or a constant:
     * keys and handles come from here. */
    (void)buf;
    (void)len;
    return BW_E_IO;
}

/* ---- critical sections ---- */



/* ---- the app's memory ---- */

static bool within(uintptr_t addr, size_t len, uint32_t base, uint32_t size)
{
    return addr >= base && len <= size && addr - base <= size - len;
}

/* True when [addr, addr+len) lies wholly in memory the app owns and may access
 * as asked, as the hardware sees it for the calling app right now: app RAM for
 * writes, app RAM or app flash for reads; never peripherals or secure memory. */
bool port_app_range_ok(uintptr_t addr, size_t len, bw_access access)
{
    /* TODO: add any further app RAM bank of the board map. */
    bool in_ram = within(addr, len, BOARD_APP_RAM_BASE, BOARD_APP_RAM_SIZE);
    bool in_flash = within(addr, len, BOARD_APP_SLOT_BASE, BOARD_APP_SLOT_SIZE);
    if (!(in_ram || (access == BW_ACCESS_READ && in_flash))) {
        return false;
    }
    return armv8m_app_access_ok(addr, len, access);   /* TT: what the app can reach now */
}

/* ---- the app's interrupts ---- */

/* Number of interrupt lines the NVIC has for the app (IRQn 0 .. count-1). */
uint32_t port_irq_count(void)
{
    return BOARD_IRQ_COUNT;
}

/* True when IRQn is routed to the app (not owned by the kernel). */
bool port_irq_is_app(uint32_t irqn)
{
    return irqn < BOARD_IRQ_COUNT && !board_irq_is_kernel(irqn);
}



/* ---- mediated peripheral registers (mvPeriphPeek32/Poke32) ---- */

/* The board's table of mediated registers; *count receives its length.
 * TODO: the registers of secure peripherals the app may still touch, by the
 * app's (non-secure) address, each with the bits it may read and write
 * (see port/stm32u585/u585_layout.c). None yet: every access is refused. */
const bw_mediated_reg *port_mediated_regs(size_t *count)
{
    *count = 0;
    return NULL;
}

/* Reads one mediated register (address from the table).
 * TODO: read it through its secure alias. */
uint32_t port_mediated_read(uint32_t app_address)
{
    (void)app_address;
    return 0u;
}

/* Writes one mediated register (address from the table).
 * TODO: write it through its secure alias. */
void port_mediated_write(uint32_t app_address, uint32_t value)
{
    (void)app_address;
    (void)value;
}

/* ---- console, identity ---- */

/* Writes bytes to the kernel console. Blocking but bounded; ISR-safe. */
void port_console_write(const char *text, size_t len)
{
    /* TODO: write to BOARD_CONSOLE_UART, polled, with a bounded wait a byte. */
    (void)text;
    (void)len;
}

/* Where the board keeps a partition, or NULL if it has none (the kernel then
 * runs without that feature and says so in its log). */
const bw_flash_partition *port_flash_partition(bw_partition_id id)
{
    /* TODO: write a bw_flash_device for the board's flash (NOR rules of
     * bw_flash.h enforced, see port/qemu-an505/flash_qemu.c), put the
     * partition offsets and sizes in board.h, and return them here. */
    (void)id;
    return NULL;
}

/* Classifies a fault address from the board's map (crash records). Any address; ISR-safe. */
bw_address_kind port_address_kind(uint32_t address)
{
    /* TODO: a table of the kernel's peripherals (both aliases) as
     * BW_ADDRESS_KERNEL_PERIPHERAL, and of what the chip's protection
     * controllers keep from the app without it being the kernel's as
     * BW_ADDRESS_PROTECTED (port/qemu-an505/port_qemu.c shows one). */
    (void)address;
    return BW_ADDRESS_UNKNOWN;
}

