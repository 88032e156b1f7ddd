/*
 * The boot stub: the first secure code after every reset, immutable (on
 * qemu-an505 QEMU loads it at 0x10000000 each power-on, like a ROM).
 *
 * It starts the kernel in the kernel slot only after the whole check of
 * docs/SPEC.md §19.3: the seal's certificate chains to the trusted root
 * (boot_port_root_hash), the seal's signature, the kernel version against the
 * anti-rollback counter, the image's hash, then the vector table (word 0 the
 * initial stack pointer in kernel RAM, word 1 a Thumb reset handler inside the
 * slot). A refusal prints `[boot] kernel refused: <reason>` on the kernel
 * console and halts (boot_port_halt); the kernel is never started.
 */
#include <stdbool.h>
#include <stdint.h>

#include "board.h"
#include "boot_port.h"
#include "bw_kernel_seal.h"
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

/* The version as major.minor.patch (major<<24 | minor<<16 | patch). */
static void say_version(uint32_t version)
{
    uint32_t parts[3] = {version >> 24, (version >> 16) & 0xFFu, version & 0xFFFFu};
    char text[20];
    size_t len = 0;
    for (int i = 0; i < 3; i++) {
        char digits[5];
        int n = 0;
        do {
            digits[n++] = (char)('0' + parts[i] % 10u);
            parts[i] /= 10u;
        } while (parts[i] != 0);
        while (n > 0) {
            text[len++] = digits[--n];
        }
        text[len++] = i < 2 ? '.' : '\0';
    }
    say(text);
}

static _Noreturn void refuse(const char *reason)
{
    say("[boot] kernel refused: ");
    say(reason);
    say("\n");
    boot_port_halt();
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
    const uint8_t *slot = (const uint8_t *)BOARD_KERNEL_SLOT_BASE;
    uint32_t floor = bw_rollback_floor((const uint8_t *)BOARD_ROLLBACK_BASE, BOARD_ROLLBACK_SIZE);
    bw_seal seal;
    bw_seal_error err = bw_seal_verify((const uint8_t *)BOARD_KERNEL_SEAL_BASE, BOARD_KERNEL_SEAL_SIZE,
                                       slot, BOARD_KERNEL_SLOT_SIZE, BOARD_BUNDLE_ID,
                                       boot_port_root_hash(), floor, &seal);
    if (err != BW_SEAL_OK) {
        refuse(bw_seal_describe(err));
    }
    const volatile uint32_t *vectors = (const volatile uint32_t *)BOARD_KERNEL_SLOT_BASE;
    uint32_t sp = vectors[0], entry = vectors[1];
    if (!vectors_ok(sp, entry)) {
        refuse("bad vector table");
    }
    say("[boot] kernel ");
    say_version(seal.version);
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
