/*
 * reserved: the app cannot reach what the kernel keeps: kernel RAM (both
 * aliases), the SSRAM3 blocks past app RAM, kernel flash and the identity
 * page, the kernel console UART1, the modem UART2, the local link UART3, the
 * secure watchdog, the kernel's TIMER1, the FPGAIO block (mediated only), the MPCs, every other
 * reset source of the chip (the NS watchdog, the S32K watchdog, the system
 * control element's reset registers, the SCC; and AIRCR.SYSRESETREQ, which
 * is ignored rather than faulting: checked at the end, the chip never
 * resets), and it cannot call into kernel code, past a gate entry's SG, or
 * into the boot ROM.
 *
 * Each step is one forbidden access (read, write or call). Every one must be
 * stopped by a fault that the kernel catches, logs ("app crash: <exception>:
 * <cause>") and survives by restarting the app in place with wake reason
 * APPLICATIONCRASH; the step number lives in .noinit (with a magic; a cold
 * boot starts at step 0), so each run goes on with the next step. The test
 * matches the kernel log: exactly one crash per faulting step, in order, each
 * with the exception, cause and (where the hardware gives one) address or pc
 * the step must give.
 *
 * Writes must not take effect: no stray '#' on the kernel console (the test
 * checks), the LED keeps the value the app set through the kernel, kernel
 * RAM writes leave the kernel serving calls, the kernel clock keeps running
 * after the TIMER1 write, and the identity page still gives the device ID.
 * Every run checks that the kernel answers and its clock moved on, and
 * confirms itself healthy (bwAppConfirmHealthy): each fault is then a first
 * crash after a healthy run, which the kernel restarts at once instead of
 * backing off (the steps are deliberate, not a crash loop).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bulwark_board.h"
#include "bulwark_ext.h"
#include "check.h"
#include "memory_map.h"
#include "mv_syscalls.h"

#define RUN_MAGIC 0x52535644u
#define FPGAIO_LED 0x40302000u
#define EXPECTED_DEVICE_ID "BW00112233445566778899AABBCCDDEEFF"   /* run_test.py --device-id */

typedef enum access { READ, WRITE, CALL } access;

typedef struct step {
    access how;
    uint32_t address;
    const char *what;
} step;

#define WDOG_UNLOCK_KEY 0x1ACCE551u   /* CMSDK watchdog LOCK: makes its registers writable */
#define SWRESETREQ (1u << 9)          /* system control element SWRESET: resets the chip */
#define AIRCR (*(volatile uint32_t *)0xE000ED0Cu)
#define AIRCR_VECTKEY 0x05FA0000u
#define AIRCR_SYSRESETREQ (1u << 2)

#define KERNEL_RAM BOARD_KERNEL_RAM_BASE
#define NS_ALIAS(a) ((a) - 0x10000000u)   /* SSRAM2/SSRAM3's non-secure alias */
#define UART1_CTRL 0x40201008u   /* the kernel enabled its console: reads 3 when reachable */

/* Keep in step with RESERVED_CRASHES in tests/qemu/CMakeLists.txt (one entry
 * per FAULT step, in this order). */
static const step steps[] = {
    { READ, KERNEL_RAM, "kernel RAM (secure)" },
    { WRITE, KERNEL_RAM, "kernel RAM (secure)" },
    { READ, NS_ALIAS(KERNEL_RAM), "kernel RAM (non-secure alias)" },
    { WRITE, NS_ALIAS(KERNEL_RAM), "kernel RAM (non-secure alias)" },
    { READ, KERNEL_RAM + 0x10000u, "kernel RAM (secure)" },
    { WRITE, KERNEL_RAM + 0x10000u, "kernel RAM (secure)" },
    { READ, BOARD_APP_RAM_BASE + BOARD_APP_RAM_SIZE, "SSRAM3 past app RAM" },
    { READ, BOARD_KERNEL_SLOT_BASE, "kernel flash" },
    { WRITE, BOARD_KERNEL_SLOT_BASE, "kernel flash" },
    { READ, BOARD_IDENTITY_BASE, "identity page" },
    { WRITE, BOARD_IDENTITY_BASE, "identity page" },
    { READ, UART1_CTRL, "kernel console UART1 CTRL" },
    { WRITE, 0x40201000u, "kernel console UART1 DATA ('#')" },
    { READ, 0x50201000u, "kernel console UART1 (secure alias)" },
    { READ, 0x40202000u, "modem UART2" },
    { WRITE, 0x40202000u, "modem UART2" },
    { READ, 0x40203000u, "local link UART3" },
    { WRITE, 0x40203000u, "local link UART3" },
    { READ, 0x50081000u, "secure watchdog" },
    { WRITE, 0x50081000u, "secure watchdog" },
    { READ, 0x40001000u, "kernel timer TIMER1" },
    { WRITE, 0x40001000u, "kernel timer TIMER1 (CTRL = 0)" },
    { READ, 0x40302000u, "FPGAIO LED, directly" },
    { WRITE, 0x40302000u, "FPGAIO LED, directly" },
    { READ, 0x58007000u, "MPC (SSRAM1)" },
    { WRITE, 0x58009000u, "MPC (SSRAM3) CTRL" },
    { READ, 0x40081000u, "NS watchdog LOAD" },
    { WRITE, 0x40081C00u, "NS watchdog LOCK (unlock key)" },
    { READ, 0x5002E000u, "S32K watchdog LOAD" },
    { WRITE, 0x5002EC00u, "S32K watchdog LOCK (unlock key)" },
    { READ, 0x50021100u, "system control RESET_SYNDROME" },
    { WRITE, 0x50021108u, "system control SWRESET (SWRESETREQ)" },
    { READ, 0x40300000u, "SCC CFG_REG0" },
    { WRITE, 0x40300000u, "SCC CFG_REG0" },
    { CALL, BOARD_KERNEL_SLOT_BASE + 0x801u, "kernel code" },
    { CALL, BOARD_GATE_BASE + 5u, "the gate, past an entry's SG" },
    { CALL, BOARD_BOOT_ROM_BASE + 1u, "secure boot ROM" },
};
#define STEP_COUNT (sizeof steps / sizeof steps[0])

static struct {
    uint32_t magic;
    uint32_t next_step;     /* the step this run performs */
    uint32_t in_flight;     /* 1 while a step's access is being tried */
    uint32_t faults;        /* steps that ended in a crash */
    uint32_t checks;
    uint32_t failures;
    uint32_t led_before;    /* mediated LED value before the step */
    uint64_t last_us;
} carried __attribute__((section(".noinit")));

static const char *how_name(access how)
{
    return how == READ ? "read" : how == WRITE ? "write" : "call";
}

static uint32_t read_led(void)
{
    uint32_t led = 0xDEADBEEFu;
    (void)mvPeriphPeek32(FPGAIO_LED, &led);
    return led;
}

/* Checks what the previous run's step must have left as it was. */
static void after_fault(const step *s, uint32_t index, enum MvWakeReason reason)
{
    check_u32(reason, MV_WAKEREASON_APPLICATIONCRASH, "step %" PRIu32 " (%s %s 0x%08" PRIx32
              "): stopped by a fault, app restarted", index, how_name(s->how), s->what, s->address);
    carried.faults++;
}

static void every_run(void)
{
    check_status(mvNoOp(), MV_STATUS_OKAY, "run %" PRIu32 ": mvNoOp", carried.next_step);
    uint64_t now = 0;
    check_status(mvGetMicroseconds(&now), MV_STATUS_OKAY, "run %" PRIu32 ": mvGetMicroseconds",
                 carried.next_step);
    char before[21];
    check_true(now > carried.last_us, "not later", check_u64_text(before, carried.last_us),
               "run %" PRIu32 ": the kernel's clock moved on", carried.next_step);
    carried.last_us = now;
    check_status(bwAppConfirmHealthy(), MV_STATUS_OKAY, "run %" PRIu32 ": bwAppConfirmHealthy",
                 carried.next_step);
}

static void finish(void)
{
    uint8_t id[34];
    check_status(mvGetDeviceId(id, sizeof id), MV_STATUS_OKAY, "mvGetDeviceId after the steps");
    check_text(id, EXPECTED_DEVICE_ID, sizeof id, "device ID intact after the identity page write");
    check_u32(read_led(), carried.led_before, "LED as the app left it through the kernel");
    /* The one reset source that does not fault: AIRCR.SYSRESETREQS makes the
     * app's request a no-op (the test also checks the kernel started once). */
    AIRCR = AIRCR_VECTKEY | AIRCR_SYSRESETREQ;
    __asm volatile("dsb\n isb" : : : "memory");
    uint64_t start = 0, now = 0;
    (void)mvGetMicroseconds(&start);
    do {
        (void)mvGetMicroseconds(&now);   /* 10 ms for a reset that would come */
    } while (now - start < 10000u);
    check_true(true, "", "", "AIRCR.SYSRESETREQ from the app is ignored");
    printf("reserved: %u steps, %" PRIu32 " stopped by a fault\n", (unsigned)STEP_COUNT, carried.faults);
    carried.magic = 0;
    check_finish("reserved", 0, 0);   /* check_total/failures already hold earlier runs' */
}

/* What a WRITE step stores: the value that would do harm if it got through. */
static uint32_t write_value(uint32_t address)
{
    switch (address) {
    case 0x40081C00u:
    case 0x5002EC00u:
        return WDOG_UNLOCK_KEY;
    case 0x50021108u:
        return SWRESETREQ;
    default:
        return 0;
    }
}

/* Does the step's access; returns what a read gave (0 otherwise). */
static uint32_t perform(const step *s)
{
    volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)s->address;
    uint32_t value = 0;
    switch (s->how) {
    case READ:
        value = *p;
        break;
    case WRITE:
        if (s->address == FPGAIO_LED) {
            *p = carried.led_before ^ 0x3u;
        } else if (s->address == 0x40201000u) {
            *p = '#';   /* the UART data register: a '#' on the kernel console */
        } else {
            *p = write_value(s->address);
        }
        break;
    case CALL:
        ((void (*)(void))(uintptr_t)s->address)();
        break;
    }
    __asm volatile("dsb\n isb" : : : "memory");
    return value;
}

int main(void)
{
    enum MvWakeReason reason = (enum MvWakeReason)0x55;
    check_status(mvGetWakeReason(&reason), MV_STATUS_OKAY, "mvGetWakeReason");
    if (reason == MV_WAKEREASON_COLDBOOT || carried.magic != RUN_MAGIC) {
        check_u32(reason, MV_WAKEREASON_COLDBOOT, "a run without carried state is a cold boot");
        memset(&carried, 0, sizeof carried);
        carried.magic = RUN_MAGIC;
    } else {
        check_total += carried.checks;
        check_failures += carried.failures;
    }
    printf("reserved: run from step %" PRIu32 ", wake reason %u\n", carried.next_step, (unsigned)reason);

    if (carried.in_flight) {
        after_fault(&steps[carried.next_step], carried.next_step, reason);
        carried.in_flight = 0;
        carried.next_step++;
    }
    every_run();
    /* Make the LED nonzero, so that a direct read that got through would show. */
    (void)mvPeriphPoke32(FPGAIO_LED, 0x2u, 0x2u);

    for (; carried.next_step < STEP_COUNT; carried.next_step++) {
        const step *s = &steps[carried.next_step];
        carried.led_before = read_led();
        printf("reserved: step %" PRIu32 ": %s %s at 0x%08" PRIx32 "\n", carried.next_step,
               how_name(s->how), s->what, s->address);
        fflush(stdout);
        carried.checks = check_total;
        carried.failures = check_failures;
        carried.in_flight = 1;
        uint32_t value = perform(s);
        carried.in_flight = 0;
        /* Still here: the access was not stopped by a fault. */
        char got[32];
        snprintf(got, sizeof got, "no fault (read 0x%08" PRIx32 ")", value);
        check_true(false, got, "a fault", "step %" PRIu32 ": %s %s 0x%08" PRIx32 " stopped",
                   carried.next_step, how_name(s->how), s->what, s->address);
    }
    finish();
}
