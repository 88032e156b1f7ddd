/* The board-independent Armv8-M part of the port contract (armv8m_port.h). */
#include <arm_cmse.h>

#include "armv8m.h"
#include "board.h"
#include "armv8m_port.h"

uint32_t port_irq_lock(void)
{
    return armv8m_primask_save_disable();
}

void port_irq_unlock(uint32_t state)
{
    armv8m_primask_restore(state);
}

void port_irq_pend(uint32_t irqn)
{
    NVIC_ISPR(irqn / 32u) = 1u << (irqn % 32u);
}

bool port_app_in_interrupt(void)
{
    return armv8m_ipsr() != 0;
}

bool armv8m_app_access_ok(uintptr_t addr, size_t len, bw_access access)
{
    uint32_t control_ns;
    __asm volatile("mrs %0, control_ns" : "=r"(control_ns));
    int flags = CMSE_NONSECURE | (access == BW_ACCESS_READWRITE ? CMSE_MPU_READWRITE : CMSE_MPU_READ);
    if (armv8m_ipsr() == 0 && (control_ns & 1u)) {
        flags |= CMSE_MPU_UNPRIV;   /* the caller is an unprivileged app thread */
    }
    return cmse_check_address_range((void *)addr, len, flags) != NULL;
}

void armv8m_app_irqs_reset(uint32_t irq_count)
{
    for (uint32_t word = 0; word < (irq_count + 31u) / 32u; word++) {
        uint32_t app = NVIC_ITNS(word);
        NVIC_ICER(word) = app;
        NVIC_ICPR(word) = app;
    }
    for (uint32_t irq = 0; irq < irq_count; irq++) {
        if (NVIC_ITNS(irq / 32u) & (1u << (irq % 32u))) {
            NVIC_IPR_BYTE(irq) = 0;
        }
    }
}

void armv8m_system_reset(void)
{
    armv8m_dsb_isb();
    SCB_AIRCR = AIRCR_VECTKEY | AIRCR_PRIS | AIRCR_SYSRESETREQS | AIRCR_SYSRESETREQ;
    armv8m_dsb_isb();
    for (;;) {
    }
}

/* Memory-mapped flash: the board's provisioning sector (identity record,
 * trusted keys) read directly at BOARD_IDENTITY_BASE (secure). */
bw_err port_provisioning_read(uint32_t offset, void *buf, uint32_t len)
{
    if (offset > BOARD_IDENTITY_SIZE || len > BOARD_IDENTITY_SIZE - offset) {
        return BW_E_SIZE;
    }
    const volatile uint8_t *flash = (const volatile uint8_t *)(uintptr_t)(BOARD_IDENTITY_BASE + offset);
    uint8_t *out = buf;
    for (uint32_t i = 0; i < len; i++) {
        out[i] = flash[i];
    }
    return BW_OK;
}
