/*
 * The boot stub: the first secure code after every reset, immutable (on
 * qemu-an505 QEMU loads it at 0x10000000 each power-on, like a ROM).
 *
 * It starts the kernel in the kernel slot only after the whole check of
 * docs/SPEC.md §19.3: the seal's certificate chains to the trusted root
 * (boot_port_root_hash), the seal's signature, the kernel version against the
 * anti-rollback counter, the image's hash, then the vector table (word 0 the
 * initial stack pointer in kernel RAM, word 1 a Thumb reset handler inside the
 * slot). Where the board has the kernel areas of §19.5, bw_kslots_boot first
 * swaps in a staged kernel, counts its trial boots, goes back to the backup
 * or raises the counter (bw_kernel_slots.c). A refusal prints `[boot] kernel
 * refused: <reason>` on the kernel console and halts (boot_port_halt); the
 * kernel is never started.
 */
#include <stdbool.h>
#include <stdint.h>

#include "board.h"
#include "boot_port.h"
#include "bw_kernel_seal.h"
#include "bw_kernel_slots.h"
#include "bw_rollback.h"

#define SCB_VTOR (*(volatile uint32_t *)0xE000ED08u)

extern uint32_t __boot_stack_top[];
extern uint32_t __kernel_ram[], __kernel_ram_end[];

void boot_reset(void) __attribute__((noreturn, naked));
void boot_fault(void) __attribute__((noreturn));
void boot_main(void) __attribute__((noreturn));

void boot_fault(void)
{
    for (;;) {
        __asm volatile("bkpt 0");
    }
}

/* mbedTLS's mbedtls_platform_zeroize (MBEDTLS_PLATFORM_ZEROIZE_ALT): volatile
 * stores, which the compiler cannot drop. */
void mbedtls_platform_zeroize(void *buf, size_t len);
void mbedtls_platform_zeroize(void *buf, size_t len)
{
    volatile uint8_t *p = buf;
    while (len-- > 0) {
        *p++ = 0;
    }
}

static void say(const char *text)
{
    size_t len = 0;
    while (text[len] != '\0') {
        len++;
    }
    boot_port_console(text, len);
}

static _Noreturn void refuse(const char *reason)
{
    say("[boot] kernel refused: ");
    say(reason);
    say("\n");
    boot_port_halt();
}

/* The slot and its seal make one area (image, then seal), as KERNEL_NEW/OLD. */
_Static_assert(BOARD_KERNEL_SEAL_BASE == BOARD_KERNEL_SLOT_BASE + BOARD_KERNEL_SLOT_SIZE,
               "the seal follows the kernel slot");

/* The stub keeps no RAM state, so it counts no flash work (bw_flash.c). */
void bw_flash_count(const bw_flash_partition *p, uint32_t erased, uint32_t programmed)
{
    (void)p;
    (void)erased;
    (void)programmed;
}

/* bw_kslots's verify: §19.3 checks 1-6 of the kernel in area (ctx: the
 * boot_kernel_areas), read in place; 0 or a bw_seal_error. */
/* The system-call gate runs in secure state: where the board's map puts it
 * outside the kernel slot (STM32U585: the original Microvisor's last flash
 * page), the seal's hash covers its region after the image (SPEC §19.2). */
#define GATE_IN_SLOT (BOARD_GATE_BASE >= BOARD_KERNEL_SLOT_BASE \
                      && BOARD_GATE_BASE + BOARD_GATE_SIZE <= BOARD_KERNEL_SLOT_BASE + BOARD_KERNEL_SLOT_SIZE)
#define GATE_EXTENT_SIZE (GATE_IN_SLOT ? 0u : BOARD_GATE_SIZE)

static int verify_area(void *ctx, const bw_flash_partition *area, uint32_t floor, uint32_t *version)
{
    const boot_kernel_areas *areas = ctx;
    const uint8_t *base = (const uint8_t *)(areas->mapped + area->offset);
    bw_seal seal;
    bw_seal_error err = bw_seal_verify(base + BOARD_KERNEL_SLOT_SIZE, area->size - BOARD_KERNEL_SLOT_SIZE,
                                       base, BOARD_KERNEL_SLOT_SIZE, (const uint8_t *)BOARD_GATE_BASE,
                                       GATE_EXTENT_SIZE, BOARD_BUNDLE_ID, boot_port_root_hash(), floor,
                                       &seal);
    if (err == BW_SEAL_OK) {
        *version = seal.version;
    }
    return (int)err;
}

static const char *describe(int error)
{
    return bw_seal_describe((bw_seal_error)error);
}

static uint32_t counter(void *ctx)
{
    (void)ctx;
    return bw_rollback_floor((const uint8_t *)BOARD_ROLLBACK_BASE, BOARD_ROLLBACK_SIZE);
}

static bw_err raise_counter(void *ctx, uint32_t version)
{
    const boot_kernel_areas *areas = ctx;
    return bw_rollback_raise(&areas->rollback, version);
}

static void say_to(void *ctx, const char *text)
{
    (void)ctx;
    say(text);
}

/* The kernel to start: through the journal where the board has the kernel
 * areas, else the one slot as it is. False (reasons printed): none. */
static bool choose_kernel(uint32_t *version)
{
    boot_kernel_areas areas;
    if (boot_port_kernel_areas(&areas)) {
        const bw_kslots slots = {
            .slot = areas.slot, .staged = areas.staged, .backup = areas.backup, .state = areas.state,
            .image_size = BOARD_KERNEL_SLOT_SIZE, .verify = verify_area, .describe = describe,
            .error_empty = BW_SEAL_E_EMPTY, .floor = counter, .raise = raise_counter,
            .say = say_to, .ctx = &areas,
        };
        return bw_kslots_boot(&slots, version);
    }
    areas = (boot_kernel_areas){
        .slot = { NULL, BOARD_KERNEL_SLOT_BASE, BOARD_KERNEL_SLOT_SIZE + BOARD_KERNEL_SEAL_SIZE },
    };
    int err = verify_area(&areas, &areas.slot, counter(NULL), version);
    if (err != 0) {
        refuse(describe(err));
    }
    return true;
}

static bool vectors_ok(uint32_t sp, uint32_t entry)
{
    uint32_t ram = (uint32_t)(uintptr_t)__kernel_ram, ram_end = (uint32_t)(uintptr_t)__kernel_ram_end;
    return sp > ram && sp <= ram_end && (sp & 7u) == 0 && (entry & 1u)
           && entry > BOARD_KERNEL_SLOT_BASE && entry < BOARD_KERNEL_SLOT_BASE + BOARD_KERNEL_SLOT_SIZE;
}

void boot_main(void)
{
    boot_port_init();
    uint32_t version;
    if (!choose_kernel(&version)) {
        boot_port_halt();
    }
    const volatile uint32_t *vectors = (const volatile uint32_t *)BOARD_KERNEL_SLOT_BASE;
    uint32_t sp = vectors[0], entry = vectors[1];
    if (!vectors_ok(sp, entry)) {
        refuse("bad vector table");
    }
    char text[16];
    bw_kslots_version_text(version, text);
    say("[boot] kernel ");
    say(text);
    say(" verified\n");
    SCB_VTOR = BOARD_KERNEL_SLOT_BASE;
    __asm volatile(
        "msr msp, %0\n"
        "dsb\n"
        "isb\n"
        "bx %1\n"
        : : "r"(sp), "r"(entry) : "memory");
    __builtin_unreachable();
}

void boot_reset(void)
{
    __asm volatile(
        "ldr r0, =__boot_stack_top\n"
        "msr msp, r0\n"
        "b boot_main\n");
}

typedef void (*vector)(void);

__attribute__((section(".vectors"), used))
const vector boot_vectors[4] = {
    (vector)(uintptr_t)__boot_stack_top,
    boot_reset,
    boot_fault,   /* NMI */
    boot_fault,   /* HardFault */
};
