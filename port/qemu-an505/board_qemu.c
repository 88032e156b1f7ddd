/*
 * The an505 board bring-up: memory protection controllers, peripheral
 * protection controllers, interrupt routing, the kernel time base (CMSDK
 * TIMER1, secure) and console (UART1, secure), and the SAU map of the app's
 * world. What the app may touch:
 *   app slot 0x80000000-0x800FFFFF (flash, execute in place), app RAM
 *   0x28200000-0x28283FFF (528 KiB of SSRAM3), and the non-secure peripheral
 *   window 0x40000000-0x4FFFFFFF minus the kernel's UARTs (1-3), SCC and FPGAIO
 *   and the SSE-200's non-secure watchdog, where the PPCs also leave only
 *   the app's peripherals reachable. Everything else is the kernel's.
 *
 * The kernel owns every reset source (docs/DESIGN.md, "Memory map on QEMU
 * an505"). On QEMU 7.2's an505 (IoTKit) they are: the NS watchdog at
 * 0x40081000 (no PPC: left out of the SAU's NS regions), the secure and
 * S32K watchdogs and the system control element's SWRESET (0x50081000,
 * 0x5002E000, 0x50021108: secure addresses, never NS in the SAU),
 * AIRCR.SYSRESETREQ (SYSRESETREQS: arch_init) and the SCC (outside the
 * SAU's NS regions, PPC-blocked too).
 */
#include <stdint.h>

#include "armv8m.h"
#include "board.h"
#include "bw_board.h"
#include "bw_port.h"
#include "cmsdk_uart.h"
#include "semihosting.h"

#define REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* MPC registers (offsets from the MPC base) */
#define MPC_CTRL      0x00u
#define MPC_BLK_IDX   0x18u
#define MPC_BLK_LUT   0x1Cu
#define MPC_CTRL_SEC_RESP_ERROR (1u << 4)
#define MPC_BLOCK_SIZE 1024u

/* PPC bits the app gets (1 = reachable from the non-secure world) */
#define APBNSPPC0_APP     ((1u << 0) | (1u << 2))          /* TIMER0, dual timer; TIMER1 is the kernel's */
#define APBNSPPCEXP1_APP  ((0x1Fu << 0) | (1u << 5) | (1u << 9) | (0xFu << 10))
                          /* SPI0-4, UART0, UART4, I2C0-3; UART1 (console), UART2 (modem)
                           * and UART3 (local link) stay secure */
#define APBNSPPCEXP2_APP  (1u << 1)                        /* audio; SCC and FPGAIO stay secure (mediated) */
#define AHBNSPPCEXP0_APP  0x3Fu                            /* VGA, GPIO0-3, Ethernet */

/* Interrupts the kernel keeps (everything else is routed to the app). */
static const uint32_t kernel_irqs[] = {
    1u,                        /* NS watchdog: unreachable by the app (a reset source) */
    2u,                        /* S32K timer */
    BOARD_KERNEL_TIMER_IRQ,    /* TIMER1: time base */
    9u, 10u,                   /* MPC, PPC combined */
    34u, 35u,                  /* UART1: console */
    36u, 37u,                  /* UART2: modem */
    38u, 39u,                  /* UART3: local delivery link */
};

/* The non-secure peripheral window leaves out the kernel's expansion
 * peripherals (UART1-3 at 0x40201000-0x40203FFF, SCC and FPGAIO at
 * 0x40300000 and 0x40302000): QEMU 7.2 never forwards SECRESPCFG to the
 * expansion PPCs, so a PPC-blocked access there would read as zero instead of
 * faulting. Outside the SAU's NS regions the app gets a SecureFault, on QEMU
 * and hardware alike; the PPCs stay configured as a second wall. The NS
 * watchdog (0x40081000-0x40081FFF) sits behind no PPC at all: with RESEN it
 * resets the chip (its integration-test registers even at once), so only
 * the SAU can keep it from the app. */
static const bw_sau_region sau_regions[] = {
    { BOARD_APP_SLOT_BASE, BOARD_APP_SLOT_BASE + BOARD_APP_SLOT_SIZE - 1u, 0 },
    { BOARD_GATE_BASE, BOARD_GATE_BASE + BOARD_GATE_SIZE - 1u, 1 },
    { BOARD_APP_RAM_BASE, BOARD_APP_RAM_BASE + BOARD_APP_RAM_SIZE - 1u, 0 },
    { 0x40000000u, BOARD_NS_WATCHDOG - 1u, 0 },   /* SSE-200 timers, sysinfo, NS security view */
    { BOARD_NS_WATCHDOG + 0x1000u, 0x40200FFFu, 0 },   /* GPIO, DMA (PPC), UART0 */
    { 0x40204000u, 0x402FFFFFu, 0 },   /* UART4, SPI, I2C */
    { 0x40301000u, 0x40301FFFu, 0 },   /* audio */
    { 0x40303000u, 0x4FFFFFFFu, 0 },   /* GPIO, VGA, Ethernet, ... */
};
_Static_assert(sizeof sau_regions / sizeof sau_regions[0] <= BOARD_SAU_REGIONS,
               "the an505's SAU has 8 regions");

/* TIMER1 counts down from 0xFFFFFFFF at SYSCLK; each wrap adds 2^32 ticks. */
#define TIMER_CTRL(b)      REG((b) + 0x00u)
#define TIMER_VALUE(b)     REG((b) + 0x04u)
#define TIMER_RELOAD(b)    REG((b) + 0x08u)
#define TIMER_INTSTATUS(b) REG((b) + 0x0Cu)
#define TIMER_CTRL_ENABLE  (1u << 0)
#define TIMER_CTRL_IRQ_EN  (1u << 3)

static volatile uint32_t timer_wraps;

bool serial_links_irq(uint32_t irqn);   /* serial_links.c */

/* CMSDK APB watchdog (the SSE-200's secure watchdog, wired to NMI). It counts
 * down at SYSCLK; at zero it raises its interrupt and reloads, and a second
 * zero with the interrupt still set would reset the chip (RESEN). */
#define WDOG_LOAD(b)    REG((b) + 0x000u)
#define WDOG_CONTROL(b) REG((b) + 0x008u)
#define WDOG_INTCLR(b)  REG((b) + 0x00Cu)
#define WDOG_LOCK(b)    REG((b) + 0xC00u)
#define WDOG_CONTROL_INTEN (1u << 0)
#define WDOG_CONTROL_RESEN (1u << 1)
#define WDOG_UNLOCK_KEY 0x1ACCE551u

bool board_irq_is_kernel(uint32_t irqn);
bool board_irq_is_kernel(uint32_t irqn)
{
    for (size_t i = 0; i < sizeof kernel_irqs / sizeof kernel_irqs[0]; i++) {
        if (kernel_irqs[i] == irqn) {
            return true;
        }
    }
    return false;
}

static void mpc_set_non_secure(uint32_t mpc, uint32_t offset, uint32_t size)
{
    uint32_t first = offset / MPC_BLOCK_SIZE, count = size / MPC_BLOCK_SIZE;
    for (uint32_t word = first / 32u; word <= (first + count - 1u) / 32u; word++) {
        uint32_t bits = 0;
        for (uint32_t bit = 0; bit < 32u; bit++) {
            uint32_t block = word * 32u + bit;
            if (block >= first && block < first + count) {
                bits |= 1u << bit;
            }
        }
        REG(mpc + MPC_BLK_IDX) = word;
        REG(mpc + MPC_BLK_LUT) = bits;
    }
}

static void security_init(void)
{
    /* Blocked accesses raise bus errors (not read-as-zero) so they are seen
     * (QEMU 7.2 applies this to the SSE-200's own PPCs only; see sau_regions). */
    REG(SECCTRL_SECRESPCFG) = 1u;
    /* Code in the secure alias of SSRAM1 may hold non-secure-callable code: no. */
    REG(SECCTRL_NSCCFG) = 0u;

    REG(BOARD_MPC_SSRAM1 + MPC_CTRL) |= MPC_CTRL_SEC_RESP_ERROR;
    REG(BOARD_MPC_SSRAM2 + MPC_CTRL) |= MPC_CTRL_SEC_RESP_ERROR;
    REG(BOARD_MPC_SSRAM3 + MPC_CTRL) |= MPC_CTRL_SEC_RESP_ERROR;
    mpc_set_non_secure(BOARD_MPC_SSRAM3, 0, BOARD_APP_RAM_SIZE);

    REG(SECCTRL_APBNSPPC0) = APBNSPPC0_APP;
    REG(SECCTRL_APBNSPPCEXP1) = APBNSPPCEXP1_APP;
    REG(SECCTRL_APBNSPPCEXP2) = APBNSPPCEXP2_APP;
    REG(SECCTRL_AHBNSPPCEXP0) = AHBNSPPCEXP0_APP;

    for (uint32_t word = 0; word < (BOARD_IRQ_COUNT + 31u) / 32u; word++) {
        uint32_t ns = 0xFFFFFFFFu;
        for (uint32_t bit = 0; bit < 32u; bit++) {
            if (board_irq_is_kernel(word * 32u + bit)) {
                ns &= ~(1u << bit);
            }
        }
        NVIC_ITNS(word) = ns;
    }
}

static void time_base_init(void)
{
    TIMER_CTRL(BOARD_KERNEL_TIMER) = 0;
    TIMER_RELOAD(BOARD_KERNEL_TIMER) = 0xFFFFFFFFu;
    TIMER_VALUE(BOARD_KERNEL_TIMER) = 0xFFFFFFFFu;
    TIMER_INTSTATUS(BOARD_KERNEL_TIMER) = 1u;
    NVIC_IPR_BYTE(BOARD_KERNEL_TIMER_IRQ) = 0x40u;
    NVIC_ISER(BOARD_KERNEL_TIMER_IRQ / 32u) = 1u << (BOARD_KERNEL_TIMER_IRQ % 32u);
    TIMER_CTRL(BOARD_KERNEL_TIMER) = TIMER_CTRL_ENABLE | TIMER_CTRL_IRQ_EN;
}

void board_init(void)
{
    cmsdk_uart_init(BOARD_CONSOLE_UART);
    security_init();
    time_base_init();
}

const bw_sau_region *board_sau_regions(size_t *count)
{
    *count = sizeof sau_regions / sizeof sau_regions[0];
    return sau_regions;
}

uint32_t board_app_vector_table(void)
{
    return BOARD_APP_SLOT_BASE;
}

void board_irq(uint32_t irqn)
{
    if (irqn == BOARD_KERNEL_TIMER_IRQ) {
        TIMER_INTSTATUS(BOARD_KERNEL_TIMER) = 1u;
        timer_wraps = timer_wraps + 1u;
        return;
    }
    if (serial_links_irq(irqn)) {
        return;
    }
    NVIC_ICER(irqn / 32u) = 1u << (irqn % 32u);   /* unexpected: silence it */
}



void board_watchdog_start(uint32_t timeout_ms)
{
    uint64_t load = (uint64_t)BOARD_SYSCLK_HZ / 1000u * timeout_ms;
    WDOG_LOCK(BOARD_SECURE_WATCHDOG) = WDOG_UNLOCK_KEY;
    WDOG_LOAD(BOARD_SECURE_WATCHDOG) = load > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)load;
    WDOG_INTCLR(BOARD_SECURE_WATCHDOG) = 1u;
    WDOG_CONTROL(BOARD_SECURE_WATCHDOG) = WDOG_CONTROL_INTEN | WDOG_CONTROL_RESEN;
    WDOG_LOCK(BOARD_SECURE_WATCHDOG) = 0;
}

bool board_nmi(void)
{
    return false;   /* the only NMI here is the watchdog's */
}

void board_watchdog_feed(void)
{
    WDOG_LOCK(BOARD_SECURE_WATCHDOG) = WDOG_UNLOCK_KEY;
    WDOG_INTCLR(BOARD_SECURE_WATCHDOG) = 1u;   /* reloads the counter */
    WDOG_LOCK(BOARD_SECURE_WATCHDOG) = 0;
}

void board_test_exit(uint32_t code)
{
    semihosting_exit(code);
}

/* Ticks of TIMER1 since board_init, extended to 64 bits. */
uint64_t board_ticks(void);
uint64_t board_ticks(void)
{
    uint32_t state = port_irq_lock();
    uint32_t wraps = timer_wraps;
    uint32_t value = TIMER_VALUE(BOARD_KERNEL_TIMER);
    if (TIMER_INTSTATUS(BOARD_KERNEL_TIMER) & 1u) {
        /* A wrap happened that its interrupt has not counted yet. */
        wraps++;
        value = TIMER_VALUE(BOARD_KERNEL_TIMER);
    }
    port_irq_unlock(state);
    return ((uint64_t)wraps << 32) | (uint64_t)(0xFFFFFFFFu - value);
}
