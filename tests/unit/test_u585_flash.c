/*
 * The STM32U585 flash driver (port/stm32u585/u585_flash.c) against a model
 * of the FLASH controller, on the host. The model is written from RM0456 as
 * the driver is, so it checks the driver's sequence and its handling of every
 * outcome, not the chip: it knows the two register trios (NS at 0x40022000,
 * S at 0x50022000), LOCK and the key sequence, quad-word programming by four
 * word writes with PG set (WDW while partial, BSY after), page erase by PER,
 * PNB, BKER, STRT, the page security of the provisioned option bytes (bank 1
 * non-secure, bank 2 secure), and the error flags, and it counts as a
 * violation anything the real chip would refuse or stall on (a data write or
 * an erase through the other world's trio or alias, a write to a locked or
 * busy CR, a word write outside a quad-word sequence, a second key sequence).
 *
 * Promises checked:
 *  - the option bytes decide: provisioned values give the app slot (bank 1),
 *    the update journal and the crash log (bank 2) as board.h places them
 *    and no image banks; any finding that breaks the map gives no partitions
 *    and a device that does nothing; a wrong boot address alone does not;
 *  - bank 1 is programmed and erased through NSKEYR/NSCR/NSSR and the 0x08...
 *    alias, bank 2 through SECKEYR/SECCR/SECSR and the 0x0C... alias, with the
 *    RM0456 control values, and CR ends locked with PG/PER clear;
 *  - each quad-word is four word writes with interrupts masked;
 *  - a request touching a quad-word that does not read erased is refused
 *    whole (BW_E_INVALID, nothing written: the ECC rule), and all-ones
 *    quad-words are left erased, so they can be programmed later;
 *  - misaligned requests give BW_E_ALIGN and out-of-range ones BW_E_SIZE,
 *    before any register is touched;
 *  - each error flag fails the operation with BW_E_IO and is cleared, and the
 *    next operation succeeds; stale flags are cleared before starting;
 *  - a busy controller is waited for, and a stuck one fails within the bound
 *    without a CR write while busy; a CR locked until reset fails with BW_E_IO;
 *  - requests spanning the bank boundary use each bank's world;
 *  - the statistics count per partition.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "board.h"
#include "bw_board.h"
#include "bw_flash.h"
#include "bw_port.h"
#include "u585_flash.h"
#include "u585_layout.h"
#include "u585_regs.h"

#define NS_REGS 0x40022000u
#define S_REGS 0x50022000u
#define NS_FLASH 0x08000000u
#define S_FLASH 0x0C000000u
#define NSCR (NS_REGS + FLASH_NSCR)
#define SECCR (S_REGS + FLASH_SECCR)
#define OPTLOCK (1u << 30)
#define ERROR_FLAGS (FLASH_SR_OPERR | FLASH_SR_PROGERR | FLASH_SR_WRPERR | FLASH_SR_PGAERR \
                     | FLASH_SR_SIZERR | FLASH_SR_PGSERR)

/* One world's registers and its quad-word buffer. */
typedef struct world {
    uint32_t sr, cr;
    int key_step;            /* 1 after KEY1 */
    bool key_dead;           /* a wrong sequence: CR locked until reset */
    uint32_t qw_offset;      /* array offset of the quad-word being written */
    uint32_t qw_words;       /* words received of it, 0..3 */
    uint32_t qw_data[4];
} world;

typedef struct cr_write {
    uint32_t address;        /* NSCR (non-secure alias) or SECCR (secure alias) */
    uint32_t value;
} cr_write;

static struct {
    uint8_t array[BOARD_FLASH_SIZE];
    uint32_t optr, secbootadd0r, secwm1r1, secwm2r1;
    world ns, s;
    uint32_t busy_reads;     /* SR reads that still show BSY */
    bool stuck_busy;
    bool stick_after_next;   /* the next operation never finishes */
    uint32_t inject;         /* error flags the next operation ends with */
    uint64_t now;
    int irq_depth;
    unsigned violations;
    unsigned data_writes, data_writes_unmasked;
    cr_write cr_log[64];
    unsigned cr_log_len;
    uint32_t torn_offset;    /* a quad-word whose ECC fails (NO_TORN: none) */
    uint32_t eccr;           /* FLASH_ECCR */
    unsigned nmis;           /* NMIs raised by reads of the torn quad-word */
} chip;
#define NO_TORN 0xFFFFFFFFu

static void violation(const char *what, uint32_t address)
{
    chip.violations++;
    printf("model: %s at 0x%08x\n", what, (unsigned)address);
}

static void chip_reset(void)
{
    memset(&chip, 0, sizeof chip);
    memset(chip.array, 0xFF, sizeof chip.array);
    chip.optr = FLASH_OPTR_TZEN | FLASH_OPTR_SRAM_RST;
    chip.secbootadd0r = BOARD_BOOT_ROM_BASE;
    chip.secwm1r1 = U585_SECWM1R1_PROVISIONED;
    chip.secwm2r1 = U585_SECWM2R1_PROVISIONED;
    chip.ns.cr = FLASH_CR_LOCK | OPTLOCK;   /* reset values */
    chip.s.cr = FLASH_CR_LOCK;
    chip.torn_offset = NO_TORN;
}

static bool busy(const world *w)
{
    (void)w;
    return chip.stuck_busy || chip.busy_reads > 0u;
}

/* An operation completed: BSY for a few reads, then the injected flags. */
static void operation_done(world *w)
{
    chip.busy_reads = 3u;
    chip.stuck_busy = chip.stick_after_next;
    chip.stick_after_next = false;
    w->sr |= chip.inject;
    chip.inject = 0u;
}

static bool page_secure(uint32_t offset)
{
    return offset >= BOARD_FLASH_BANK_SIZE;   /* provisioned: bank 2 wholly secure */
}

static uint32_t model_read32(uint32_t address)
{
    bool s_alias = address - S_REGS < 0x400u;
    if (s_alias || address - NS_REGS < 0x400u) {
        uint32_t reg = address & 0x3FFu;
        world *w = reg == FLASH_SECSR || reg == FLASH_SECCR ? &chip.s : &chip.ns;
        if (w == &chip.s && !s_alias) {
            violation("secure register through the non-secure alias", address);
        }
        switch (reg) {
        case FLASH_OPTR: return chip.optr;
        case FLASH_SECBOOTADD0R: return chip.secbootadd0r;
        case FLASH_SECWM1R1: return chip.secwm1r1;
        case FLASH_SECWM2R1: return chip.secwm2r1;
        case FLASH_ECCR: return chip.eccr;
        case FLASH_NSSR:
        case FLASH_SECSR: {
            uint32_t sr = w->sr;
            if (busy(w)) {
                sr |= FLASH_SR_BSY;
                if (!chip.stuck_busy) {
                    chip.busy_reads--;
                }
            }
            return sr | (w->qw_words != 0u ? FLASH_SR_WDW : 0u);
        }
        case FLASH_NSCR:
        case FLASH_SECCR: return w->cr;
        default: return 0u;
        }
    }
    violation("read32 of an unmodelled address", address);
    return 0u;
}

static void erase_page(world *w, bool secure)
{
    uint32_t bank = (w->cr & FLASH_CR_BKER) ? 2u : 1u;
    uint32_t page = (w->cr & FLASH_CR_PNB_MASK) >> FLASH_CR_PNB_SHIFT;
    uint32_t offset = (bank - 1u) * BOARD_FLASH_BANK_SIZE + page * BOARD_FLASH_PAGE_SIZE;
    if (page_secure(offset) != secure) {
        w->sr |= FLASH_SR_WRPERR;
        violation("erase of a page of the other world", offset);
        return;
    }
    memset(chip.array + offset, 0xFF, BOARD_FLASH_PAGE_SIZE);
    operation_done(w);
}

static void write_cr(world *w, bool secure, uint32_t value, uint32_t address)
{
    if (busy(w)) {
        violation("CR written while busy (the bus would stall)", address);
    }
    if (w->cr & FLASH_CR_LOCK) {
        violation("write to a locked CR (ignored)", address);
        return;
    }
    if (chip.cr_log_len < sizeof chip.cr_log / sizeof chip.cr_log[0]) {
        chip.cr_log[chip.cr_log_len++] = (cr_write){ address, value };
    }
    if (value & FLASH_CR_LOCK) {
        w->cr |= FLASH_CR_LOCK;   /* RM: the other bits do not change with LOCK */
        return;
    }
    w->cr = (value & ~(FLASH_CR_STRT | OPTLOCK)) | (w->cr & OPTLOCK);
    if (value & FLASH_CR_STRT) {
        if ((value & FLASH_CR_PER) == 0u || (value & FLASH_CR_PG) != 0u) {
            violation("STRT without a page erase set up", address);
            return;
        }
        erase_page(w, secure);
    }
}

static void write_key(world *w, uint32_t value, uint32_t address)
{
    if (w->key_dead) {
        return;   /* locked until reset: keys are ignored */
    }
    if (!(w->cr & FLASH_CR_LOCK)) {
        w->key_dead = true;
        violation("key sequence on an unlocked CR", address);
        return;
    }
    if (w->key_step == 0 && value == FLASH_KEY1) {
        w->key_step = 1;
    } else if (w->key_step == 1 && value == FLASH_KEY2) {
        w->key_step = 0;
        w->cr &= ~FLASH_CR_LOCK;
    } else {
        w->key_dead = true;
        violation("wrong key sequence", address);
    }
}

static void write_flash_word(uint32_t address, uint32_t value)
{
    bool secure = address - S_FLASH < BOARD_FLASH_SIZE;
    uint32_t offset = address - (secure ? S_FLASH : NS_FLASH);
    world *w = secure ? &chip.s : &chip.ns;
    chip.data_writes++;
    if (busy(w)) {
        violation("flash write while the previous operation runs", address);
    }
    if (chip.irq_depth == 0) {
        chip.data_writes_unmasked++;
    }
    if (!secure && offset >= BOARD_FLASH_SIZE) {
        violation("write32 of an unmodelled address", address);
        return;
    }
    if (!(w->cr & FLASH_CR_PG) || (w->cr & FLASH_CR_LOCK)) {
        w->sr |= FLASH_SR_PGSERR;
        violation("flash write without PG", address);
        return;
    }
    if (page_secure(offset) != secure) {
        w->sr |= FLASH_SR_WRPERR;
        violation("program through the other world's alias", address);
        return;
    }
    if (w->qw_words == 0u) {
        if (offset % 16u != 0u) {
            w->sr |= FLASH_SR_PGAERR;
            violation("quad-word not started at its first word", address);
            return;
        }
        w->qw_offset = offset;
    } else if (offset != w->qw_offset + 4u * w->qw_words) {
        w->sr |= FLASH_SR_PGSERR;
        violation("word out of quad-word sequence", address);
        return;
    }
    w->qw_data[w->qw_words++] = value;
    if (w->qw_words < 4u) {
        return;
    }
    w->qw_words = 0u;
    for (uint32_t i = 0; i < 16u; i++) {
        if (chip.array[w->qw_offset + i] != 0xFFu) {
            w->sr |= FLASH_SR_PROGERR;
            violation("program of a quad-word that is not erased", address);
            return;
        }
    }
    memcpy(chip.array + w->qw_offset, w->qw_data, 16u);
    operation_done(w);
}

static void model_write32(uint32_t address, uint32_t value)
{
    bool s_alias = address - S_REGS < 0x400u;
    if (s_alias || address - NS_REGS < 0x400u) {
        uint32_t reg = address & 0x3FFu;
        bool secure_reg = reg == FLASH_SECKEYR || reg == FLASH_SECSR || reg == FLASH_SECCR;
        world *w = secure_reg ? &chip.s : &chip.ns;
        if (secure_reg && !s_alias) {
            violation("secure register through the non-secure alias", address);
            return;
        }
        switch (reg) {
        case FLASH_NSKEYR:
        case FLASH_SECKEYR: write_key(w, value, address); return;
        case FLASH_NSSR:
        case FLASH_SECSR: w->sr &= ~(value & (ERROR_FLAGS | FLASH_SR_EOP)); return;
        case FLASH_NSCR:
        case FLASH_SECCR: write_cr(w, secure_reg, value, address); return;
        case FLASH_ECCR: chip.eccr &= ~(value & FLASH_ECCR_ECCD); return;
        default: violation("write to an unmodelled register", address); return;
        }
    }
    write_flash_word(address, value);
}

static void model_read(uint32_t address, void *buf, uint32_t len)
{
    bool secure = address - S_FLASH < BOARD_FLASH_SIZE;
    uint32_t offset = address - (secure ? S_FLASH : NS_FLASH);
    if (offset >= BOARD_FLASH_SIZE || len > BOARD_FLASH_SIZE - offset) {
        violation("read outside the array", address);
        return;
    }
    for (uint32_t i = 0; i < len; i++) {
        if (page_secure(offset + i) != secure) {
            violation("read through the other world's alias", address + i);
            return;
        }
    }
    memcpy(buf, chip.array + offset, len);
    if (chip.torn_offset - offset < len) {
        /* The chip: an ECC double error sets ECCD and raises the NMI, whose
         * handler asks the board first (board_nmi -> u585_flash_ecc_nmi). */
        chip.eccr |= FLASH_ECCR_ECCD;
        chip.nmis++;
        assert_true(u585_flash_ecc_nmi());
        assert_int_equal(chip.eccr & FLASH_ECCR_ECCD, 0u);
    }
}

static uint64_t model_now_us(void)
{
    return ++chip.now;
}

static uint32_t model_irq_lock(void)
{
    chip.irq_depth++;
    return 0x5Au;
}

static void model_irq_unlock(uint32_t state)
{
    assert_int_equal(state, 0x5Au);
    chip.irq_depth--;
}

static const u585_flash_io model_io = {
    .read32 = model_read32,
    .write32 = model_write32,
    .read = model_read,
    .now_us = model_now_us,
    .irq_lock = model_irq_lock,
    .irq_unlock = model_irq_unlock,
};

/* A fresh, erased, provisioned chip with the driver bound to it. */
static int setup(void **state)
{
    (void)state;
    chip_reset();
    uint32_t findings = 0xFFu;
    if (u585_flash_init(&model_io, &findings) != BW_OK || findings != 0u) {
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    /* Whatever a test did, the driver never upset the controller. */
    assert_int_equal(chip.violations, 0u);
    assert_int_equal(chip.irq_depth, 0);
    assert_int_equal(chip.data_writes_unmasked, 0u);
    return 0;
}

static const bw_flash_device *device(void)
{
    return u585_flash_device();
}

static void fill(uint8_t *buf, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++) {
        buf[i] = (uint8_t)(seed + i * 7u);
    }
}

static void assert_cr_log(const cr_write *expected, unsigned count)
{
    assert_int_equal(chip.cr_log_len, count);
    for (unsigned i = 0; i < count; i++) {
        assert_int_equal(chip.cr_log[i].address, expected[i].address);
        assert_int_equal(chip.cr_log[i].value, expected[i].value);
    }
}

static bool erased(uint32_t offset, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++) {
        if (chip.array[offset + i] != 0xFFu) {
            return false;
        }
    }
    return true;
}

/* ---- option bytes and partitions ---- */

static void test_partitions_as_provisioned(void **state)
{
    (void)state;
    const bw_flash_device *dev = device();
    assert_int_equal(dev->size, 2u * 1024u * 1024u);
    assert_int_equal(dev->sector_size, 8192u);
    assert_int_equal(dev->program_unit, 16u);

    const bw_flash_partition *app = port_flash_partition(BW_PARTITION_APP_SLOT);
    const bw_flash_partition *journal = port_flash_partition(BW_PARTITION_UPDATE_STATE);
    const bw_flash_partition *crash = port_flash_partition(BW_PARTITION_CRASH_LOG);
    assert_non_null(app);
    assert_non_null(journal);
    assert_non_null(crash);
    assert_ptr_equal(app->device, dev);
    assert_int_equal(app->offset, 0u);
    assert_int_equal(app->size, 0x100000u);
    assert_ptr_equal(journal->device, dev);
    assert_int_equal(journal->offset, 0x1E6000u);   /* 0x0C1E6000 */
    assert_int_equal(journal->size, 0x8000u);
    assert_ptr_equal(crash->device, dev);
    assert_int_equal(crash->offset, 0x1EE000u);     /* 0x0C1EE000 */
    assert_int_equal(crash->size, 0xE000u);         /* to 0x0C1FBFFF: identity page, gate page above */
    const bw_flash_partition *credentials = port_flash_partition(BW_PARTITION_CREDENTIALS);
    assert_non_null(credentials);
    assert_int_equal(credentials->offset, 0x1E2000u);   /* 0x0C1E2000, 2 pages */
    assert_int_equal(credentials->size, 0x4000u);
    assert_null(port_flash_partition(BW_PARTITION_IMAGE_A));   /* needs external flash */
    assert_null(port_flash_partition(BW_PARTITION_IMAGE_B));
    assert_null(port_flash_partition(BW_PARTITION_COUNT));
    assert_int_equal(chip.cr_log_len, 0u);
}

static void assert_refused(uint32_t findings_expected)
{
    uint32_t findings = 0u;
    assert_int_equal(u585_flash_init(&model_io, &findings), BW_E_UNAVAILABLE);
    assert_int_equal(findings, findings_expected);
    for (int id = 0; id < BW_PARTITION_COUNT; id++) {
        assert_null(port_flash_partition((bw_partition_id)id));
    }
    uint8_t data[16] = { 0 };
    assert_int_equal(device()->read(NULL, 0u, data, sizeof data), BW_E_UNAVAILABLE);
    assert_int_equal(device()->program(NULL, 0u, data, sizeof data), BW_E_UNAVAILABLE);
    assert_int_equal(device()->erase(NULL, 0u), BW_E_UNAVAILABLE);
    assert_int_equal(chip.cr_log_len, 0u);
    assert_int_equal(chip.data_writes, 0u);
}

static void test_option_bytes_that_break_the_map(void **state)
{
    (void)state;
    chip.optr = FLASH_OPTR_SRAM_RST;
    assert_refused(U585_OPTION_TZ_DISABLED);

    chip_reset();
    chip.optr |= FLASH_OPTR_SWAP_BANK;
    assert_refused(U585_OPTION_BANKS_SWAPPED);

    chip_reset();
    chip.secwm1r1 = 0x007F0000u;
    assert_refused(U585_OPTION_APP_BANK_SECURE);

    chip_reset();
    chip.secwm2r1 = 0x007E0000u;
    assert_refused(U585_OPTION_KERNEL_BANK_OPEN);

    /* A wrong secure boot address alone does not touch the flash map. */
    chip_reset();
    chip.secbootadd0r = 0x0C000000u;
    uint32_t findings = 0u;
    assert_int_equal(u585_flash_init(&model_io, &findings), BW_OK);
    assert_int_equal(findings, U585_OPTION_BOOT_ADDRESS);
    assert_non_null(port_flash_partition(BW_PARTITION_CRASH_LOG));
}

/* ---- program and erase, each bank through its own world ---- */

static void test_program_app_slot_through_nscr(void **state)
{
    (void)state;
    uint8_t data[32], back[32];
    fill(data, sizeof data, 1u);
    const bw_flash_partition *app = port_flash_partition(BW_PARTITION_APP_SLOT);
    assert_int_equal(bw_flash_program(app, 0x40u, data, sizeof data), BW_OK);
    assert_memory_equal(chip.array + 0x40u, data, sizeof data);
    assert_true(erased(0x00u, 0x40u));
    assert_true(erased(0x60u, 0x20u));
    assert_int_equal(bw_flash_read(app, 0x40u, back, sizeof back), BW_OK);
    assert_memory_equal(back, data, sizeof data);

    const cr_write expected[] = { { NSCR, FLASH_CR_PG }, { NSCR, 0u }, { NSCR, FLASH_CR_LOCK } };
    assert_cr_log(expected, 3u);
    assert_int_equal(chip.data_writes, 8u);
    assert_int_equal(chip.ns.cr & (FLASH_CR_LOCK | FLASH_CR_PG), FLASH_CR_LOCK);
    assert_int_equal(chip.ns.cr & OPTLOCK, OPTLOCK);
    assert_int_equal(chip.s.cr, FLASH_CR_LOCK);   /* the secure side untouched */
}

static void test_program_crash_log_through_seccr(void **state)
{
    (void)state;
    uint8_t data[48], back[48];
    fill(data, sizeof data, 9u);
    const bw_flash_partition *crash = port_flash_partition(BW_PARTITION_CRASH_LOG);
    assert_int_equal(bw_flash_program(crash, 0x2010u, data, sizeof data), BW_OK);
    assert_memory_equal(chip.array + 0x1EE000u + 0x2010u, data, sizeof data);
    assert_int_equal(bw_flash_read(crash, 0x2010u, back, sizeof back), BW_OK);
    assert_memory_equal(back, data, sizeof data);

    const cr_write expected[] = { { SECCR, FLASH_CR_PG }, { SECCR, 0u }, { SECCR, FLASH_CR_LOCK } };
    assert_cr_log(expected, 3u);
    assert_int_equal(chip.data_writes, 12u);
    assert_int_equal(chip.s.cr, FLASH_CR_LOCK);
    assert_int_equal(chip.ns.cr, FLASH_CR_LOCK | OPTLOCK);
}

static void test_erase_pages_of_each_bank(void **state)
{
    (void)state;
    memset(chip.array, 0x00, sizeof chip.array);   /* everything programmed */
    const bw_flash_partition *app = port_flash_partition(BW_PARTITION_APP_SLOT);
    assert_int_equal(bw_flash_erase_sector(app, 5u * 8192u), BW_OK);
    assert_true(erased(5u * 8192u, 8192u));
    assert_int_equal(chip.array[5u * 8192u - 1u], 0x00u);
    assert_int_equal(chip.array[6u * 8192u], 0x00u);

    const bw_flash_partition *journal = port_flash_partition(BW_PARTITION_UPDATE_STATE);
    assert_int_equal(bw_flash_erase_sector(journal, 3u * 8192u), BW_OK);   /* page 118 of bank 2 */
    assert_true(erased(0x1E6000u + 3u * 8192u, 8192u));
    assert_int_equal(chip.array[0x1E6000u + 3u * 8192u - 1u], 0x00u);
    assert_int_equal(chip.array[0x1E6000u + 4u * 8192u], 0x00u);

    const uint32_t app_cr = FLASH_CR_PER | (5u << FLASH_CR_PNB_SHIFT);
    const uint32_t journal_cr = FLASH_CR_PER | (118u << FLASH_CR_PNB_SHIFT) | FLASH_CR_BKER;
    const cr_write expected[] = {
        { NSCR, app_cr }, { NSCR, app_cr | FLASH_CR_STRT }, { NSCR, 0u }, { NSCR, FLASH_CR_LOCK },
        { SECCR, journal_cr }, { SECCR, journal_cr | FLASH_CR_STRT }, { SECCR, 0u }, { SECCR, FLASH_CR_LOCK },
    };
    assert_cr_log(expected, 8u);
    assert_int_equal(chip.ns.cr & ~OPTLOCK, FLASH_CR_LOCK);
    assert_int_equal(chip.s.cr, FLASH_CR_LOCK);
}

static void test_erase_then_program_again(void **state)
{
    (void)state;
    const bw_flash_partition *crash = port_flash_partition(BW_PARTITION_CRASH_LOG);
    uint8_t a[16], b[16];
    fill(a, sizeof a, 3u);
    fill(b, sizeof b, 77u);
    assert_int_equal(bw_flash_program(crash, 0u, a, sizeof a), BW_OK);
    assert_int_equal(bw_flash_program(crash, 0u, b, sizeof b), BW_E_INVALID);
    assert_int_equal(bw_flash_erase_sector(crash, 0u), BW_OK);
    assert_int_equal(bw_flash_program(crash, 0u, b, sizeof b), BW_OK);
    assert_memory_equal(chip.array + 0x1EE000u, b, sizeof b);
}

/* ---- the ECC rule ---- */

static void test_program_refuses_any_non_erased_quadword(void **state)
{
    (void)state;
    uint8_t data[64];
    fill(data, sizeof data, 5u);
    chip.array[0x30u + 7u] = 0xFEu;   /* one bit of the fourth quad-word programmed */
    assert_int_equal(device()->program(NULL, 0x00u, data, sizeof data), BW_E_INVALID);
    assert_true(erased(0x00u, 0x30u));   /* nothing written, not even the erased three */
    assert_int_equal(chip.cr_log_len, 0u);
    assert_int_equal(chip.data_writes, 0u);

    /* Data that would only clear more bits is refused too: once per erase. */
    memset(chip.array + 0x100000u, 0xF0u, 16u);
    memset(data, 0x00u, 16u);
    assert_int_equal(device()->program(NULL, 0x100000u, data, 16u), BW_E_INVALID);
    assert_int_equal(chip.data_writes, 0u);
}

static void test_all_ones_quadwords_stay_erased(void **state)
{
    (void)state;
    uint8_t data[48];
    memset(data, 0xFFu, 16u);
    fill(data + 16u, 16u, 11u);
    memset(data + 32u, 0xFFu, 16u);
    assert_int_equal(device()->program(NULL, 0x1EE100u, data, sizeof data), BW_OK);
    assert_int_equal(chip.data_writes, 4u);   /* only the middle quad-word */
    assert_memory_equal(chip.array + 0x1EE100u, data, sizeof data);

    uint8_t later[16];
    fill(later, sizeof later, 99u);
    assert_int_equal(device()->program(NULL, 0x1EE100u, later, sizeof later), BW_OK);
    assert_int_equal(device()->program(NULL, 0x1EE120u, later, sizeof later), BW_OK);
    assert_memory_equal(chip.array + 0x1EE100u, later, sizeof later);
}

/* ---- refused before any register is touched ---- */

static void test_alignment_and_range(void **state)
{
    (void)state;
    const bw_flash_device *dev = device();
    uint8_t data[32] = { 0 };
    assert_int_equal(dev->program(NULL, 8u, data, 16u), BW_E_ALIGN);
    assert_int_equal(dev->program(NULL, 0x100004u, data, 16u), BW_E_ALIGN);
    assert_int_equal(dev->program(NULL, 0u, data, 24u), BW_E_ALIGN);
    assert_int_equal(dev->erase(NULL, 0x1000u), BW_E_ALIGN);
    assert_int_equal(dev->erase(NULL, 0x1EE010u), BW_E_ALIGN);
    assert_int_equal(dev->erase(NULL, BOARD_FLASH_SIZE), BW_E_SIZE);
    assert_int_equal(dev->erase(NULL, UINT32_MAX), BW_E_SIZE);
    assert_int_equal(dev->program(NULL, BOARD_FLASH_SIZE - 16u, data, 32u), BW_E_SIZE);
    assert_int_equal(dev->program(NULL, UINT32_MAX - 15u, data, 32u), BW_E_SIZE);
    assert_int_equal(dev->read(NULL, BOARD_FLASH_SIZE - 4u, data, 8u), BW_E_SIZE);
    assert_int_equal(dev->read(NULL, UINT32_MAX, data, 2u), BW_E_SIZE);
    assert_int_equal(dev->program(NULL, 0x40u, data, 0u), BW_OK);   /* nothing to do */
    assert_int_equal(chip.cr_log_len, 0u);
    assert_int_equal(chip.data_writes, 0u);
    assert_true(erased(0u, 0x100u));
}

/* ---- controller errors ---- */

static const uint32_t each_error[] = { FLASH_SR_OPERR, FLASH_SR_PROGERR, FLASH_SR_WRPERR,
                                       FLASH_SR_PGAERR, FLASH_SR_SIZERR, FLASH_SR_PGSERR };

static void test_error_flags_fail_and_are_cleared(void **state)
{
    (void)state;
    uint8_t data[32];
    fill(data, sizeof data, 21u);
    uint32_t offset = 0u;
    for (size_t i = 0; i < sizeof each_error / sizeof each_error[0]; i++) {
        for (int bank = 1; bank <= 2; bank++) {
            uint32_t base = bank == 1 ? 0x20000u : 0x1EE000u;
            world *w = bank == 1 ? &chip.ns : &chip.s;

            chip.inject = each_error[i];
            assert_int_equal(device()->program(NULL, base + offset, data, sizeof data), BW_E_IO);
            assert_int_equal(w->sr & ERROR_FLAGS, 0u);   /* cleared after */
            assert_int_equal(w->cr & (FLASH_CR_LOCK | FLASH_CR_PG), FLASH_CR_LOCK);
            assert_true(erased(base + offset + 16u, 16u));   /* stopped at the failing quad-word */
            offset += 32u;
            assert_int_equal(device()->program(NULL, base + offset, data, sizeof data), BW_OK);
            assert_memory_equal(chip.array + base + offset, data, sizeof data);
            offset += 32u;

            chip.inject = each_error[i];
            assert_int_equal(device()->erase(NULL, base + 8192u), BW_E_IO);
            assert_int_equal(w->sr & ERROR_FLAGS, 0u);
            assert_int_equal(w->cr & (FLASH_CR_LOCK | FLASH_CR_PER), FLASH_CR_LOCK);
            assert_int_equal(device()->erase(NULL, base + 8192u), BW_OK);
        }
    }
}

static void test_stale_flags_cleared_before_start(void **state)
{
    (void)state;
    chip.ns.sr = FLASH_SR_PGSERR | FLASH_SR_WRPERR;   /* left by the app's own flash work */
    chip.s.sr = FLASH_SR_OPERR;
    uint8_t data[16];
    fill(data, sizeof data, 4u);
    assert_int_equal(device()->program(NULL, 0x80u, data, sizeof data), BW_OK);
    assert_int_equal(device()->program(NULL, 0x1E6000u, data, sizeof data), BW_OK);
    assert_int_equal(chip.ns.sr, 0u);
    assert_int_equal(chip.s.sr, 0u);
}

static void test_busy_is_waited_for(void **state)
{
    (void)state;
    chip.busy_reads = 200u;   /* an operation still running */
    uint8_t data[16];
    fill(data, sizeof data, 8u);
    assert_int_equal(device()->program(NULL, 0x1EE000u, data, sizeof data), BW_OK);
    assert_memory_equal(chip.array + 0x1EE000u, data, sizeof data);
    chip.busy_reads = 200u;
    assert_int_equal(device()->erase(NULL, 0x1EE000u), BW_OK);
    assert_true(erased(0x1EE000u, 8192u));
}

static void test_stuck_controller_times_out(void **state)
{
    (void)state;
    uint8_t data[16];
    fill(data, sizeof data, 8u);
    chip.stuck_busy = true;   /* busy before the driver starts */
    uint64_t start = chip.now;
    assert_int_equal(device()->program(NULL, 0x1EE000u, data, sizeof data), BW_E_IO);
    assert_true(chip.now - start <= U585_FLASH_ERASE_TIMEOUT_US + 10u);
    assert_int_equal(device()->erase(NULL, 0x1EE000u), BW_E_IO);
    assert_int_equal(chip.cr_log_len, 0u);   /* CR never written while busy */
    assert_int_equal(chip.data_writes, 0u);

    /* Busy for ever once the quad-word is written: that wait is bounded too,
     * and CR is left alone until the controller is idle again. */
    chip.stuck_busy = false;
    chip.stick_after_next = true;
    start = chip.now;
    assert_int_equal(device()->program(NULL, 0x1EE000u, data, sizeof data), BW_E_IO);
    assert_true(chip.now - start <= U585_FLASH_ERASE_TIMEOUT_US + U585_FLASH_PROGRAM_TIMEOUT_US + 10u);
    const cr_write expected[] = { { SECCR, FLASH_CR_PG } };
    assert_cr_log(expected, 1u);

    chip.stuck_busy = false;   /* it recovers: the next operation starts clean */
    assert_int_equal(device()->program(NULL, 0x1EE010u, data, sizeof data), BW_OK);
    assert_memory_equal(chip.array + 0x1EE010u, data, sizeof data);
    assert_int_equal(chip.s.cr, FLASH_CR_LOCK);
}

static void test_locked_until_reset(void **state)
{
    (void)state;
    chip.s.key_dead = true;   /* an earlier wrong key sequence */
    uint8_t data[16];
    fill(data, sizeof data, 8u);
    assert_int_equal(device()->program(NULL, 0x1EE000u, data, sizeof data), BW_E_IO);
    assert_int_equal(device()->erase(NULL, 0x1EE000u), BW_E_IO);
    assert_int_equal(chip.cr_log_len, 0u);
    assert_int_equal(chip.data_writes, 0u);
    /* The other world is not affected. */
    assert_int_equal(device()->program(NULL, 0x0u, data, sizeof data), BW_OK);
}

/* ---- across the bank boundary ---- */

static void test_request_across_banks(void **state)
{
    (void)state;
    uint8_t data[32], back[32];
    fill(data, sizeof data, 30u);
    assert_int_equal(device()->program(NULL, 0x0FFFF0u, data, sizeof data), BW_OK);
    assert_memory_equal(chip.array + 0x0FFFF0u, data, sizeof data);
    const cr_write expected[] = {
        { NSCR, FLASH_CR_PG }, { NSCR, 0u }, { NSCR, FLASH_CR_LOCK },
        { SECCR, FLASH_CR_PG }, { SECCR, 0u }, { SECCR, FLASH_CR_LOCK },
    };
    assert_cr_log(expected, 6u);
    memset(back, 0, sizeof back);
    assert_int_equal(device()->read(NULL, 0x0FFFF8u, back, 16u), BW_OK);
    assert_memory_equal(back, data + 8u, 16u);
}

/* ---- statistics ---- */

/* A quad-word a power cut left half-written: its read raises the ECC NMI,
 * which the driver turns into BW_E_TORN for that read only; an NMI with no
 * read under way is not the driver's (the kernel's NMI path resets). */
static void test_ecc_error_is_a_torn_read(void **state)
{
    (void)state;
    const bw_flash_partition *log = port_flash_partition(BW_PARTITION_CRASH_LOG);
    uint8_t back[64];
    chip.torn_offset = log->offset + 0x20u;
    assert_int_equal(bw_flash_read(log, 0x00u, back, 0x20u), BW_OK);
    assert_int_equal(chip.nmis, 0u);
    assert_int_equal(bw_flash_read(log, 0x10u, back, 0x30u), BW_E_TORN);
    assert_int_equal(chip.nmis, 1u);
    assert_int_equal(bw_flash_read(log, 0x30u, back, 0x10u), BW_OK);   /* the next read is clean */
    chip.eccr = FLASH_ECCR_ECCD;
    assert_false(u585_flash_ecc_nmi());   /* outside a read: not handled, ECCD kept */
    assert_int_equal(chip.eccr, FLASH_ECCR_ECCD);
}

static void test_flash_stats_per_partition(void **state)
{
    (void)state;
    bw_flash_stats crash0, journal0, app0, crash, journal, app, none;
    assert_true(bw_flash_stats_get(BW_PARTITION_CRASH_LOG, &crash0));
    assert_true(bw_flash_stats_get(BW_PARTITION_UPDATE_STATE, &journal0));
    assert_true(bw_flash_stats_get(BW_PARTITION_APP_SLOT, &app0));

    uint8_t data[64];
    fill(data, sizeof data, 2u);
    assert_int_equal(bw_flash_program(port_flash_partition(BW_PARTITION_CRASH_LOG), 0u, data, 64u), BW_OK);
    assert_int_equal(bw_flash_erase_sector(port_flash_partition(BW_PARTITION_UPDATE_STATE), 8192u), BW_OK);
    assert_int_equal(bw_flash_program(port_flash_partition(BW_PARTITION_APP_SLOT), 0u, data, 32u), BW_OK);

    assert_true(bw_flash_stats_get(BW_PARTITION_CRASH_LOG, &crash));
    assert_int_equal(crash.bytes_programmed - crash0.bytes_programmed, 64u);
    assert_int_equal(crash.sectors_erased - crash0.sectors_erased, 0u);
    assert_true(bw_flash_stats_get(BW_PARTITION_UPDATE_STATE, &journal));
    assert_int_equal(journal.sectors_erased - journal0.sectors_erased, 1u);
    assert_true(bw_flash_stats_get(BW_PARTITION_APP_SLOT, &app));
    assert_int_equal(app.bytes_programmed - app0.bytes_programmed, 32u);
    assert_false(bw_flash_stats_get(BW_PARTITION_IMAGE_A, &none));   /* the U585 has no image banks yet */
    assert_int_equal(none.bytes_programmed + none.sectors_erased, 0u);
    assert_false(bw_flash_stats_get(BW_PARTITION_COUNT, &none));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_partitions_as_provisioned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_option_bytes_that_break_the_map, setup, teardown),
        cmocka_unit_test_setup_teardown(test_program_app_slot_through_nscr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_program_crash_log_through_seccr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_erase_pages_of_each_bank, setup, teardown),
        cmocka_unit_test_setup_teardown(test_erase_then_program_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_program_refuses_any_non_erased_quadword, setup, teardown),
        cmocka_unit_test_setup_teardown(test_all_ones_quadwords_stay_erased, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alignment_and_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_flags_fail_and_are_cleared, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_flags_cleared_before_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_busy_is_waited_for, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stuck_controller_times_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locked_until_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_across_banks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flash_stats_per_partition, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ecc_error_is_a_torn_read, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
