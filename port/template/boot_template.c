/*
 * TEMPLATE: the boot stub's side of the port contract (boot/boot_port.h).
 * The stub verifies the kernel (docs/SPEC.md §19) with no heap and no RAM
 * state; these three are all it needs from the board.
 */
#include "board.h"
#include "boot_port.h"

/* TODO: the SHA-256 of the kernel root's public key, from storage nothing can
 * rewrite: OTP programmed at provisioning (as on the STM32U585), or the stub's
 * own image if the chip boots it from ROM. All zeros trusts no root. */
static const uint8_t root_hash[32] = {0};

void boot_port_init(void)
{
    /* TODO: make the kernel console ready (the kernel sets it up again later). */
}

void boot_port_console(const char *text, size_t len)
{
    /* TODO: write to the kernel console, polled. */
    (void)text;
    (void)len;
}

const uint8_t *boot_port_root_hash(void)
{
    return root_hash;
}

void boot_port_halt(void)
{
    /* TODO: stop for good; a debugger may find the core here. */
    for (;;) {
        __asm volatile("wfi");
    }
}
