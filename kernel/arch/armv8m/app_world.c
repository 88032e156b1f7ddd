/*
 * Starting and restarting the app in the non-secure world.
 *
 * The app always starts the same way, first boot or restart: from secure
 * handler mode (PendSV_S, or a fault handler) the kernel tears down whatever
 * the app left (its interrupts, active exceptions, masks, stack pointers and
 * limits), builds an exception frame on the app's initial stack that "returns"
 * to the app's reset handler, and exception-returns into non-secure thread
 * mode (exceptions.S: arch_enter_app). Nothing secure stays live below that,
 * so the secure stack is dropped each time.
 *
 * The app image is untrusted: a vector table whose stack or entry lies
 * outside the app's memory does not start; the kernel parks instead.
 */
#include <stdbool.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>

#include "arch.h"
#include "armv8m.h"
#include "armv8m_port.h"
#include "board.h"
#include "bw_board.h"
#include "bw_kernel.h"
#include "bw_log.h"
#include "bw_port.h"

static volatile bool restart_pending;
static volatile enum MvWakeReason restart_reason = MV_WAKEREASON_COLDBOOT;

#define PENDSV_PRIORITY 0x70u  /* the lowest secure priority; app priorities are 0x80.. (PRIS) */

void arch_init(void)
{
    size_t count;
    const bw_sau_region *regions = board_sau_regions(&count);

    SAU_CTRL = 0;
    for (size_t i = 0; i < count; i++) {
        SAU_RNR = (uint32_t)i;
        SAU_RBAR = regions[i].base & ~0x1Fu;
        SAU_RLAR = (regions[i].limit & ~0x1Fu) | SAU_RLAR_ENABLE
                 | (regions[i].non_secure_callable ? SAU_RLAR_NSC : 0u);
    }
    SAU_CTRL = SAU_CTRL_ENABLE;

    /* App faults escalate to the secure side (BFHFNMINS = 0); app priorities
     * sit below every secure one (PRIS); only the kernel may reset the chip. */
    SCB_AIRCR = AIRCR_VECTKEY | AIRCR_PRIS | AIRCR_SYSRESETREQS;
    SCB_SHCSR |= SHCSR_SECUREFAULTENA | SHCSR_USGFAULTENA | SHCSR_BUSFAULTENA | SHCSR_MEMFAULTENA;
    SCB_NSACR |= (1u << 10) | (1u << 11);   /* the app may use the FPU */
    SCB_SHPR3 = (SCB_SHPR3 & ~(0xFFu << 16)) | (PENDSV_PRIORITY << 16);
    armv8m_dsb_isb();
}

void arch_app_restart(enum MvWakeReason reason)
{
    uint32_t state = port_irq_lock();
    restart_reason = reason;
    restart_pending = true;
    SCB_ICSR = ICSR_PENDSVSET;
    port_irq_unlock(state);
}

void arch_app_start(enum MvWakeReason reason)
{
    arch_app_restart(reason);
    for (;;) {
        __asm volatile("wfi");
    }
}

void port_app_restart_request(void)
{
    arch_app_restart(MV_WAKEREASON_REMOTEAPPLICATIONRESTART);
}

/* PendSV_S body: nonzero when the app must be (re)started now. */
uint32_t arch_pendsv_work(void);
uint32_t arch_pendsv_work(void)
{
    return restart_pending ? 1u : 0u;
}

/* For a fault handler: start the app again after it crashed. */
void arch_app_crashed(void);
void arch_app_crashed(void)
{
    restart_reason = MV_WAKEREASON_APPLICATIONCRASH;
    restart_pending = true;
}

static bool app_entry_valid(uint32_t sp, uint32_t pc)
{
    /* Unsigned differences: also correct for a board whose app flash starts at 0. */
    bool sp_ok = (sp & 7u) == 0 && sp - BOARD_APP_RAM_BASE - 32u < BOARD_APP_RAM_SIZE - 31u;
    bool pc_ok = (pc & 1u) == 1u && pc - BOARD_APP_SLOT_BASE < BOARD_APP_SLOT_SIZE;
    return sp_ok && pc_ok;
}

static void app_state_reset(void)
{
    uint32_t zero = 0;

    armv8m_app_irqs_reset(BOARD_IRQ_COUNT);
    SCB_NS_SHCSR &= ~SHCSR_ACTIVE_MASK;
    SCB_NS_ICSR = ICSR_PENDSVCLR | (1u << 25);   /* unpend the app's PendSV and SysTick */
    SCB_NS_CFSR = SCB_NS_CFSR;                   /* write-one-to-clear */
    SCB_NS_HFSR = SCB_NS_HFSR;
    FPU_FPCCR &= ~FPCCR_LSPACT;
    __asm volatile(
        "msr primask_ns, %0\n"
        "msr basepri_ns, %0\n"
        "msr faultmask_ns, %0\n"
        "msr control_ns, %0\n"
        "msr psplim_ns, %0\n"
        "msr msplim_ns, %0\n"
        "msr psp_ns, %0\n"
        : : "r"(zero) : "memory");
}

/* Called by arch_enter_app: prepares the app's first frame; returns to the app. */
void arch_app_prepare(void);
void arch_app_prepare(void)
{
    const volatile uint32_t *vectors = (const volatile uint32_t *)(uintptr_t)board_app_vector_table();
    uint32_t sp = vectors[0];
    uint32_t pc = vectors[1];

    restart_pending = false;
    app_state_reset();
    bw_kernel_app_starting(restart_reason);

    if (!app_entry_valid(sp, pc)) {
        bw_log("no valid app in the app slot (sp=0x%08" PRIx32 " pc=0x%08" PRIx32 "): parked", sp, pc);
        for (;;) {
            __asm volatile("wfi");   /* interrupts still run the kernel */
        }
    }

    volatile uint32_t *frame = (volatile uint32_t *)(uintptr_t)(sp - 32u);
    frame[0] = 0;                     /* r0 */
    frame[1] = 0;                     /* r1 */
    frame[2] = 0;                     /* r2 */
    frame[3] = 0;                     /* r3 */
    frame[4] = 0;                     /* r12 */
    frame[5] = 0xFFFFFFFFu;           /* lr: returning from reset faults */
    frame[6] = pc & ~1u;              /* pc */
    frame[7] = 1u << 24;              /* xPSR: Thumb */
    SCB_NS_VTOR = (uint32_t)(uintptr_t)vectors;
    __asm volatile("msr msp_ns, %0" : : "r"(frame) : "memory");
    armv8m_dsb_isb();
}
