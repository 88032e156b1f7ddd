/*
 * TEMPLATE board bring-up (kernel/include/bw_board.h): what the armv8m layer
 * and kernel/main.c need from a board. Copy, rename (board_<board>.c), and
 * fill in every TODO. Functions without a TODO are generic Armv8-M code that
 * is already correct for any chip with TrustZone: keep them.
 *
 * Invariants the board must establish in board_init, before the app runs:
 *   - the app can reach exactly its flash, its RAM and its peripherals
 *     (SAU regions + the chip's memory/peripheral protection controllers);
 *   - every interrupt line is routed to the app (NVIC_ITNS) except the
 *     kernel's, listed in kernel_irqs[];
 *   - the kernel's time base runs and its console prints.
 */
#include <stdbool.h>
#include <stdint.h>

#include "armv8m.h"
#include "board.h"
#include "bw_board.h"
#include "bw_port.h"

#define NVIC_WORDS ((BOARD_IRQ_COUNT + 31u) / 32u)



/* Starts the secure watchdog: unless board_watchdog_feed is called at least
 * every timeout_ms, it raises the secure NMI or resets the chip. */
void board_watchdog_start(uint32_t timeout_ms)
{
    /* TODO: start the chip's independent watchdog, secure-only (see
     * port/stm32u585/board_u585.c). Until then a stuck kernel is not caught. */
    (void)timeout_ms;
}

/* Restarts the secure watchdog's countdown. ISR-safe. */
bool board_nmi(void)
{
    return false;   /* TODO(port): a source of NMI the board handles (flash ECC) */
}

void board_watchdog_feed(void)
{
    /* TODO: reload the watchdog. */
}

/* Ends an emulated test run with an exit code. On hardware: a no-op that
 * returns (an emulator port ends the run here, e.g. by semihosting). */
void board_test_exit(uint32_t code)
{
    (void)code;
}

/* ---- the modem link (bw_board.h) ----
 * TODO: a UART for local delivery (with its receive interrupt feeding a
 * bounded queue, as port/qemu-an505/serial_links.c does). Until then the
 * board has no link: nothing is received, sends are dropped. */
void board_link_start(void)
{
}

size_t board_link_read(uint8_t *buf, size_t len)
{
    (void)buf;
    (void)len;
    return 0;
}

void board_link_write(const uint8_t *data, size_t len)
{
    (void)data;
    (void)len;
}

uint32_t board_link_rx_dropped(void)
{
    return 0;
}

/* ---- the modem (bw_board.h) ----
 * This board has no modem driver yet: nothing is received, writes take no
 * byte, so the modem driver (kernel/net/bw_modem.c) never gets past AT and
 * reports the modem down. */
void board_modem_start(void)
{
}

size_t board_modem_read(uint8_t *buf, size_t len)
{
    (void)buf;
    (void)len;
    return 0;
}

size_t board_modem_write(const uint8_t *data, size_t len)
{
    (void)data;
    (void)len;
    return 0;
}

uint32_t board_modem_rx_dropped(void)
{
    return 0;
}
