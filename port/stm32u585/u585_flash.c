/*
 * The STM32U585 flash driver and partitions (see u585_flash.h).
 * UNTESTED ON HARDWARE: written from RM0456 (FLASH chapter) and ST's U5 HAL,
 * run on the host against a model of the controller only.
 *
 * Which registers drive which page. With TrustZone on (TZEN = 1) every page
 * is secure or non-secure (the SECWMx watermark option bytes, plus the
 * SECBBx block-based registers, left at 0 here). The controller has one
 * key/status/control trio per world, and the control register used sets
 * the security of the operation: FLASH_SECCR (unlocked through SECKEYR)
 * erases and programs secure pages only, FLASH_NSCR (unlocked through
 * NSKEYR) non-secure pages only; an erase or program whose security does not
 * match the page's is refused by the controller (WRPERR; RM0456's TrustZone
 * tables, to be confirmed on a board). The data writes of a program carry
 * the page's security too: a secure page is written through the secure
 * alias 0x0C..., a non-secure one through the non-secure alias 0x08...
 * With the provisioned option bytes that gives:
 *  - bank 1, the app slot, non-secure pages: the kernel, although secure,
 *    programs and erases them as the app would, through NSKEYR/NSSR/NSCR at
 *    the registers' non-secure alias 0x40022000 (ST's HAL does the same for
 *    a non-secure operation from secure code) and data at 0x08000000 + offset.
 *    The SAU makes the kernel's accesses to both aliases non-secure.
 *  - bank 2, the kernel's, secure pages: SECKEYR/SECSR/SECCR at the secure
 *    alias 0x50022000, data at 0x0C000000 + offset.
 * u585_flash_locate (u585_layout.c) makes this choice for each offset; the
 * driver refuses all work unless the option bytes say the map holds
 * (U585_FLASH_OPTION_BLOCKERS: TrustZone on, no bank swap, bank 1 wholly
 * non-secure, bank 2 wholly secure).
 *
 * Sequences (RM0456 "programming" and "page erase" sequences), on the trio
 * of the page's world:
 *   begin:   wait until SR.BSY and SR.WDW are clear; clear error flags left in
 *            SR (the app drives NSCR on its own bank); if CR.LOCK, write KEY1
 *            then KEY2 to KEYR and check LOCK is now clear.
 *   program: CR = PG; per quad-word, four 32-bit writes to consecutive
 *            addresses with interrupts masked (programming starts on the
 *            fourth), then wait until BSY and WDW are clear and check SR.
 *   erase:   CR = PER | PNB(page) | BKER(bank 2); CR |= STRT; wait; check SR.
 *   end:     CR = 0 (drops PG/PER), then CR = LOCK.
 * Waits are bounded (U585_FLASH_*_TIMEOUT_US); a timeout is BW_E_IO and
 * skips `end` (CR is not written while the controller is busy). An
 * error flag (OPERR, PROGERR, WRPERR, PGAERR, SIZERR, PGSERR) fails the
 * operation with BW_E_IO and is cleared (write 1) so the next one starts clean.
 *
 * The ECC rule (bw_flash.h): the U5 keeps ECC per quad-word, which can be
 * programmed once between erases, even to clear more bits. A program request
 * is therefore read first, whole: a quad-word in it that does not read all
 * 0xFF makes the request BW_E_INVALID with nothing written. A quad-word
 * whose new data is all 0xFF is not programmed at all: it stays erased, so a
 * later program of it stays legal. A program that fails part-way leaves the
 * quad-words before the failing one programmed (a torn program to the core).
 *
 * Execution during flash work: the kernel runs from bank 2, so while bank 2
 * is being programmed or erased its instruction fetches stall until the
 * controller is done (at most a page erase, milliseconds), interrupts
 * included. Bank 1 work does not stall it (read-while-write across banks).
 * Only the kernel loop and boot code call the driver; it keeps no state but
 * the io binding and the statistics.
 */
#include "u585_flash.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "bw_board.h"
#include "bw_port.h"
#include "u585_layout.h"
#include "u585_regs.h"

#define UNIT BOARD_FLASH_PROGRAM_UNIT
#define WORD_BYTES 4u

static const u585_flash_io *io;   /* NULL until u585_flash_init */
static bool map_holds;            /* the option bytes allow the rules above */

bw_err u585_flash_init(const u585_flash_io *bound, uint32_t *findings)
{
    io = bound;
    u585_option_bytes options = {
        .optr = io->read32(BOARD_FLASH_REGS + FLASH_OPTR),
        .secbootadd0r = io->read32(BOARD_FLASH_REGS + FLASH_SECBOOTADD0R),
        .secwm1r1 = io->read32(BOARD_FLASH_REGS + FLASH_SECWM1R1),
        .secwm2r1 = io->read32(BOARD_FLASH_REGS + FLASH_SECWM2R1),
    };
    *findings = u585_option_bytes_check(&options);
    map_holds = (*findings & U585_FLASH_OPTION_BLOCKERS) == 0u;
    return map_holds ? BW_OK : BW_E_UNAVAILABLE;
}

static bool ready(void)
{
    return io != NULL && map_holds;
}

static bool in_array(uint32_t offset, uint32_t len)
{
    return offset <= BOARD_FLASH_SIZE && len <= BOARD_FLASH_SIZE - offset;
}

/* Bytes from offset to the end of its bank, at most len. */
static uint32_t run_in_bank(uint32_t offset, uint32_t len)
{
    uint32_t left = BOARD_FLASH_BANK_SIZE - offset % BOARD_FLASH_BANK_SIZE;
    return len < left ? len : left;
}

/* Waits until neither BSY nor WDW is set in the page's SR, at most timeout_us. */
static bool wait_idle(const u585_flash_place *place, uint32_t timeout_us)
{
    uint64_t deadline = io->now_us() + timeout_us;
    while (io->read32(place->sr) & (FLASH_SR_BSY | FLASH_SR_WDW)) {
        if (io->now_us() > deadline) {
            return false;
        }
    }
    return true;
}

/* Error flags of the page's SR after an operation: cleared; BW_E_IO if any. */
static bw_err check_errors(const u585_flash_place *place)
{
    uint32_t errors = u585_flash_sr_errors(io->read32(place->sr));
    if (errors != 0u) {
        io->write32(place->sr, errors);
        return BW_E_IO;
    }
    return BW_OK;
}

/* Idle controller, no stale error flag, CR unlocked; BW_E_IO otherwise.
 * CR is never written while BSY is set (STM32 flash controllers stall the
 * bus on such a write until they are idle), so a timed-out operation leaves
 * CR as it was; the next operation writes all of CR before it starts. */
static bw_err begin(const u585_flash_place *place)
{
    if (!wait_idle(place, U585_FLASH_ERASE_TIMEOUT_US)) {
        return BW_E_IO;
    }
    uint32_t stale = u585_flash_sr_errors(io->read32(place->sr));
    if (stale != 0u) {
        io->write32(place->sr, stale);
    }
    if (io->read32(place->cr) & FLASH_CR_LOCK) {
        io->write32(place->keyr, FLASH_KEY1);
        io->write32(place->keyr, FLASH_KEY2);
        if (io->read32(place->cr) & FLASH_CR_LOCK) {
            return BW_E_IO;   /* a wrong key sequence earlier locks CR until reset */
        }
    }
    return BW_OK;
}

/* Drops PG/PER first: setting LOCK leaves the other CR bits as they are. */
static void end(const u585_flash_place *place)
{
    io->write32(place->cr, 0u);
    io->write32(place->cr, FLASH_CR_LOCK);
}

/* A kernel read is under way (its ECC NMI is expected), and whether the NMI
 * saw a double error during it. Only the kernel loop and boot code read. */
static volatile bool reading;
static volatile bool read_torn;

bool u585_flash_ecc_nmi(void)
{
    if (io == NULL || !reading || (io->read32(BOARD_FLASH_REGS + FLASH_ECCR) & FLASH_ECCR_ECCD) == 0u) {
        return false;
    }
    io->write32(BOARD_FLASH_REGS + FLASH_ECCR, FLASH_ECCR_ECCD);   /* rc_w1 */
    read_torn = true;
    return true;
}

/* Reads len bytes at offset. BW_E_SIZE past the array; BW_E_TORN when a
 * quad-word read raised an ECC double error (NMI, u585_flash_ecc_nmi): the
 * copy ran to its end with whatever the bus returned, which is dropped. */
static bw_err u585_flash_read(void *context, uint32_t offset, void *buf, uint32_t len)
{
    (void)context;
    if (!ready()) {
        return BW_E_UNAVAILABLE;
    }
    if (!in_array(offset, len)) {
        return BW_E_SIZE;
    }
    uint8_t *out = buf;
    read_torn = false;
    reading = true;
    while (len > 0u) {
        u585_flash_place place;
        (void)u585_flash_locate(offset, &place);
        uint32_t run = run_in_bank(offset, len);
        io->read(place.address, out, run);
        offset += run;
        out += run;
        len -= run;
    }
    reading = false;
    return read_torn ? BW_E_TORN : BW_OK;
}

static bool all_erased(const uint8_t *bytes, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++) {
        if (bytes[i] != 0xFFu) {
            return false;
        }
    }
    return true;
}

/* Programs the quad-words of [offset, offset+len), all in one bank and all
 * read erased; stops at the first failure. */
static bw_err program_run(uint32_t offset, const uint8_t *src, uint32_t len)
{
    u585_flash_place place;
    (void)u585_flash_locate(offset, &place);
    bw_err err = begin(&place);
    if (err != BW_OK) {
        return err;
    }
    io->write32(place.cr, U585_FLASH_PROGRAM_CR);
    for (uint32_t done = 0; done < len; done += UNIT) {
        if (all_erased(src + done, UNIT)) {
            continue;   /* all ones: leave it erased (the ECC rule) */
        }
        uint32_t words[UNIT / WORD_BYTES];
        memcpy(words, src + done, UNIT);
        uint32_t irq = io->irq_lock();
        for (uint32_t w = 0; w < UNIT / WORD_BYTES; w++) {
            io->write32(place.address + done + w * WORD_BYTES, words[w]);
        }
        io->irq_unlock(irq);
        if (!wait_idle(&place, U585_FLASH_PROGRAM_TIMEOUT_US)) {
            return BW_E_IO;   /* still busy: CR is left alone (see begin) */
        }
        err = check_errors(&place);
        if (err != BW_OK) {
            break;
        }
    }
    end(&place);
    return err;
}

/* Programs whole quad-words: BW_E_SIZE past the array, BW_E_ALIGN off a
 * quad-word, BW_E_INVALID (nothing written) if any quad-word in the range is
 * not erased, BW_E_IO on a controller error or timeout. */
static bw_err u585_flash_program(void *context, uint32_t offset, const void *buf, uint32_t len)
{
    (void)context;
    if (!ready()) {
        return BW_E_UNAVAILABLE;
    }
    if (!in_array(offset, len)) {
        return BW_E_SIZE;
    }
    if ((offset | len) & (UNIT - 1u)) {
        return BW_E_ALIGN;
    }
    for (uint32_t done = 0; done < len; done += UNIT) {
        uint8_t now[UNIT];
        bw_err err = u585_flash_read(context, offset + done, now, UNIT);
        if (err != BW_OK) {
            return err;
        }
        if (!all_erased(now, UNIT)) {
            return BW_E_INVALID;
        }
    }
    const uint8_t *src = buf;
    while (len > 0u) {
        uint32_t run = run_in_bank(offset, len);
        bw_err err = program_run(offset, src, run);
        if (err != BW_OK) {
            return err;
        }
        offset += run;
        src += run;
        len -= run;
    }
    return BW_OK;
}

/* Erases the page at offset: BW_E_SIZE past the array, BW_E_ALIGN off a page
 * start, BW_E_IO on a controller error or timeout. */
static bw_err u585_flash_erase(void *context, uint32_t offset)
{
    (void)context;
    if (!ready()) {
        return BW_E_UNAVAILABLE;
    }
    u585_flash_place place;
    if (!u585_flash_locate(offset, &place)) {
        return BW_E_SIZE;
    }
    if (offset & (BOARD_FLASH_PAGE_SIZE - 1u)) {
        return BW_E_ALIGN;
    }
    bw_err err = begin(&place);
    if (err != BW_OK) {
        return err;
    }
    uint32_t cr = u585_flash_erase_cr(&place);
    io->write32(place.cr, cr);
    io->write32(place.cr, cr | FLASH_CR_STRT);
    if (!wait_idle(&place, U585_FLASH_ERASE_TIMEOUT_US)) {
        return BW_E_IO;   /* still busy: CR is left alone (see begin) */
    }
    err = check_errors(&place);
    end(&place);
    return err;
}

static const bw_flash_device u585_flash = {
    .context = NULL,
    .size = BOARD_FLASH_SIZE,
    .sector_size = BOARD_FLASH_SECTOR_SIZE,
    .program_unit = BOARD_FLASH_PROGRAM_UNIT,
    .read = u585_flash_read,
    .program = u585_flash_program,
    .erase = u585_flash_erase,
};

const bw_flash_device *u585_flash_device(void)
{
    return &u585_flash;
}

/* IMAGE_A and IMAGE_B have no place: two 1 MiB image banks (staging and
 * last-known-good) do not fit the 2 MiB internal flash next to the 1 MiB app
 * slot and the kernel. They need the board's external OCTOSPI flash (a later
 * issue). Until then the update engine reports "no update storage" and
 * updates are unavailable; crash records persist in CRASH_LOG, and
 * UPDATE_STATE is kept for the engine's journal. */
static const bw_flash_partition partitions[BW_PARTITION_COUNT] = {
    [BW_PARTITION_APP_SLOT] = { &u585_flash, BOARD_PART_APP_SLOT_OFFSET, BOARD_PART_APP_SLOT_SIZE },
    [BW_PARTITION_UPDATE_STATE] = { &u585_flash, BOARD_PART_UPDATE_STATE_OFFSET,
                                    BOARD_PART_UPDATE_STATE_SIZE },
    [BW_PARTITION_CRASH_LOG] = { &u585_flash, BOARD_PART_CRASH_LOG_OFFSET, BOARD_PART_CRASH_LOG_SIZE },
    [BW_PARTITION_CREDENTIALS] = { &u585_flash, BOARD_PART_CREDENTIALS_OFFSET,
                                   BOARD_PART_CREDENTIALS_SIZE },
};

/* The layout in docs/SPEC.md §2: the app slot is bank 1; the journal and the
 * crash log are whole pages of bank 2, clear of the kernel slot, in order,
 * and end at the identity page. */
#define PART_END(name) (BOARD_PART_##name##_OFFSET + BOARD_PART_##name##_SIZE)
#define ARRAY_OFFSET(secure_address) ((secure_address) - BOARD_FLASH_BASE)
_Static_assert(BOARD_PART_APP_SLOT_OFFSET == BOARD_APP_SLOT_BASE + BOARD_FLASH_SECURE_ALIAS_OFFSET
               - BOARD_FLASH_BASE && BOARD_PART_APP_SLOT_SIZE == BOARD_FLASH_BANK_SIZE,
               "the app slot partition is bank 1");
_Static_assert(BOARD_PART_CREDENTIALS_OFFSET >= ARRAY_OFFSET(BOARD_KERNEL_SLOT_BASE + BOARD_KERNEL_SLOT_SIZE)
               && PART_END(CREDENTIALS) <= BOARD_PART_UPDATE_STATE_OFFSET
               && ((BOARD_PART_CREDENTIALS_OFFSET | BOARD_PART_CREDENTIALS_SIZE)
                   & (BOARD_FLASH_PAGE_SIZE - 1u)) == 0,
               "credentials: whole pages between the kernel slot and the journal");
_Static_assert(BOARD_PART_UPDATE_STATE_OFFSET >= ARRAY_OFFSET(BOARD_KERNEL_SLOT_BASE + BOARD_KERNEL_SLOT_SIZE)
               && PART_END(UPDATE_STATE) <= BOARD_PART_CRASH_LOG_OFFSET
               && PART_END(CRASH_LOG) <= ARRAY_OFFSET(BOARD_IDENTITY_BASE),
               "journal and crash log between the kernel slot and the identity page");
_Static_assert(((BOARD_PART_UPDATE_STATE_OFFSET | BOARD_PART_UPDATE_STATE_SIZE
                 | BOARD_PART_CRASH_LOG_OFFSET | BOARD_PART_CRASH_LOG_SIZE)
                & (BOARD_FLASH_PAGE_SIZE - 1u)) == 0, "partitions are whole pages");

const bw_flash_partition *port_flash_partition(bw_partition_id id)
{
    if (!ready() || (unsigned)id >= BW_PARTITION_COUNT || partitions[id].device == NULL) {
        return NULL;
    }
    return &partitions[id];
}
